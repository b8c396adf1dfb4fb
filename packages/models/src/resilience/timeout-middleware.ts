import { TimeoutError } from '@gatehouse/core';
import type { ModelContext, ModelMiddleware, ModelResult } from '../context/index.js';
import type { TimeoutOptions } from '../options/index.js';
import type { AttemptGuard } from './circuit-breaker-middleware.js';
import { enterDeadline, leaveDeadline } from './deadline.js';

/**
 * Bounds each attempt at a target: a complete answer must arrive within `ms`; a stream's first content within
 * `firstTokenMs` (after that the stream is not timed). A target's `timeoutMs` overrides both. On expiry the
 * upstream request is aborted and the attempt fails with a retryable `TimeoutError`.
 *
 * One promise per attempt, no timer of its own (one timer serves every attempt in the process) and no
 * `AbortSignal`: the upstream call gives the SDK the time left as
 * its per-request `timeout` and the expiry aborts the request's own controller (see `AttemptDeadline`).
 */
export function timeoutMiddleware(options: TimeoutOptions = {}): ModelMiddleware {
  return guardedTimeout(options, undefined);
}

/**
 * The timeout middleware with a circuit breaker's steps run in its own callbacks: what `breaker → timeout` does as
 * two middlewares, with one promise per attempt instead of two. The breaker sees what it would see outside the
 * timeout: the `TimeoutError` when the timer fires first, otherwise the attempt's answer or failure.
 */
export function guardedTimeout(options: TimeoutOptions, guard: AttemptGuard | undefined): ModelMiddleware {
  const timed = timedAttempt(options, guard);
  return (context, next) => timed(context, next);
}

/** What happens to an attempt's answer or failure next, when the caller hands it on (see `timedAttempt`). */
export type AttemptStep<T> = (value: T) => ModelResult | Promise<ModelResult>;

/** The promise of `step(value)`: its answer, or its throw as a rejection. */
function stepped<T>(step: AttemptStep<T>, value: T): Promise<ModelResult> {
  try {
    return Promise.resolve(step(value));
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Settles an attempt's promise with what `step` makes of `value` (a throw rejects it). */
function settle<T>(
  resolve: (value: ModelResult | Promise<ModelResult>) => void,
  reject: (error: unknown) => void,
  step: AttemptStep<T>,
  value: T,
): void {
  try {
    resolve(step(value));
  } catch (error) {
    reject(error);
  }
}

/**
 * The steps of `guardedTimeout` around one attempt, `run(context)`: what the layer calls directly (no `next`
 * made per call). With `onAnswer`/`onFailure` the attempt's promise settles with what they make of its answer
 * or failure (the route's next steps), as `.then(onAnswer, onFailure)` would, without a promise of its own.
 */
export function timedAttempt(
  options: TimeoutOptions,
  guard: AttemptGuard | undefined,
): (
  context: ModelContext,
  run: (context: ModelContext) => Promise<ModelResult>,
  onAnswer?: AttemptStep<ModelResult>,
  onFailure?: AttemptStep<unknown>,
  /** `performance.now()` when the caller has just read it (the attempt's start). */
  now?: number,
) => Promise<ModelResult> {
  const total = options.ms ?? 60_000;
  const firstToken = options.firstTokenMs ?? total;
  return (context, run, onAnswer, onFailure, now) => {
    const id = guard === undefined ? undefined : context.target?.id;
    let probe = false;
    if (id !== undefined) {
      try {
        probe = guard!.admit(id);
      } catch (error) {
        return onFailure === undefined ? Promise.reject(error) : stepped(onFailure, error);
      }
    }
    const ms = context.target?.timeoutMs ?? (context.request.stream ? firstToken : total);
    const deadline = enterDeadline(context, ms, now);
    return new Promise<ModelResult>((resolve, reject) => {
      deadline.start(ms, () => {
        leaveDeadline(context, deadline);
        const what = context.request.stream ? 'first content' : 'answer';
        const error = new TimeoutError({
          message: `${context.target?.id ?? context.model}: no ${what} within ${ms} ms`,
          timeoutMs: ms,
        });
        deadline.expire(error);
        if (id !== undefined) guard!.failed(id, probe, error);
        if (onFailure === undefined) reject(error);
        else settle(resolve, reject, onFailure, error);
      });
      let attempt: Promise<ModelResult>;
      try {
        attempt = run(context);
      } catch (error) {
        attempt = Promise.reject(error);
      }
      deadline.started();
      attempt.then(
        (result) => {
          // A stream that arrives after the deadline passed is cancelled, not leaked.
          if (deadline.expired) {
            if (result.type === 'stream') result.controller.abort();
            return;
          }
          deadline.cancel();
          leaveDeadline(context, deadline);
          if (id !== undefined) guard!.succeeded(id);
          if (onAnswer === undefined) resolve(result);
          else settle(resolve, reject, onAnswer, result);
        },
        (error) => {
          // After the deadline passed the breaker has counted the `TimeoutError` already.
          if (deadline.expired) return;
          deadline.cancel();
          leaveDeadline(context, deadline);
          if (id !== undefined) guard!.failed(id, probe, error);
          if (onFailure === undefined) reject(error);
          else settle(resolve, reject, onFailure, error);
        },
      );
    });
  };
}
