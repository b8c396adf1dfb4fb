import { EventBus, MemoryStore, mergeScope, type Scope, Telemetry } from '@gatehouse/core';
import { INVALID_SPAN_CONTEXT, type Tracer, trace } from '@opentelemetry/api';
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import type { Agent } from '../agent/index.js';
import { collectAgents } from '../agent/index.js';
import { Runner } from '../runner/index.js';
import type { RunResult } from '../runner/types.js';
import { type RunRecord, type RunRecordV1, type StepRecord, storeSessions, upgradeRecord } from '../session/index.js';

/** What `replay()` answers: identical, or where the agent code first did something else than recorded. */
export type ReplayResult =
  | { identical: true; result: RunResult }
  | {
      identical: false;
      /** The step (model call) where the run diverged. */
      step: number;
      /** Which part differs: `model`, `tools`, `messages[3]`, `end`. */
      path: string;
      expected: unknown;
      actual: unknown;
    };

class Divergence extends Error {
  constructor(
    readonly step: number,
    readonly path: string,
    readonly expected: unknown,
    readonly actual: unknown,
  ) {
    super(`replay diverged at step ${step} (${path})`);
  }
}

const span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
// Replays write no spans: they are a debugging aid, not traffic.
const silentTracer = { startSpan: () => span, startActiveSpan: () => span } as unknown as Tracer;

function same(left: unknown, right: unknown): boolean {
  return JSON.stringify(left) === JSON.stringify(right);
}

function compare(step: number, expected: StepRecord['request'], actual: ChatCompletionCreateParams): void {
  if (expected.model !== actual.model) throw new Divergence(step, 'model', expected.model, actual.model);
  const tools = (actual.tools ?? []).map((tool) => (tool.type === 'function' ? tool.function.name : tool.type));
  if (!same(expected.tools, tools)) throw new Divergence(step, 'tools', expected.tools, tools);
  const length = Math.max(expected.messages.length, actual.messages.length);
  for (let index = 0; index < length; index++) {
    if (!same(expected.messages[index], actual.messages[index])) {
      throw new Divergence(step, `messages[${index}]`, expected.messages[index], actual.messages[index]);
    }
  }
}

/**
 * Runs the agent code again against a session's run record: every `run()` of the session in order, with
 * the resumes that continued them; the model's answers and the tools' results come from the record, nothing
 * touches the network, and the first request that differs from the recorded one is reported. Approvals and
 * decisions are not asked again: the record holds what came of them. Use it to check that a change to instructions, tools or handoffs keeps a past session's
 * behaviour, or to find where it changes.
 *
 * @example
 * const state = await gateway.agents.session(id);
 * const report = await replay([triage, analyst], state!.record);
 * if (!report.identical) console.log(report.step, report.path, report.expected, report.actual);
 */
export async function replay(
  agents: Agent<any> | readonly Agent<any>[],
  record: RunRecord | RunRecordV1,
): Promise<ReplayResult> {
  const known = collectAgents(Array.isArray(agents) ? agents : [agents as Agent<any>]);
  const { runs, steps, sessionId } = upgradeRecord(record);
  for (const recorded of runs) {
    if (!known.has(recorded.agent)) {
      return {
        identical: false,
        step: recorded.firstStep,
        path: 'agent',
        expected: recorded.agent,
        actual: [...known.keys()],
      };
    }
  }
  let used = 0;
  // The step where the recorded run being replayed ended: a model call from there on belongs to the next run.
  let runEnd = 0;
  const client = {
    chat: {
      completions: {
        create: async (params: ChatCompletionCreateParams) => {
          const step = used++;
          const recorded = step < runEnd ? steps[step] : undefined;
          if (!recorded) throw new Divergence(step, 'end', 'no further model call', params);
          compare(step, recorded.request, params);
          return structuredClone(recorded.response);
        },
      },
    },
  };
  const toolResults = new Map<string, string | undefined>();
  for (const step of steps) {
    for (const call of step.toolCalls) toolResults.set(`${step.step}:${call.id}`, call.result);
  }
  const store = new MemoryStore();
  let scope = mergeScope({ principal: {}, sessionId: undefined, metadata: {}, signal: undefined }, { sessionId });
  const runner = new Runner({
    client,
    modelSpans: false,
    tools: undefined,
    sessions: storeSessions(store),
    concurrency: 1,
    cost: undefined,
    middleware: [],
    runtime: {
      telemetry: new Telemetry({ tracer: silentTracer }),
      events: new EventBus(),
      store,
      scope: () => scope,
      run<T>(inner: Scope, fn: () => T): T {
        const outer = scope;
        scope = mergeScope(outer, inner);
        try {
          return fn();
        } finally {
          scope = outer;
        }
      },
    },
    agents: [...known.values()],
    recordedToolResult: (step, callId) => toolResults.get(`${step}:${callId}`),
  });
  let result: RunResult | undefined;
  for (let index = 0; index < runs.length; index++) {
    const recorded = runs[index]!;
    runEnd = runs[index + 1]?.firstStep ?? steps.length;
    try {
      result = await runner.run(known.get(recorded.agent)!, recorded.input, { sessionId });
      // A run that reached a limit and was resumed continues in the record: resume it here too.
      while (result.status === 'limit' && used < runEnd) result = await runner.resume(sessionId);
    } catch (error) {
      if (error instanceof Divergence) {
        return { identical: false, step: error.step, path: error.path, expected: error.expected, actual: error.actual };
      }
      // A run that failed in the record too, at the same step, is replayed faithfully; the session goes on.
      if (recorded.status === 'failed' && used === runEnd) continue;
      return {
        identical: false,
        step: Math.max(0, used - 1),
        path: 'error',
        expected: steps[used] ? 'the recorded run' : 'the recorded final answer',
        actual: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      };
    }
    if (used < runEnd) return ended(used, steps[used]!.request);
    if (recorded.status === 'failed') {
      return { identical: false, step: Math.max(0, used - 1), path: 'end', expected: 'failed', actual: result.status };
    }
  }
  if (!result) return ended(0, steps[0]?.request);
  return { identical: true, result };
}

/** The replayed run ended where the record goes on. */
function ended(step: number, expected: unknown): ReplayResult {
  return { identical: false, step, path: 'end', expected, actual: 'the run ended' };
}
