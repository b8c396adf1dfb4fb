import { NoHealthyTargetError, TranslationError } from '@gatehouse/core';
import { monotonicNow } from '../context/clock.js';
import type { ModelApi, ModelContext, ModelResult } from '../context/index.js';
import { type CompiledRoute, type CompiledTarget, servedBy } from '../options/index.js';
import { isAbort, isRetryable } from '../resilience/errors.js';
import type { RetryAfterFailure } from '../resilience/retry-middleware.js';

/** Moving averages of each target's successful latency, for `least-latency`. */
export class LatencyTracker {
  /** Each target's average in a cell of its own, updated in place (no `Map` write per call). */
  readonly #averages = new Map<string, { ms: number }>();
  readonly #weight: number;
  /** The last target recorded, in front of the map: a busy route's calls mostly go to its first target. */
  #lastId: string | undefined;
  #lastCell: { ms: number } | undefined;

  /** `weight`: how much a new sample counts (0..1). */
  constructor(weight = 0.3) {
    this.#weight = weight;
  }

  record(id: string, ms: number): void {
    let cell = id === this.#lastId ? this.#lastCell : this.#averages.get(id);
    if (cell === undefined) this.#averages.set(id, (cell = { ms }));
    else cell.ms += this.#weight * (ms - cell.ms);
    this.#lastId = id;
    this.#lastCell = cell;
  }

  /** The average in milliseconds, or undefined for a target that never answered. */
  average(id: string): number | undefined {
    return this.#averages.get(id)?.ms;
  }
}

/** Targets of a list that can serve `api`, computed once per list and API. */
const compatible = new WeakMap<readonly CompiledTarget[], Map<ModelApi, readonly CompiledTarget[]>>();

/** The last answer of `servable`: a busy route asks the same again and again (a WeakMap lookup costs more). */
let last: { targets: readonly CompiledTarget[]; api: ModelApi; list: readonly CompiledTarget[] } | undefined;

function servable(targets: readonly CompiledTarget[], api: ModelApi, route: string): readonly CompiledTarget[] {
  if (last !== undefined && last.targets === targets && last.api === api && last.list.length > 0) return last.list;
  let byApi = compatible.get(targets);
  if (!byApi) compatible.set(targets, (byApi = new Map()));
  let list = byApi.get(api);
  if (!list) {
    const kinds = servedBy[api];
    list = targets.filter((target) => kinds.includes(target.kind));
    byApi.set(api, list);
  }
  last = { targets, api, list };
  if (list.length === 0)
    throw new TranslationError({
      message: `route "${route}" has no target that can serve ${api} calls (${servedBy[api].join(' or ')} providers only); add one or call a model directly`,
      field: 'model',
    });
  return list;
}

function weightedOrder(targets: readonly CompiledTarget[]): CompiledTarget[] {
  const left = targets.slice();
  const order: CompiledTarget[] = [];
  while (left.length > 0) {
    let total = 0;
    for (const target of left) total += target.weight;
    let pick = Math.random() * total;
    let index = 0;
    for (; index < left.length - 1; index++) {
      pick -= left[index]!.weight;
      if (pick < 0) break;
    }
    order.push(left.splice(index, 1)[0]!);
  }
  return order;
}

/** The targets to try, in order, for this call. */
export function orderTargets(
  route: CompiledRoute,
  context: ModelContext,
  latency: LatencyTracker,
): readonly CompiledTarget[] {
  const api = context.request.api;
  switch (route.strategy) {
    case 'fallback':
      return servable(route.targets, api, route.name);
    case 'weighted':
      return weightedOrder(servable(route.targets, api, route.name));
    case 'least-latency': {
      // A target with no sample yet goes first, so every target gets measured.
      const rank = (target: CompiledTarget) => latency.average(target.id) ?? -1;
      return servable(route.targets, api, route.name)
        .slice()
        .sort((a, b) => rank(a) - rank(b));
    }
    case 'conditional': {
      for (const rule of route.rules) if (rule.matches(context)) return servable(rule.targets, api, route.name);
      return servable(route.targets, api, route.name);
    }
  }
}

/**
 * Runs a route: each target in the strategy's order through `attempt` (circuit breaker, timeout, then the
 * upstream call) and, when that fails, through `retry` (the retry policy, re-running `attempt`), moving on when a
 * target fails, until one answers. When all fail: a `NoHealthyTargetError` carrying each target's error. The
 * caller's abort stops at once, and an answer that arrives after it is dropped (a stream cancelled).
 *
 * The first attempt at a target runs here directly: a call that succeeds at once goes through no retry
 * machinery (a promise, closures and p-retry's options per call).
 */
export function routeExecutor(
  attempt: (context: ModelContext) => Promise<ModelResult>,
  retry: RetryAfterFailure | undefined,
  latency: LatencyTracker,
  /**
   * The first attempt at a target with its next steps handed in: `attempt(context).then(onAnswer, onFailure)`
   * without the promise `then` makes (the layer's timeout settles its own with them). Default: that `then`.
   */
  attemptThen?: (
    context: ModelContext,
    onAnswer: (result: ModelResult) => ModelResult | Promise<ModelResult>,
    onFailure: (error: unknown) => ModelResult | Promise<ModelResult>,
    /** `performance.now()` at the attempt's start. */
    start: number,
  ) => Promise<ModelResult>,
): (context: ModelContext, route: CompiledRoute) => Promise<ModelResult> {
  /** Tries `targets[index]` and, if it fails, the ones after it. */
  const fromTarget = (
    context: ModelContext,
    route: CompiledRoute,
    targets: readonly CompiledTarget[],
    index: number,
    errors: unknown[] | undefined,
  ): Promise<ModelResult> => {
    const target = targets[index];
    if (target === undefined) return Promise.reject(noHealthyTarget(route, targets, errors ?? []));
    context.target = target;
    const signal = context.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const start = monotonicNow();
    // Not an async function: a call answered at once costs no promise here.
    const onAnswer = (result: ModelResult) => answered(context, target, start, result);
    const onFailure = (error: unknown) => recover(context, route, targets, index, errors, start, error);
    // The attempt's start is its deadline's start too: one clock read.
    if (attemptThen !== undefined) return attemptThen(context, onAnswer, onFailure, start);
    let attempted: Promise<ModelResult>;
    try {
      attempted = attempt(context);
    } catch (error) {
      attempted = Promise.reject(error);
    }
    return attempted.then(onAnswer, onFailure);
  };

  /** The answer, unless the caller aborted while it came (then the abort, and a stream is cancelled). */
  const answered = (context: ModelContext, target: CompiledTarget, start: number, result: ModelResult) => {
    const signal = context.signal;
    if (signal?.aborted) {
      if (result.type === 'stream') result.controller.abort();
      throw signal.reason;
    }
    latency.record(target.id, monotonicNow() - start);
    return result;
  };

  /** After a failed first attempt: the retry policy at the same target, then the next targets. */
  const recover = async (
    context: ModelContext,
    route: CompiledRoute,
    targets: readonly CompiledTarget[],
    index: number,
    errors: unknown[] | undefined,
    start: number,
    error: unknown,
  ): Promise<ModelResult> => {
    const signal = context.signal;
    let result: ModelResult;
    try {
      // Aborted meanwhile: p-retry would stop at its abort check (with the abort reason when the failure was
      // worth retrying, else with the failure).
      if (retry === undefined || signal?.aborted) throw signal?.aborted && isRetryable(error) ? signal.reason : error;
      result = await retry(context, () => attempt(context), error);
    } catch (failure) {
      if (signal?.aborted || isAbort(failure)) throw failure;
      (errors ??= []).push(failure);
      return fromTarget(context, route, targets, index + 1, errors);
    }
    return answered(context, targets[index]!, start, result);
  };

  return (context, route) => {
    let targets: readonly CompiledTarget[];
    try {
      targets = orderTargets(route, context, latency);
    } catch (error) {
      return Promise.reject(error);
    }
    return fromTarget(context, route, targets, 0, undefined);
  };
}

function noHealthyTarget(
  route: CompiledRoute,
  targets: readonly CompiledTarget[],
  errors: readonly unknown[],
): NoHealthyTargetError {
  const described = errors
    .map((error, index) => `${targets[index]!.id}: ${error instanceof Error ? error.message : String(error)}`)
    .join('; ');
  return new NoHealthyTargetError({
    message: `every target of route "${route.name}" failed: ${described}`,
    route: route.name,
    errors: [...errors],
  });
}
