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

/**
 * The steps of `guardedTimeout` around one attempt, `run(context)`: what the layer calls directly (no `next`
 * made per call).
 */
export function timedAttempt(
  options: TimeoutOptions,
  guard: AttemptGuard | undefined,
): (context: ModelContext, run: (context: ModelContext) => Promise<ModelResult>) => Promise<ModelResult> {
  const total = options.ms ?? 60_000;
  const firstToken = options.firstTokenMs ?? total;
  return (context, run) => {
    const id = guard === undefined ? undefined : context.target?.id;
    let probe = false;
    if (id !== undefined) {
      try {
        probe = guard!.admit(id);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const ms = context.target?.timeoutMs ?? (context.request.stream ? firstToken : total);
    const deadline = enterDeadline(context, ms);
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
        reject(error);
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
          resolve(result);
        },
        (error) => {
          // After the deadline passed the breaker has counted the `TimeoutError` already.
          if (deadline.expired) return;
          deadline.cancel();
          leaveDeadline(context, deadline);
          if (id !== undefined) guard!.failed(id, probe, error);
          reject(error);
        },
      );
    });
  };
}
