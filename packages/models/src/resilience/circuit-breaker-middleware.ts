import { UpstreamError } from '@gatehouse/core';
import type { ModelMiddleware } from '../context/index.js';
import type { CircuitBreakerOptions } from '../options/index.js';
import { isRetryable } from './errors.js';

/** The health of one target as the circuit breaker sees it. */
export interface TargetHealth {
  state: 'closed' | 'open' | 'half-open';
  /** Consecutive failures. */
  failures: number;
  /** When an open target may be probed again (epoch milliseconds); 0 when closed. */
  openUntil: number;
}

/** A circuit breaker middleware plus a view of each target's state. */
export type CircuitBreakerMiddleware = ModelMiddleware & { health(): Record<string, TargetHealth> };

interface State {
  failures: number;
  openUntil: number;
  probing: boolean;
}

/**
 * Cools a failing target down: after `failureThreshold` consecutive retryable failures (408, 409, 429, 5xx,
 * connection, timeout) the target is open and its attempts fail at once (a non-retryable `UpstreamError`, so
 * the route moves on); after `cooldownMs` one probe call is let through (half-open): success closes it,
 * failure opens it for another cooldown. A 400-class failure is the request's fault and does not count.
 * State is per target id (`provider:model`) and per process.
 */
export function circuitBreakerMiddleware(options: CircuitBreakerOptions = {}): CircuitBreakerMiddleware {
  const threshold = options.failureThreshold ?? 5;
  const cooldownMs = options.cooldownMs ?? 30_000;
  const states = new Map<string, State>();
  const middleware: ModelMiddleware = async (context, next) => {
    const id = context.target?.id;
    if (id === undefined) return next();
    let state = states.get(id);
    let probe = false;
    if (state && state.openUntil > 0) {
      if (Date.now() < state.openUntil || state.probing)
        throw new UpstreamError({
          message: `${id} is cooling down after ${state.failures} consecutive failures (until ${new Date(state.openUntil).toISOString()})`,
          target: id,
          isRetryable: false,
        });
      state.probing = probe = true;
    }
    try {
      const result = await next();
      states.delete(id);
      return result;
    } catch (error) {
      if (probe) state!.probing = false;
      if (isRetryable(error)) {
        state ??= states.get(id);
        if (!state) states.set(id, (state = { failures: 0, openUntil: 0, probing: false }));
        state.failures++;
        if (probe || state.failures >= threshold) state.openUntil = Date.now() + cooldownMs;
      } else if (probe) {
        // The probe reached the target and got an answer about the request, not the target: it is healthy.
        states.delete(id);
      }
      throw error;
    }
  };
  const health = (): Record<string, TargetHealth> => {
    const now = Date.now();
    const view: Record<string, TargetHealth> = {};
    for (const [id, state] of states)
      view[id] = {
        state: state.openUntil === 0 ? 'closed' : now < state.openUntil && !state.probing ? 'open' : 'half-open',
        failures: state.failures,
        openUntil: state.openUntil,
      };
    return view;
  };
  return Object.assign(middleware, { health });
}
