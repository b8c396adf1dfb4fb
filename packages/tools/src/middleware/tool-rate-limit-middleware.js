import { ConfigError, RateLimitedError } from '@gatehouse/core';
import { describePrincipal } from '../access/index.js';

function principalKey(principal) {
  return `team=${principal.team ?? ''}|user=${principal.user ?? ''}|agent=${principal.agent ?? ''}`;
}
/**
 * Per-tool request limits from the access rule (`rateLimit: { requests, windowMs, per }`), counted in the
 * gateway's store (so a Redis store shares them across instances), keyed by rule, tool and principal (or just
 * rule and tool for `per: 'global'`). A refused call throws `RateLimitedError` with `retryAfterMs` and is not
 * counted. Place it after `toolAccessMiddleware`.
 */
export function toolRateLimitMiddleware(options = {}) {
  const fallback = options.limit;
  if (fallback !== undefined) {
    for (const key of ['requests', 'windowMs']) {
      const value = fallback[key];
      if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
        throw new ConfigError({
          message: `toolRateLimitMiddleware({ limit }): limit.${key} must be a positive whole number`,
          path: `limit.${key}`,
        });
      }
    }
  }
  const prefix = options.prefix ?? 'gatehouse:tools:rate';
  return async (context, next) => {
    const limit = context.decision?.rateLimit ?? fallback;
    if (limit === undefined) return next();
    const global = limit.per === 'global';
    const rule = context.decision?.rateLimit ? (context.decision.rule ?? '') : '';
    const key = `${prefix}:${rule}:${context.server}__${context.tool}:${global ? 'global' : principalKey(context.principal)}`;
    const result = await context.store.consume(key, 1, limit.requests, limit.windowMs);
    if (result.allowed) return next();
    const retryAfterMs = Math.max(0, result.resetAt - Date.now());
    const scope = global ? 'for everyone' : `for ${describePrincipal(context.principal)}`;
    throw new RateLimitedError({
      limit: `${context.name}: ${limit.requests} requests per ${limit.windowMs} ms ${scope}`,
      retryAfterMs,
      message: `Rate limited: ${context.name} allows ${limit.requests} requests per ${limit.windowMs} ms ${scope}; retry after ${retryAfterMs} ms`,
    });
  };
}
