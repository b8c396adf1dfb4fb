/**
 * Gatehouse at a fintech, in one process: the models layer routes document parsing, contract analysis and
 * internal questions (and absorbs a provider outage), the tools layer puts five MCP servers behind one set of
 * access rules, and the agents layer runs a fraud-detection workflow as a checkpointed session with an approval.
 *
 * Offline by default (scripted stand-ins for the providers); with OPENAI_API_KEY and ANTHROPIC_API_KEY set it
 * calls the real providers. Run: `npm run demo`.
 */
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { RunResult } from '@gatehouse/agents';
import { GatehouseError } from '@gatehouse/core';
import { costReport, defaultPrices, type ModelCallEvent } from '@gatehouse/models';
import type { ToolCallEvent } from '@gatehouse/tools';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { fintechGateway } from './gateway.js';
import { createProviders, modelNames } from './providers.js';
import { auditLines, costLines, type SpanRecord, spanRecords, traceTree } from './report.js';
import { type Backoffice, backofficeServers } from './servers.js';
import { fraudAgents } from './workflow.js';

export interface DemoOptions {
  /** Call the real providers. Default: when both OPENAI_API_KEY and ANTHROPIC_API_KEY are set. */
  live?: boolean;
  /** Where progress and the report go, line by line. Default `console.log`. */
  log?: (line: string) => void;
  /** Where `trace.json` is written. Default `examples/fintech/out`. */
  outDir?: string;
}

/** The facts of one run, for the test and for anyone embedding the demo. */
export interface DemoResult {
  mode: 'offline' | 'live';
  documents: { answer: string; target: string | undefined; attempts: number };
  contract: { answer: string };
  internal: { answer: string };
  denied: { code: string; message: string } | undefined;
  session: {
    id: string;
    /** The tool calls the session paused for, each approved. */
    approved: string[];
    /** The status checkpointed while it waited. */
    checkpointedStatus: string | undefined;
    result: RunResult;
  };
  backoffice: Backoffice;
  costs: { byTeam: Record<string, number>; total: number };
  audit: ToolCallEvent[];
  trace: { file: string; spans: SpanRecord[] };
}

const contractText = `# Merchant acquiring agreement: NorthBank Payments AB and Finly Ltd

§3 Settlement. Funds are settled T+2 in EUR to the merchant's nominated account.
§7.1 Chargebacks. The merchant bears chargebacks on its own transactions.
§7.2 Excess chargebacks. Where chargebacks exceed 0.9% of monthly volume, the merchant is liable for all
     resulting scheme fines and fees, without limit.
§11 Fees. The acquirer may change interchange and scheme fees on 14 days written notice.
§14 Term. Three years, renewing yearly unless terminated with 90 days notice.
`;

const disputeForm = `CHARGEBACK FORM — case D-88
Cardholder: M. Lindqvist   Merchant: Nordic Electronics AB   Amount: EUR 1,249.00   Date: 2026-11-23
Reason: ordered a laptop, never delivered; merchant does not answer. Cardholder called on 2026-11-24.`;

/** Runs the whole demo and answers what happened. */
export async function main(options: DemoOptions = {}): Promise<DemoResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const live = options.live ?? Boolean(process.env.OPENAI_API_KEY && process.env.ANTHROPIC_API_KEY);
  const outDir = options.outDir ?? fileURLToPath(new URL('../out/', import.meta.url));

  // The app's OpenTelemetry SDK: an in-memory exporter, so the trace can be printed and saved at the end.
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(tracerProvider);

  // Undone in reverse order at the end, however far the set-up got.
  const cleanup: (() => Promise<unknown>)[] = [];
  try {
    const workDir = await realpath(await mkdtemp(join(tmpdir(), 'gatehouse-fintech-')));
    cleanup.push(() => rm(workDir, { recursive: true, force: true }));
    const contractPath = join(workDir, 'contracts', 'acquirer-agreement.md');
    await mkdir(join(workDir, 'contracts'));
    await writeFile(contractPath, contractText);
    const sessionsDir = join(workDir, 'sessions');

    const providers = await createProviders(live);
    cleanup.push(() => providers.close());
    const backoffice = backofficeServers();
    const gateway = fintechGateway({ providers, servers: backoffice.servers, workDir, sessionsDir });
    cleanup.push(() => gateway.close());

    // Audit sink and progress: the same facts as the spans, as events.
    const modelCalls: ModelCallEvent[] = [];
    const toolCalls: ToolCallEvent[] = [];
    gateway.events.onAny((event) => {
      if (event.type === 'model-call') modelCalls.push(event as ModelCallEvent);
      else if (event.type === 'tool-call') toolCalls.push(event as ToolCallEvent);
      else if (event.type === 'agent-step') {
        const calls = event.toolCalls.map((name) => name.replace(/^transfer_to_(.*)$/, 'hand over to $1'));
        log(`     ${event.agent.padEnd(9)} step ${event.step}: ${calls.join(', ') || 'final answer'}`);
      }
    });

    const openai = gateway.wrap(providers.openai);
    const anthropic = gateway.wrap(providers.anthropic);
    const text = (value: unknown) =>
      Array.isArray(value)
        ? value.map((part: { text?: string }) => part.text ?? '').join('')
        : typeof value === 'string'
          ? value
          : '';

    log(
      `Gatehouse fintech demo — ${providers.mode === 'offline' ? 'offline: scripted stand-ins for OpenAI, Anthropic and the self-hosted model' : 'live: real OpenAI and Anthropic APIs'}\n`,
    );
    if (providers.mode === 'offline' && (process.env.OPENAI_API_KEY || process.env.ANTHROPIC_API_KEY))
      log('(one API key is set; set both OPENAI_API_KEY and ANTHROPIC_API_KEY to call the real providers)\n');
    log('models');

    // 1. Document parsing on the OpenAI route; offline, gpt-4o is down and the Anthropic fallback answers.
    const parsed = await gateway.run({ principal: { team: 'disputes', user: 'erik' } }, () =>
      openai.chat.completions.create({
        model: 'documents',
        messages: [
          { role: 'system', content: 'Extract disputeId, merchant, amountEur, reason, cardholderContacted as JSON.' },
          { role: 'user', content: disputeForm },
        ],
      }),
    );
    const documentsCall = modelCalls.findLast((call) => call.route === 'documents');
    const documents = {
      answer: parsed.choices[0]?.message.content ?? '',
      target: documentsCall?.target,
      attempts: documentsCall?.attempts ?? 0,
    };
    const outage = documents.attempts > 1 ? `primary down (${documents.attempts - 1} failed attempts), ` : '';
    log(`  1. disputes  parse a chargeback form on 'documents': ${outage}answered by ${documents.target}`);
    log(`               ${documents.answer}`);

    // 2. Contract analysis on the Anthropic route, the contract read through the filesystem MCP server.
    const contract = await gateway.run({ principal: { team: 'legal', user: 'sofia' } }, async () => {
      const file = await gateway.tools.callTool('files__read_text_file', { path: contractPath });
      const message = await anthropic.messages.create({
        model: 'contracts',
        max_tokens: 1024,
        system: 'You review payment contracts for a fintech. Name the clauses that carry unbounded risk.',
        messages: [{ role: 'user', content: `Review this agreement:\n\n${text(file.content)}` }],
      });
      return { answer: text(message.content) };
    });
    log(`  2. legal     files__read_text_file, then 'contracts' on ${modelNames.contracts}:`);
    log(`               ${contract.answer}`);

    // 3. An internal question on the self-hosted model; its answer carries a card number, which is redacted.
    const asked = await gateway.run({ principal: { team: 'support', user: 'amir' } }, () =>
      openai.chat.completions.create({
        model: 'internal',
        messages: [{ role: 'user', content: 'Which card was charged in dispute D-88, and was it refunded?' }],
      }),
    );
    const internal = { answer: asked.choices[0]?.message.content ?? '' };
    log(`  3. support   'internal' on the self-hosted model, card number redacted on the way out:`);
    log(`               ${internal.answer}`);

    // 4. The tools layer refuses what an agent's rules do not grant, and audits the refusal.
    log('\ntools');
    let denied: DemoResult['denied'];
    try {
      await gateway.run({ principal: { team: 'risk', agent: 'analyst' } }, () =>
        gateway.tools.callTool('slack__post_message', { channel: '#general', text: 'ACC-2291 looks like fraud' }),
      );
    } catch (error) {
      if (!GatehouseError.isInstance(error)) throw error;
      denied = { code: error.code, message: error.message };
    }
    log(
      `  4. analyst   slack__post_message → ${denied ? `denied (${denied.code}): ${denied.message}` : 'allowed (!)'}`,
    );

    // 5. The fraud workflow as a checkpointed session; the alert to Slack waits for a person's approval.
    log('\nagents');
    const sessionId = 'fraud-case-7731';
    const { gatherer } = fraudAgents(gateway.tools);
    log(`  5. risk      fraud workflow, session ${sessionId} (gather data → analyse risk → notify)`);
    let result: RunResult = await gateway.run({ principal: { team: 'risk', user: 'fraud-monitor' } }, () =>
      gateway.agents.run(gatherer, 'Account ACC-2291 tripped the card-testing alert. Investigate and act.', {
        sessionId,
      }),
    );
    const approved: string[] = [];
    let checkpointedStatus: string | undefined;
    while (result.status === 'awaiting-approval') {
      const call = result.pending[0]!;
      checkpointedStatus = (await gateway.agents.session(sessionId))?.status;
      log(`     ⏸ paused: ${call.name} awaits approval; checkpoint ${join(sessionsDir, `${sessionId}.json`)}`);
      log(`       ${call.arguments}`);
      log(`     ✔ approved by the risk lead; the session goes on`);
      approved.push(call.name);
      result = await gateway.agents.approve(sessionId, call.id);
    }
    const sessionCost = modelCalls
      .filter((call) => call.sessionId === sessionId)
      .reduce((sum, call) => sum + (call.cost ?? 0), 0);
    log(`     ${result.status}: ${String(result.output ?? '')}`);
    log(`     session: ${result.usage.totalTokens} tokens, $${sessionCost.toFixed(4)}`);

    // The report: the trace, the costs per team, the audit of tool calls.
    const spans = spanRecords(exporter.getFinishedSpans());
    await mkdir(outDir, { recursive: true });
    const traceFile = join(outDir, 'trace.json');
    await writeFile(traceFile, `${JSON.stringify(spans, null, 2)}\n`);
    log(`\ntrace (${spans.length} spans, written to ${traceFile})`);
    for (const line of traceTree(spans)) log(line);

    const report = await costReport(gateway.store, { period: 'day' });
    const callsPerTeam: Record<string, number> = {};
    for (const call of modelCalls) {
      const team = call.principal.team ?? '(none)';
      callsPerTeam[team] = (callsPerTeam[team] ?? 0) + 1;
    }
    log(`\ncosts per team (prices as of ${defaultPrices.asOf})`);
    for (const line of costLines(report.byTeam, callsPerTeam)) log(line);

    log('\naudit of tool calls');
    for (const line of auditLines(toolCalls)) log(line);

    return {
      mode: providers.mode,
      documents,
      contract,
      internal,
      denied,
      session: { id: sessionId, approved, checkpointedStatus, result },
      backoffice: backoffice.state,
      costs: { byTeam: report.byTeam, total: report.total },
      audit: toolCalls,
      trace: { file: traceFile, spans },
    };
  } finally {
    for (const step of cleanup.reverse()) await step();
    await tracerProvider.shutdown();
    trace.disable();
    context.disable();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
