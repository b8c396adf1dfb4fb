import { ConfigError, TimeoutError } from '@gatehouse/core';
/**
 * Ends a call that takes longer than its rule's `timeoutMs` (or `defaultMs`) with `TimeoutError`, and aborts the
 * `signal` the rest of the chain receives, so the upstream call is cancelled (the MCP client sends
 * `notifications/cancelled` when the handler passes `context.signal` to `client.callTool`).
 */
export function toolTimeoutMiddleware(options = {}) {
  const defaultMs = options.defaultMs;
  if (defaultMs !== undefined && (typeof defaultMs !== 'number' || !Number.isFinite(defaultMs) || defaultMs <= 0)) {
    throw new ConfigError({
      message: 'toolTimeoutMiddleware({ defaultMs }): expected a positive number of milliseconds',
      path: 'defaultMs',
    });
  }
  return (context, next) => {
    const timeoutMs = context.decision?.timeoutMs ?? defaultMs;
    if (timeoutMs === undefined) return next();
    const controller = new AbortController();
    const signal = context.signal ? AbortSignal.any([context.signal, controller.signal]) : controller.signal;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const error = new TimeoutError({
          timeoutMs,
          message: `Tool ${context.name} did not answer within ${timeoutMs} ms; the call was cancelled`,
        });
        reject(error);
        controller.abort(error);
      }, timeoutMs);
      next({ ...context, signal }).then(
        (result) => {
          clearTimeout(timer);
          resolve(result);
        },
        (error) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  };
}
