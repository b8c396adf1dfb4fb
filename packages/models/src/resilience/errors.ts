import { GatehouseError, UpstreamError } from '@gatehouse/core';

const retryableStatuses = new Set([408, 409, 429]);

/** The HTTP status of an SDK `APIError` (or of the SDK error an `UpstreamError` wraps). */
export function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' ? status : undefined;
}

function className(error: object): string {
  return (error as { constructor?: { name?: string } }).constructor?.name ?? '';
}

/** The caller gave up (their `AbortSignal`, or the SDK's `APIUserAbortError`): never retried or failed over. */
export function isAbort(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const name = className(error);
  return name === 'APIUserAbortError' || name === 'AbortedError' || (error as Error).name === 'AbortError';
}

/**
 * Whether the same request may succeed if sent again: 408, 409, 429, 5xx, connection errors (incl. resets)
 * and timeouts. Never 400, 401, 403, 404 or 422: those fail the same way every time.
 */
export function isRetryable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if (GatehouseError.isInstance(error)) return error.isRetryable;
  if (isAbort(error)) return false;
  const status = statusOf(error);
  if (status !== undefined) return retryableStatuses.has(status) || status >= 500;
  const name = className(error);
  // The SDKs' connection errors carry no status; a reset socket surfaces from fetch as a TypeError.
  return name === 'APIConnectionError' || name === 'APIConnectionTimeoutError' || error instanceof TypeError;
}

function headerOf(error: unknown, name: string): string | undefined {
  const headers = (error as { headers?: unknown } | undefined)?.headers;
  if (!headers || typeof headers !== 'object') return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Milliseconds the provider asked to wait, from `retry-after-ms` or `retry-after` (seconds or an HTTP date) on
 * an SDK `APIError`, looked up through `cause` for a wrapped one.
 */
export function retryAfterMs(error: unknown): number | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 3 && typeof current === 'object' && current !== null; depth++) {
    const limited = (current as { retryAfterMs?: unknown }).retryAfterMs;
    if (typeof limited === 'number') return limited;
    const milliseconds = headerOf(current, 'retry-after-ms');
    if (milliseconds !== undefined && Number.isFinite(Number.parseFloat(milliseconds)))
      return Math.max(0, Number.parseFloat(milliseconds));
    const after = headerOf(current, 'retry-after');
    if (after !== undefined) {
      const seconds = Number.parseFloat(after);
      if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
      const date = Date.parse(after);
      if (Number.isFinite(date)) return Math.max(0, date - Date.now());
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Wraps an SDK failure as an `UpstreamError` naming the target, with the SDK error as `cause`. */
export function upstreamError(error: unknown, target: string): GatehouseError {
  if (GatehouseError.isInstance(error)) return error;
  const status = statusOf(error);
  const message = error instanceof Error ? error.message : String(error);
  return new UpstreamError({
    message: `${target} failed${status === undefined ? '' : ` with HTTP ${status}`}: ${message}`,
    status,
    target,
    cause: error,
    isRetryable: isRetryable(error),
  });
}
