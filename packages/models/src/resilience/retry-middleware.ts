import pRetry from 'p-retry';
import type { ModelMiddleware } from '../context/index.js';
import type { RetryOptions } from '../options/index.js';
import { isRetryable, retryAfterMs } from './errors.js';

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Retries a target's failed attempt with exponential backoff and full jitter (p-retry runs the loop), only
 * when the failure may pass on a second try (408, 409, 429, 5xx, connection errors, timeouts; never 400,
 * 401, 403, 404). A `retry-after-ms` / `retry-after` header on the provider's error replaces the backoff;
 * one longer than `maxRetryAfterMs` is not waited for: the route moves on to its next target.
 *
 * It calls `next()` once per attempt, so it runs where `next` may be re-run: the models layer places it
 * around each route target (`retry` in `models()` options configures it); it is not for `middleware: […]`.
 * While it is on, each request is sent with `maxRetries: 0` so the SDK client does not retry underneath.
 */
export function retryMiddleware(options: RetryOptions = {}): ModelMiddleware {
  const retries = options.retries ?? 2;
  const minTimeout = options.minTimeout ?? 500;
  const maxTimeout = options.maxTimeout ?? 8000;
  const factor = options.factor ?? 2;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
  const waitFor = (error: unknown, attemptNumber: number): number | undefined => {
    const asked = retryAfterMs(error);
    if (asked !== undefined) return asked <= maxRetryAfterMs ? asked : undefined;
    const ceiling = Math.min(maxTimeout, minTimeout * factor ** (attemptNumber - 1));
    return Math.random() * ceiling;
  };
  if (retries === 0) return (_context, next) => next();
  return (context, next) =>
    pRetry(() => next(), {
      retries,
      // The delay is ours (below), so that a provider's retry-after replaces the backoff instead of adding to it.
      minTimeout: 0,
      maxTimeout: 0,
      randomize: false,
      signal: context.signal,
      shouldRetry: ({ error, attemptNumber }) => isRetryable(error) && waitFor(error, attemptNumber) !== undefined,
      onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
        if (retriesLeft === 0 || !isRetryable(error)) return;
        const wait = waitFor(error, attemptNumber);
        if (wait !== undefined && wait > 0) await sleep(wait, context.signal);
      },
    });
}
