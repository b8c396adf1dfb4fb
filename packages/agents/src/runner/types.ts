import type { BaseContext, Middleware, Principal } from '@gatehouse/core';
import type {
  ChatCompletion,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import type { Agent } from '../agent/index.js';
import type { LimitReason, PendingCall, SessionState, SessionStatus, Usage } from '../session/index.js';

/** What `run()`, `resume()`, `approve()`, `reject()` and `decide()` answer. */
export interface RunResult<Output = unknown> {
  sessionId: string;
  status: SessionStatus;
  /**
   * `finished`: the final answer (parsed by the output schema when there is one). `limit` / `stopped`: the
   * last text the model wrote, if any (a partial result).
   */
  output: Output | undefined;
  reason?: LimitReason;
  /** The agent holding the conversation at the end. */
  agent: string;
  messages: ChatCompletionMessageParam[];
  usage: Usage;
  cost: number;
  /** `awaiting-approval` / `needs-decision`: the calls waiting for an answer. */
  pending: PendingCall[];
}

export interface RunOptions {
  /** Continue (or create) this session; default: a new random id. */
  sessionId?: string;
  /** Who the run is for; each agent runs with `agent` set to its own name on top of it. */
  principal?: Principal;
  signal?: AbortSignal;
}

/** What `stream()` yields, in order. The last event is always `finished`. */
export type AgentEvent =
  | { type: 'step-started'; step: number; agent: string }
  | { type: 'text-delta'; step: number; agent: string; delta: string }
  | { type: 'tool-call'; step: number; agent: string; callId: string; name: string; arguments: string }
  | { type: 'tool-result'; step: number; agent: string; callId: string; name: string; result: string }
  | { type: 'handoff'; step: number; from: string; to: string }
  | { type: 'approval-requested'; step: number; agent: string; callId: string; name: string; arguments: string }
  | { type: 'finished'; result: RunResult };

/** What each step middleware receives. Change `request` before `next()` to change what the model is asked. */
export interface StepContext extends BaseContext {
  readonly sessionId: string;
  readonly agent: Agent<any>;
  /** The step's number in the session (0-based). */
  readonly step: number;
  readonly state: Readonly<SessionState>;
  request: ChatCompletionCreateParamsNonStreaming;
}

/** What a step answers: the model's response and what came of it. */
export interface StepResult {
  response: ChatCompletion;
  /** `tool-calls`: the loop goes on; `final`: an answer; `paused`: waits for approval or a decision. */
  outcome: 'tool-calls' | 'final' | 'paused' | 'handoff';
}

/**
 * A middleware around each step (model call, then its tool calls). The first middleware sees the request first.
 *
 * @example
 * const logSteps: StepMiddleware = async (ctx, next) => {
 *   const result = await next();
 *   console.log(ctx.agent.name, ctx.step, result.outcome);
 *   return result;
 * };
 * agents({ client, middleware: [logSteps] });
 */
export type StepMiddleware = Middleware<StepContext, StepResult>;

/** Dollars for one model call, when the app prices them (e.g. from the models layer's price table). */
export type CostFunction = (call: { model: string; usage: Usage; response: ChatCompletion }) => number;
