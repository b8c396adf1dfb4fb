import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoResult, main } from './main.js';
import type { SpanRecord } from './report.js';

// Runs the whole demo offline, as `npm run demo` does, and checks what a reader of its output is told.
describe('the fintech demo', () => {
  let outDir: string;
  let result: DemoResult;
  const lines: string[] = [];

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'gatehouse-fintech-test-'));
    result = await main({ live: false, outDir, log: (line) => lines.push(line) });
  }, 60_000);

  afterAll(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  it('runs offline against the stand-in providers', () => {
    expect(result.mode).toBe('offline');
  });

  it('absorbs the outage of the primary document model with the Anthropic fallback', () => {
    // Two 503s from gpt-4o (the first attempt and its retry), then the fallback target answers.
    expect(result.documents).toMatchObject({ target: 'anthropic:claude-haiku-4-5', attempts: 3 });
    expect(JSON.parse(result.documents.answer)).toMatchObject({ disputeId: 'D-88', amountEur: 1249 });
    const failed = result.trace.spans.filter((span) => span.name === 'chat gpt-4o');
    expect(failed.map((span) => span.status)).toEqual(['error', 'error']);
  });

  it('analyses the contract read through the filesystem MCP server', () => {
    expect(result.contract.answer).toContain('§7.2');
    expect(result.audit[0]).toMatchObject({
      name: 'files__read_text_file',
      outcome: 'allowed',
      principal: { team: 'legal', user: 'sofia' },
    });
  });

  it('redacts the card number from the self-hosted model answer', () => {
    expect(result.internal.answer).toContain('[REDACTED:card]');
    expect(result.internal.answer).not.toMatch(/4111/);
    expect(lines.join('\n')).not.toMatch(/4111 1111/);
  });

  it('denies the analyst a Slack post and audits the refusal', () => {
    expect(result.denied?.code).toBe('GATEHOUSE_POLICY_DENIED');
    expect(result.denied?.message).toContain('slack__post_message');
    const refused = result.audit.filter((call) => call.outcome === 'denied');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ name: 'slack__post_message', principal: { agent: 'analyst' } });
    // The only Slack message is the approved alert, in the channel the notifier's rule allows.
    expect(result.backoffice.messages.map((message) => message.channel)).toEqual(['#fraud-ops']);
  });

  it('pauses the fraud session for approval, checkpointed, then finishes it', () => {
    expect(result.session.checkpointedStatus).toBe('awaiting-approval');
    expect(result.session.approved).toEqual(['send_fraud_alert']);
    expect(result.session.result).toMatchObject({ status: 'finished', agent: 'notifier' });
    expect(String(result.session.result.output)).toContain('FRAUD-1042');
    expect(result.backoffice.tickets).toEqual([
      expect.objectContaining({ key: 'FRAUD-1042', project: 'FRAUD', priority: 'Highest' }),
    ]);
    // Each agent reached its tools through the tools layer, under its own name.
    const byAgent = result.audit
      .filter((call) => call.outcome === 'allowed' && call.principal.agent)
      .map((call) => `${call.principal.agent}:${call.name}`);
    expect(byAgent).toEqual([
      'gatherer:db__get_account',
      'gatherer:db__query_transactions',
      'analyst:github__search_commits',
      'notifier:jira__create_ticket',
      'notifier:slack__post_message',
    ]);
  });

  it('prices the calls per team from the cost middleware', () => {
    expect(Object.keys(result.costs.byTeam).sort()).toEqual(['disputes', 'legal', 'risk', 'support']);
    for (const usd of Object.values(result.costs.byTeam)) expect(usd).toBeGreaterThan(0);
    // Seven model calls of the workflow at the triage and risk prices cost more than the single contract review.
    expect(result.costs.byTeam.risk).toBeGreaterThan(result.costs.byTeam.legal!);
  });

  it('writes the trace to a JSON file, one session one trace until the approval', async () => {
    const written = JSON.parse(await readFile(result.trace.file, 'utf8')) as SpanRecord[];
    expect(written).toEqual(JSON.parse(JSON.stringify(result.trace.spans)));
    const names = new Set(written.map((span) => span.name));
    for (const name of [
      'chat documents',
      'chat claude-haiku-4-5',
      'chat contracts',
      'chat internal',
      'execute_tool files__read_text_file',
      'execute_tool slack__post_message',
      'invoke_agent gatherer',
      'invoke_agent analyst',
      'invoke_agent notifier',
      'execute_tool db__query_transactions',
      'execute_tool send_fraud_alert',
    ]) {
      expect(names).toContain(name);
    }
    const gatherer = written.find((span) => span.name === 'invoke_agent gatherer')!;
    const analyst = written.find((span) => span.name === 'invoke_agent analyst')!;
    expect(analyst.traceId).toBe(gatherer.traceId);
    expect(analyst.parentSpanId).toBe(gatherer.spanId);
    expect(JSON.stringify(written)).not.toContain('offline-openai-key');
  });

  it('prints the trace tree, the costs per team and the audit', () => {
    const output = lines.join('\n');
    expect(output).toMatch(/^ {2}invoke_agent gatherer\s+[\d.]+ ms/m);
    expect(output).toMatch(/^ {4}invoke_agent analyst\s+[\d.]+ ms/m);
    expect(output).toContain('costs per team');
    expect(output).toMatch(/risk\/analyst\s+slack__post_message\s+denied/);
    expect(output).toContain('⏸ paused: send_fraud_alert awaits approval');
  });
});
