import type { Next } from '@gatehouse/core';
import pRetry from 'p-retry';
import type { ModelContext, ModelMiddleware, ModelResult } from '../context/index.js';
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

/** Re-runs a failed attempt (`attempt` is what failed first, `error` its failure) under the retry policy. */
export type RetryAfterFailure = (
  context: ModelContext,
  attempt: Next<ModelContext, ModelResult>,
  error: unknown,
) => Promise<ModelResult>;

/**
 * The retry policy as a step that starts after the first attempt failed (the layer makes that attempt itself,
 * with no retry machinery on the path of the calls that succeed at once): p-retry runs the loop, with the first
 * failure handed to it as its own first attempt's, so backoff, attempt numbers and abort checks run as if it
 * had made that attempt. Undefined when the policy retries nothing.
 */
export function retryAfterFailure(options: RetryOptions = {}): RetryAfterFailure | undefined {
  const retries = options.retries ?? 2;
  const minTimeout = options.minTimeout ?? 500;
  const maxTimeout = options.maxTimeout ?? 8000;
  const factor = options.factor ?? 2;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
  if (retries === 0) return undefined;
  const waitFor = (error: unknown, attemptNumber: number): number | undefined => {
    const asked = retryAfterMs(error);
    if (asked !== undefined) return asked <= maxRetryAfterMs ? asked : undefined;
    const ceiling = Math.min(maxTimeout, minTimeout * factor ** (attemptNumber - 1));
    return Math.random() * ceiling;
  };
  return (context, attempt, error) => {
    let first: { error: unknown } | undefined = { error };
    return pRetry(
      () => {
        if (first) {
          const failure = first.error;
          first = undefined;
          throw failure;
        }
        return attempt();
      },
      {
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
      },
    );
  };
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
  const retry = retryAfterFailure(options);
  if (retry === undefined) return (_context, next) => next();
  // Most attempts succeed: the first runs here, and p-retry (its options, closures and loop) only after a failure.
  return async (context, next) => {
    const signal = context.signal;
    // p-retry's own abort check answers an aborted call before any attempt.
    signal?.throwIfAborted();
    let error: unknown;
    try {
      const result = await next();
      // Like p-retry: a caller who aborted while the attempt ran gets the abort, not a late answer.
      if (!signal?.aborted) return result;
      error = signal.reason;
    } catch (failure) {
      error = failure;
    }
    // Aborted meanwhile: p-retry would stop at its abort check, with the failure itself when it is not worth
    // retrying and with the abort reason when it is.
    if (signal?.aborted) throw isRetryable(error) ? signal.reason : error;
    return retry(context, next, error);
  };
}
