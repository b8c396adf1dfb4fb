import { randomUUID } from 'node:crypto';
import { AbortedError, ConfigError, PolicyDeniedError, type Principal } from '@gatehouse/core';
import { describePrincipal } from '../access/index.js';
import { emitToolEvent } from '../audit/events.js';
import { redactArguments } from '../audit/secrets.js';
import type { ToolCallContext, ToolMiddleware } from '../context.js';
import { toolEventFields } from './event-fields.js';

/** What the approver is asked. Arguments are redacted (credentials and detected secrets). */
export interface ApprovalRequest {
  /** Unique per request; also in the `approval-requested` and `approval-decided` events. */
  readonly id: string;
  readonly principal: Principal;
  readonly sessionId: string | undefined;
  readonly server: string;
  readonly tool: string;
  /** The name the caller used (`server__tool`). */
  readonly name: string;
  readonly arguments: Record<string, unknown>;
  /** The access rule that asked for approval. */
  readonly rule: string | undefined;
  /** How long the approver has; past it the call is denied. */
  readonly timeoutMs: number;
  /** Aborted when the wait ends without an answer (timeout or caller abort), to withdraw a pending prompt. */
  readonly signal: AbortSignal;
}

/** `approve`, `deny`, or either with a reason (shown in the denial and the event). */
export type ApprovalAnswer = 'approve' | 'deny' | { decision: 'approve' | 'deny'; reason?: string };

export interface ToolApprovalOptions {
  /** Asks a human (or a system) whether the call may go ahead. */
  onApproval: (request: ApprovalRequest) => ApprovalAnswer | Promise<ApprovalAnswer>;
  /** How long to wait when the rule does not say (`approval: { timeoutMs }`); default 5 minutes. */
  timeoutMs?: number;
}

const defaultTimeoutMs = 5 * 60_000;

type Outcome = { decision: 'approve' | 'deny' | 'timeout'; reason?: string | undefined; cause?: unknown };

function validTimeout(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

/**
 * Holds calls whose access decision requires approval (`approval: true` on the rule) until `onApproval` answers.
 * A denial, a timeout and a failing approver all refuse the call with `PolicyDeniedError`; nothing reaches the
 * server. Emits `approval-requested` and `approval-decided`. Place it after `toolAccessMiddleware`.
 *
 * @example
 * toolApprovalMiddleware({ onApproval: async (request) => (await askOnSlack(request)) ? 'approve' : 'deny' })
 */
export function toolApprovalMiddleware(options: ToolApprovalOptions): ToolMiddleware {
  if (typeof options?.onApproval !== 'function') {
    throw new ConfigError({
      message: 'toolApprovalMiddleware({ onApproval }): onApproval must be a function (request) => approve | deny',
      path: 'onApproval',
    });
  }
  if (options.timeoutMs !== undefined && !validTimeout(options.timeoutMs)) {
    throw new ConfigError({
      message: 'toolApprovalMiddleware({ timeoutMs }): expected a positive whole number of milliseconds',
      path: 'timeoutMs',
    });
  }
  const onApproval = options.onApproval;
  const fallbackTimeoutMs = options.timeoutMs ?? defaultTimeoutMs;

  return async (context, next) => {
    const approval = context.decision?.approval;
    if (approval === undefined) return next();
    const timeoutMs = approval.timeoutMs ?? fallbackTimeoutMs;
    const rule = context.decision?.rule;
    const id = randomUUID();
    const args = redactArguments(context.arguments);
    emitToolEvent(context.events, 'approval-requested', {
      ...toolEventFields(context),
      approvalId: id,
      rule,
      arguments: args,
      timeoutMs,
    });
    const started = performance.now();
    const outcome = await wait(context, onApproval, {
      id,
      principal: context.principal,
      sessionId: context.sessionId,
      server: context.server,
      tool: context.tool,
      name: context.name,
      arguments: args,
      rule,
      timeoutMs,
    });
    emitToolEvent(context.events, 'approval-decided', {
      ...toolEventFields(context),
      approvalId: id,
      rule,
      decision: outcome.decision,
      reason: outcome.reason,
      waitedMs: performance.now() - started,
    });
    if (outcome.decision === 'approve') return next();
    const why =
      outcome.decision === 'timeout'
        ? `no approval within ${timeoutMs} ms`
        : `the approver denied it${outcome.reason ? `: ${outcome.reason}` : ''}`;
    throw new PolicyDeniedError({
      rule,
      message: `Approval denied: ${describePrincipal(context.principal)} may not call ${context.name}: ${why}`,
      cause: outcome.cause,
    });
  };
}

function wait(
  context: ToolCallContext,
  onApproval: ToolApprovalOptions['onApproval'],
  request: Omit<ApprovalRequest, 'signal'>,
): Promise<Outcome> {
  const controller = new AbortController();
  const callerSignal = context.signal;
  return new Promise<Outcome>((resolve, reject) => {
    let settled = false;
    const finish = (outcome: Outcome | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onAbort);
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
      // Withdraw the question whatever the outcome; an approver that already answered ignores it.
      controller.abort();
    };
    const onAbort = () =>
      finish(new AbortedError({ message: `The caller aborted ${request.name} while it waited for approval` }));
    const timer = setTimeout(
      () => finish({ decision: 'timeout', reason: `no answer within ${request.timeoutMs} ms` }),
      request.timeoutMs,
    );
    if (callerSignal?.aborted) return onAbort();
    callerSignal?.addEventListener('abort', onAbort, { once: true });
    let answer: ApprovalAnswer | Promise<ApprovalAnswer>;
    try {
      answer = onApproval({ ...request, signal: controller.signal });
    } catch (error) {
      return finish(failed(error));
    }
    Promise.resolve(answer).then(
      (value) => finish(read(value)),
      (error) => finish(failed(error)),
    );
  });
}

function failed(error: unknown): Outcome {
  // Fail closed: an approver that cannot answer has not approved.
  return {
    decision: 'deny',
    reason: `the approver failed (${error instanceof Error ? error.message : String(error)})`,
    cause: error,
  };
}

function read(answer: ApprovalAnswer): Outcome {
  if (answer === 'approve' || answer === 'deny') return { decision: answer };
  if (typeof answer === 'object' && answer !== null && (answer.decision === 'approve' || answer.decision === 'deny')) {
    return { decision: answer.decision, reason: typeof answer.reason === 'string' ? answer.reason : undefined };
  }
  return { decision: 'deny', reason: `the approver answered ${JSON.stringify(answer)}, expected 'approve' or 'deny'` };
}
