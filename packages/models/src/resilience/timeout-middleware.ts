import { TimeoutError } from '@gatehouse/core';
import type { ModelMiddleware, ModelResult } from '../context/index.js';
import type { TimeoutOptions } from '../options/index.js';
import { enterDeadline, leaveDeadline } from './deadline.js';

/**
 * Bounds each attempt at a target: a complete answer must arrive within `ms`; a stream's first content within
 * `firstTokenMs` (after that the stream is not timed). A target's `timeoutMs` overrides both. On expiry the
 * upstream request is aborted and the attempt fails with a retryable `TimeoutError`.
 *
 * One timer and one promise per attempt, and no `AbortSignal`: the upstream call gives the SDK the time left as
 * its per-request `timeout` and the expiry aborts the request's own controller (see `AttemptDeadline`).
 */
export function timeoutMiddleware(options: TimeoutOptions = {}): ModelMiddleware {
  const total = options.ms ?? 60_000;
  const firstToken = options.firstTokenMs ?? total;
  return (context, next) => {
    const ms = context.target?.timeoutMs ?? (context.request.stream ? firstToken : total);
    const deadline = enterDeadline(context, ms);
    return new Promise<ModelResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        leaveDeadline(context, deadline);
        const what = context.request.stream ? 'first content' : 'answer';
        const error = new TimeoutError({
          message: `${context.target?.id ?? context.model}: no ${what} within ${ms} ms`,
          timeoutMs: ms,
        });
        deadline.expire(error);
        reject(error);
      }, ms);
      let attempt: Promise<ModelResult>;
      try {
        attempt = next();
      } catch (error) {
        attempt = Promise.reject(error);
      }
      attempt.then(
        (result) => {
          clearTimeout(timer);
          leaveDeadline(context, deadline);
          // A stream that arrives after the timeout fired is cancelled, not leaked.
          if (deadline.expired) {
            if (result.type === 'stream') result.controller.abort();
          } else resolve(result);
        },
        (error) => {
          clearTimeout(timer);
          leaveDeadline(context, deadline);
          reject(error);
        },
      );
    });
  };
}
