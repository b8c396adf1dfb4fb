import { type EventBase, type GatewayRuntime, isStore, type Layer, parseOptions, type Store } from '@gatehouse/core';
import { z } from 'zod';
import type { Agent, AgentLimits } from '../agent/index.js';
import { type Decision, Runner } from '../runner/index.js';
import type { ChatClient } from '../runner/model.js';
import { type ToolSource, toolLayerSource } from '../runner/tool-source.js';
import type { AgentEvent, CostFunction, RunOptions, RunResult, StepMiddleware } from '../runner/types.js';
import { isSessionStore, type SessionState, type SessionStore, storeSessions, type Usage } from '../session/index.js';

declare module '@gatehouse/core' {
  interface GatehouseEventMap {
    /** An agent finished a step (one model call and its tool calls). */
    'agent-step': EventBase & {
      agent: string;
      step: number;
      toolCalls: string[];
      usage: Usage;
      durationMs: number;
    };
    /** An agent handed the conversation to another. */
    'agent-handoff': EventBase & { from: string; to: string };
  }
}

export interface AgentsOptions {
  /** An OpenAI-shaped client (`chat.completions.create`); the models layer wraps it when the gateway has one. */
  client: ChatClient;
  /** Where sessions are checkpointed: a session store, or a core `Store` (used through `storeSessions`). Default: the gateway's store. */
  sessions?: { store: SessionStore | Store };
  /** Tool calls of one step that run at once (default 4). */
  concurrency?: number;
  /** Step middleware, outermost first; it wraps each step (model call, then its tool calls). */
  middleware?: readonly StepMiddleware[];
  /** Agents this process can resume, approve and decide for (agents passed to `run()` are added). */
  agents?: readonly Agent<any>[];
  /** Prices a model call in dollars, for `limits.dollars` and `result.cost`. */
  cost?: CostFunction;
  /** Where named tools come from; default: the gateway's tools layer. */
  tools?: ToolSource;
}

/** What `gateway.agents` offers. */
export interface AgentsApi {
  /**
   * Runs an agent on `input` until it answers, pauses (approval, decision) or reaches a limit; at a limit the
   * partial result comes back with `status: 'limit'` and the reason.
   */
  run<Output>(agent: Agent<Output>, input: string, options?: RunOptions): Promise<RunResult<Output>>;
  /** The same run, as events; the last one is `finished` with the result. */
  stream(agent: Agent<any>, input: string, options?: RunOptions): AsyncIterable<AgentEvent>;
  /** Continues a session from its last checkpoint, in this process or another. */
  resume(sessionId: string, options?: { signal?: AbortSignal }): Promise<RunResult>;
  approve(sessionId: string, callId: string): Promise<RunResult>;
  reject(sessionId: string, callId: string, reason?: string): Promise<RunResult>;
  /** Settles a tool call that started before a crash: `'retry'`, `'skip'` or `{ result }`. */
  decide(sessionId: string, callId: string, decision: Decision): Promise<RunResult>;
  /** The session as last checkpointed (messages, usage, pending calls, run record). */
  session(sessionId: string): Promise<SessionState | undefined>;
}

const optionsSchema = z.strictObject({
  client: z.custom<ChatClient>(
    (value) => typeof (value as ChatClient | undefined)?.chat?.completions?.create === 'function',
    { message: 'expected an OpenAI-shaped client with chat.completions.create (new OpenAI(), or scriptedModel())' },
  ),
  sessions: z
    .strictObject({
      store: z.custom<SessionStore | Store>((value) => isSessionStore(value) || isStore(value), {
        message: 'expected a session store (storeSessions(store), fileSessions(dir)) or a core Store',
      }),
    })
    .optional(),
  concurrency: z.number().int().positive().optional(),
  middleware: z.array(z.custom<StepMiddleware>((value) => typeof value === 'function')).optional(),
  agents: z.array(z.custom<Agent<any>>((value) => (value as Agent | undefined)?.kind === 'agent')).optional(),
  cost: z.custom<CostFunction>((value) => typeof value === 'function').optional(),
  tools: z
    .custom<ToolSource>(
      (value) =>
        typeof (value as ToolSource | undefined)?.listTools === 'function' &&
        typeof (value as ToolSource).callTool === 'function',
      { message: 'expected a tool source with listTools() and callTool(name, args)' },
    )
    .optional(),
});

function sessionsOf(store: SessionStore | Store): SessionStore {
  return isSessionStore(store) ? store : storeSessions(store);
}

/** A queue that a run pushes events into and `stream()` reads from. */
function eventQueue(): {
  push(event: AgentEvent): void;
  fail(error: unknown): void;
  iterate(): AsyncIterable<AgentEvent>;
} {
  const events: AgentEvent[] = [];
  let wake: (() => void) | undefined;
  let done = false;
  let failure: { error: unknown } | undefined;
  return {
    push(event) {
      events.push(event);
      if (event.type === 'finished') done = true;
      wake?.();
    },
    fail(error) {
      failure = { error };
      wake?.();
    },
    async *iterate() {
      for (;;) {
        while (events.length > 0) {
          const event = events.shift()!;
          yield event;
          if (event.type === 'finished') return;
        }
        if (failure) throw failure.error;
        if (done) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    },
  };
}

/**
 * The agents layer: runs agents as checkpointed sessions on top of the models and tools layers.
 *
 * @example
 * const gateway = createGateway({
 *   models: models({ … }),
 *   tools: tools({ … }),
 *   agents: agents({ client: new OpenAI(), sessions: { store: storeSessions(new RedisStore({ client: redis })) } }),
 * });
 * const result = await gateway.agents.run(analyst, 'Assess supplier ACME', { principal: { team: 'risk' } });
 */
export function agents(options: AgentsOptions): Layer<'agents', AgentsApi> {
  const parsed = parseOptions(optionsSchema, options, 'agents') as AgentsOptions;
  return {
    kind: 'agents',
    attach(runtime: GatewayRuntime) {
      const models = runtime.layer('models');
      // Through the models layer's chain (routes, retries, budgets, `chat` spans) when the gateway has one.
      const client =
        models?.wrap && models.wraps?.(parsed.client) !== false ? models.wrap(parsed.client) : parsed.client;
      const runner = new Runner({
        client,
        modelSpans: client === parsed.client,
        tools: parsed.tools ?? toolLayerSource(runtime.layer('tools')?.api),
        sessions: sessionsOf(parsed.sessions?.store ?? runtime.store),
        concurrency: parsed.concurrency ?? 4,
        cost: parsed.cost,
        middleware: parsed.middleware ?? [],
        runtime,
        agents: parsed.agents ?? [],
      });
      const api: AgentsApi = {
        run: (agent, input, runOptions) => runner.run(agent, input, runOptions) as Promise<RunResult<any>>,
        stream(agent, input, runOptions) {
          const queue = eventQueue();
          runner.run(agent, input, runOptions, queue.push).then(undefined, queue.fail);
          return queue.iterate();
        },
        resume: (sessionId, resumeOptions) => runner.resume(sessionId, resumeOptions),
        approve: (sessionId, callId) => runner.approve(sessionId, callId),
        reject: (sessionId, callId, reason) => runner.reject(sessionId, callId, reason),
        decide: (sessionId, callId, decision) => runner.decide(sessionId, callId, decision),
        session: (sessionId) => runner.get(sessionId),
      };
      return { api };
    },
  };
}

export type { AgentLimits };
