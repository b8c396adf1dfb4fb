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

/** A circuit breaker as steps around one attempt at a target, instead of a middleware around it. */
export interface AttemptGuard {
  /** Throws while `id` cools down; answers whether the attempt is the half-open probe. */
  admit(id: string): boolean;
  succeeded(id: string): void;
  failed(id: string, probe: boolean, error: unknown): void;
}

const guardSlot: unique symbol = Symbol('gatehouse.circuitBreakerGuard');

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
  /** Lets an attempt at `id` through, or throws while the target cools down; answers whether it is the probe. */
  const admit = (id: string): boolean => {
    // Every target healthy (the usual state): no lookup.
    if (states.size === 0) return false;
    const state = states.get(id);
    if (state === undefined || state.openUntil === 0) return false;
    if (Date.now() < state.openUntil || state.probing)
      throw new UpstreamError({
        message: `${id} is cooling down after ${state.failures} consecutive failures (until ${new Date(state.openUntil).toISOString()})`,
        target: id,
        isRetryable: false,
      });
    state.probing = true;
    return true;
  };
  const succeeded = (id: string): void => {
    if (states.size !== 0) states.delete(id);
  };
  const failed = (id: string, probe: boolean, error: unknown): void => {
    let state = states.get(id);
    if (probe && state) state.probing = false;
    if (isRetryable(error)) {
      if (!state) states.set(id, (state = { failures: 0, openUntil: 0, probing: false }));
      state.failures++;
      if (probe || state.failures >= threshold) state.openUntil = Date.now() + cooldownMs;
    } else if (probe) {
      // The probe reached the target and got an answer about the request, not the target: it is healthy.
      states.delete(id);
    }
  };
  const guard: AttemptGuard = { admit, succeeded, failed };
  const middleware: ModelMiddleware = async (context, next) => {
    const id = context.target?.id;
    if (id === undefined) return next();
    const probe = admit(id);
    try {
      const result = await next();
      succeeded(id);
      return result;
    } catch (error) {
      failed(id, probe, error);
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
  return Object.assign(middleware, { health, [guardSlot]: guard });
}

/** The breaker's steps, for the layer to run them inside its timeout step (one promise less per attempt). */
export function breakerGuard(middleware: CircuitBreakerMiddleware): AttemptGuard {
  return (middleware as unknown as { [guardSlot]: AttemptGuard })[guardSlot];
}
