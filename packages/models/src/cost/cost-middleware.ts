import { Attr, ConfigError, type EventBase, type EventName, type Store } from '@gatehouse/core';
import type { ModelContext, ModelMiddleware, ResultSummary, TargetInfo } from '../context/index.js';
import { stepsMiddleware } from '../context/steps.js';
import { requestStreamUsage, watchStream } from '../usage/stream-usage.js';
import { type Amount, CostLedger } from './ledger.js';
import { PeriodClock } from './period.js';
import { costOf, type PriceBook, type PriceOverrides, priceBookOf } from './price-book.js';

/**
 * A batch of cost totals could not be written to the store (the calls themselves went through); it is kept and
 * tried again with the next write. `principal` is empty: a batch adds up many callers' calls.
 */
export interface CostRecordFailedEvent extends EventBase {
  /** The store key that was not written. */
  key: string;
  /** The dollars the failed write carried. */
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
  /**
   * How long totals are added up in the process before one write to the store, in milliseconds. Default 1000;
   * 0 writes at the end of each turn of the event loop. Reports (`gateway.models.costs()`, `costReport`) and
   * `gateway.close()` write what is pending first; other instances see a total up to this much later.
   */
  flushMs?: number;
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

/** Adds `amount` to one field of a batch. */
function add(amounts: Map<string, Amount>, field: string, amount: number): void {
  box(amounts, field).value += amount;
}

/** The box of one field of a batch, made at 0 the first time. */
function box(amounts: Map<string, Amount>, field: string): Amount {
  let total = amounts.get(field);
  if (total === undefined) amounts.set(field, (total = { value: 0 }));
  return total;
}

/** The boxes a priced call to one target (through one route, or none) adds to. */
interface Row {
  readonly routeName: string | undefined;
  readonly calls: Amount;
  readonly total: Amount;
  readonly model: Amount;
  readonly target: Amount;
  readonly route: Amount | undefined;
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
 * Totals are added up in the process and written to the store once per `flushMs` (one write per period, not two
 * per call), never holding up an answer; a failed write is a `cost-record-failed` event and is tried again with
 * the next one.
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
  const flushMs = options.flushMs ?? 1000;
  if (!Number.isInteger(flushMs) || flushMs < 0)
    throw new ConfigError({
      message: `costMiddleware: flushMs must be a whole number of milliseconds, 0 or more, got ${String(flushMs)}`,
      path: 'costs.flushMs',
    });
  const days = new PeriodClock('day');
  const months = new PeriodClock('month');
  // The day (and month) the last call was counted in: the keys stand until the clock leaves that day.
  let dayKey = '';
  let monthKey = '';
  let periodStartsAt = Number.POSITIVE_INFINITY;
  let periodEndsAt = Number.NEGATIVE_INFINITY;
  const enterPeriod = (time: number) => {
    const day = days.at(time);
    const month = months.at(time);
    dayKey = costKey('day', day.label);
    monthKey = costKey('month', month.label);
    periodStartsAt = day.startsAt;
    periodEndsAt = day.endsAt;
  };
  const modelFields = new FieldNames('model:');
  const targetFields = new FieldNames('target:');
  const teamFields = new FieldNames('team:');
  const userFields = new FieldNames('user:');
  const agentFields = new FieldNames('agent:');
  const routeFields = new FieldNames('route:');

  // One ledger per store the middleware writes to (one per gateway using it); a failed write is told on the
  // event bus of the gateway that first wrote there.
  const ledgers = new WeakMap<Store, { ledger: CostLedger; events: ModelContext['events'] }>();
  // The last store's ledger, in front of the WeakMap: one gateway's calls ask for the same one each time.
  let lastStore: Store | undefined;
  let lastLedger: CostLedger | undefined;
  const ledgerOf = (context: ModelContext): CostLedger => {
    if (context.store === lastStore) return lastLedger!;
    let entry = ledgers.get(context.store);
    if (entry === undefined) {
      const holder = { ledger: undefined as unknown as CostLedger, events: context.events };
      holder.ledger = new CostLedger(context.store, {
        flushMs,
        dayTtlMs: dayTtl,
        monthTtlMs: monthTtl,
        onWriteFailed: ({ key, usd, error }) => {
          if (!holder.events.has(costRecordFailed)) return;
          holder.events.emit(costRecordFailed, {
            time: Date.now(),
            principal: {},
            key,
            usd,
            error: error instanceof Error ? error.message : String(error),
          } satisfies CostRecordFailedEvent as never);
        },
      });
      ledgers.set(context.store, (entry = holder));
    }
    lastStore = context.store;
    lastLedger = entry.ledger;
    return entry.ledger;
  };

  let lastTarget: TargetInfo | undefined;
  let lastBatch: object | undefined;
  let lastRow: Row | undefined;

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
    // A day lies within one month: one check of two numbers on every call.
    if (time >= periodEndsAt || time < periodStartsAt) enterPeriod(time);
    const batch = ledgerOf(context).batch(dayKey, monthKey);
    const { amounts } = batch;
    if (!cost) {
      add(amounts, 'calls', 1);
      add(amounts, 'unpriced', 1);
      return;
    }
    const usd = cost.usd;
    const { principal, route } = context;
    const routeName = route?.name;
    // The last call's row, in front of the batch's map: a busy target's calls follow one another.
    let row = target === lastTarget && batch === lastBatch ? lastRow : (batch.rows.get(target) as Row | undefined);
    if (row === undefined || row.routeName !== routeName) {
      row = {
        routeName,
        calls: box(amounts, 'calls'),
        total: box(amounts, 'total'),
        model: box(amounts, modelFields.of(target.model)),
        target: box(amounts, targetFields.of(target.id)),
        route: routeName === undefined ? undefined : box(amounts, routeFields.of(routeName)),
      };
      batch.rows.set(target, row);
    }
    lastTarget = target;
    lastBatch = batch;
    lastRow = row;
    row.calls.value += 1;
    row.total.value += usd;
    row.model.value += usd;
    row.target.value += usd;
    if (row.route !== undefined) row.route.value += usd;
    if (principal.team !== undefined) add(amounts, teamFields.of(principal.team), usd);
    if (principal.user !== undefined) add(amounts, userFields.of(principal.user), usd);
    if (principal.agent !== undefined) add(amounts, agentFields.of(principal.agent), usd);
  };

  // As steps: leading the layer's chain they run in the call's own promise step (none of their own).
  const middleware = stepsMiddleware<boolean>({
    before: (context) => requestStreamUsage(context.request),
    after: (context, result, hideUsage) => {
      if (result.type === 'response') {
        settle(context, result.target, result.summary);
        return result;
      }
      return watchStream(result, hideUsage, () => settle(context, result.target, result.summary));
    },
  });
  return Object.assign(middleware, { [costMarker]: true });
}
