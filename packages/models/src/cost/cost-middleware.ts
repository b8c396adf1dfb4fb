import { Attr, type EventBase, type EventName, MemoryStore, type Store } from '@gatehouse/core';
import type { ModelContext, ModelMiddleware, ResultSummary, TargetInfo } from '../context/index.js';
import { requestStreamUsage, watchStream } from '../usage/stream-usage.js';
import { PeriodClock } from './period.js';
import { costOf, type PriceBook, type PriceOverrides, priceBookOf } from './price-book.js';

/** A cost total could not be written to the store; the call itself went through. */
export interface CostRecordFailedEvent extends EventBase {
  /** The store key that was not written. */
  key: string;
  usd: number;
  error: string;
}

declare module '@gatehouse/core' {
  interface GatehouseEventMap {
    'cost-record-failed': CostRecordFailedEvent;
  }
}

// Core's `EventName` does not see layers' augmentations through its re-export yet (see telemetry/index.ts).
const costRecordFailed = 'cost-record-failed' as EventName;

export interface CostOptions {
  /** Your prices over the built-in table, or a `PriceBook` shared with `budgetMiddleware`. */
  prices?: PriceBook | PriceOverrides;
  /** Whether to add each call's cost to the store's day and month totals (read by `costReport`). Default true. */
  record?: boolean;
  /** How long a day's totals are kept, in days. Default 90. */
  keepDays?: number;
  /** How long a month's totals are kept, in days. Default 731. */
  keepMonthsDays?: number;
  /** The clock that picks the day and month; for tests. Default `Date.now`. */
  now?: () => number;
}

/** The store key of the totals of one period: `cost:day:2026-11-23`, `cost:month:2026-11`. */
export function costKey(period: 'day' | 'month', label: string): string {
  return `cost:${period}:${label}`;
}

const dayMs = 86_400_000;

/** How many field names of one kind (`team:…`, `user:…`) are kept built; past it they are built per call. */
const fieldNameLimit = 10_000;

/**
 * The totals' field names (`model:gpt-4o`, `team:risk`, …), built once per value: a string made per call is
 * hashed afresh by every `Map` it is looked up in, a kept one only once.
 */
class FieldNames {
  readonly #prefix: string;
  readonly #names = new Map<string, string>();

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  of(value: string): string {
    let name = this.#names.get(value);
    if (name === undefined) {
      name = this.#prefix + value;
      if (this.#names.size < fieldNameLimit) this.#names.set(value, name);
    }
    return name;
  }
}

const costMarker = Symbol.for('gatehouse.models.costMiddleware');

/** Whether `middleware` was made by `costMiddleware()`: `models()` then adds no cost middleware of its own. */
export function isCostMiddleware(middleware: unknown): boolean {
  return typeof middleware === 'function' && (middleware as unknown as Record<symbol, unknown>)[costMarker] === true;
}

/**
 * Prices every call from its usage (streams included: an OpenAI chat stream is asked for its usage, which the
 * caller sees only if they asked for it too), sets `ctx.cost`, `gatehouse.cost.usd` on the call's span and
 * `cost` on the `model-call` event, and adds the cost to the store's totals for the day and the month (UTC) by
 * team, user, agent, route, target and model, which `costReport` reads. A model with no price is counted as
 * `unpriced` calls; a stream cut short is priced on the usage it reported before the cut.
 *
 * Totals are written without holding up the answer; a failed write is a `cost-record-failed` event.
 *
 * @example
 * models({ middleware: [costMiddleware({ prices: { providers: { llama: { '': { input: 0.2, output: 0.2 } } } } })] })
 */
export function costMiddleware(options: CostOptions = {}): ModelMiddleware {
  const book = priceBookOf(options.prices);
  const record = options.record !== false;
  const dayTtl = (options.keepDays ?? 90) * dayMs;
  const monthTtl = (options.keepMonthsDays ?? 731) * dayMs;
  const now = options.now ?? Date.now;
  const days = new PeriodClock('day');
  const months = new PeriodClock('month');
  let dayLabel = '';
  let dayKey = '';
  let monthLabel = '';
  let monthKey = '';
  const modelFields = new FieldNames('model:');
  const targetFields = new FieldNames('target:');
  const teamFields = new FieldNames('team:');
  const userFields = new FieldNames('user:');
  const agentFields = new FieldNames('agent:');
  const routeFields = new FieldNames('route:');

  const write = (context: ModelContext, store: Store, key: string, amounts: Record<string, number>, ttl: number) => {
    // Synchronous on the memory store: no promise on the hot path of a single process.
    if (store instanceof MemoryStore) return store.incrementFieldsSync(key, amounts, { ttlMs: ttl });
    store.incrementFields(key, amounts, { ttlMs: ttl }).catch((error: unknown) => {
      if (context.events.has(costRecordFailed))
        context.events.emit(costRecordFailed, {
          time: Date.now(),
          principal: context.principal,
          sessionId: context.sessionId,
          key,
          usd: amounts.total ?? 0,
          error: error instanceof Error ? error.message : String(error),
        } satisfies CostRecordFailedEvent as never);
    });
  };

  const settle = (context: ModelContext, target: TargetInfo, summary: ResultSummary) => {
    const usage = summary.usage;
    if (!usage) return;
    const price = book.price(target);
    const cost = price ? costOf(usage, price) : undefined;
    if (cost) {
      context.cost = cost;
      if (context.span.isRecording()) context.span.setAttribute(Attr.costUsd, cost.usd);
    }
    if (!record) return;
    const time = now();
    const day = days.at(time);
    if (day.label !== dayLabel) {
      dayLabel = day.label;
      dayKey = costKey('day', dayLabel);
    }
    const month = months.at(time);
    if (month.label !== monthLabel) {
      monthLabel = month.label;
      monthKey = costKey('month', monthLabel);
    }
    const amounts: Record<string, number> = cost
      ? { total: cost.usd, calls: 1, [modelFields.of(target.model)]: cost.usd, [targetFields.of(target.id)]: cost.usd }
      : { calls: 1, unpriced: 1 };
    if (cost) {
      const { principal, route } = context;
      if (principal.team !== undefined) amounts[teamFields.of(principal.team)] = cost.usd;
      if (principal.user !== undefined) amounts[userFields.of(principal.user)] = cost.usd;
      if (principal.agent !== undefined) amounts[agentFields.of(principal.agent)] = cost.usd;
      if (route !== undefined) amounts[routeFields.of(route.name)] = cost.usd;
    }
    write(context, context.store, dayKey, amounts, dayTtl);
    write(context, context.store, monthKey, amounts, monthTtl);
  };

  const middleware: ModelMiddleware = async (context, next) => {
    const hideUsage = requestStreamUsage(context.request);
    const result = await next();
    if (result.type === 'response') {
      settle(context, result.target, result.summary);
      return result;
    }
    return watchStream(result, hideUsage, () => settle(context, result.target, result.summary));
  };
  return Object.assign(middleware, { [costMarker]: true });
}
