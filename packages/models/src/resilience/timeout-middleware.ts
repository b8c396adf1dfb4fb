import { TimeoutError } from '@gatehouse/core';
import type { ModelMiddleware } from '../context/index.js';
import type { TimeoutOptions } from '../options/index.js';

/**
 * Bounds each attempt at a target: a complete answer must arrive within `ms`; a stream's first content within
 * `firstTokenMs` (after that the stream is not timed). A target's `timeoutMs` overrides both. On expiry the
 * upstream request is aborted and the attempt fails with a retryable `TimeoutError`.
 */
export function timeoutMiddleware(options: TimeoutOptions = {}): ModelMiddleware {
  const total = options.ms ?? 60_000;
  const firstToken = options.firstTokenMs ?? total;
  return (context, next) => {
    const ms = context.target?.timeoutMs ?? (context.request.stream ? firstToken : total);
    const controller = new AbortController();
    const outer = context.attemptSignal ?? context.signal;
    context.attemptSignal = outer ? AbortSignal.any([outer, controller.signal]) : controller.signal;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const what = context.request.stream ? 'first content' : 'answer';
        const error = new TimeoutError({
          message: `${context.target?.id ?? context.model}: no ${what} within ${ms} ms`,
          timeoutMs: ms,
        });
        controller.abort(error);
        reject(error);
      }, ms);
    });
    const attempt = next();
    return Promise.race([attempt, expired]).finally(() => {
      clearTimeout(timer);
      context.attemptSignal = outer;
      // A stream that arrives after the timeout fired is cancelled, not leaked.
      if (controller.signal.aborted)
        attempt.then(
          (result) => result.type === 'stream' && result.controller.abort(),
          () => {},
        );
    });
  };
}
