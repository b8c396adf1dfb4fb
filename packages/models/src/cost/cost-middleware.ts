import { Attr, ConfigError, type EventBase, type EventName, type Principal, type Store } from '@gatehouse/core';
import type { ModelContext, ModelMiddleware, ResultSummary, TargetInfo } from '../context/index.js';
import { stepsMiddleware } from '../context/steps.js';
import { requestStreamUsage, watchStream } from '../usage/stream-usage.js';
import { type Amount, type Batch, CostLedger, type Row } from './ledger.js';
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

/** What a priced call to one target (through one route, or none) adds to, side by side (see `Row`). */
interface TargetRow extends Row {
  readonly routeName: string | undefined;
}

/** The indexes of a `TargetRow`'s values: calls, total, model, target, route. */
const [callsAt, totalAt, modelAt, targetAt, routeAt] = [0, 1, 2, 3, 4] as const;

/** What a call by one principal adds to: its team's, user's and agent's totals (those it has). */
interface PrincipalRow extends Row {
  readonly principal: Principal;
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

  /** The row of `target` in `batch`, made the first time (or when the call came through another route). */
  const targetRow = (batch: Batch, target: TargetInfo, routeName: string | undefined): TargetRow => {
    let row = batch.rows.get(target) as TargetRow | undefined;
    if (row === undefined || row.routeName !== routeName) {
      const fields = ['calls', 'total', modelFields.of(target.model), targetFields.of(target.id)];
      if (routeName !== undefined) fields.push(routeFields.of(routeName));
      row = { routeName, fields, values: new Float64Array(fields.length) };
      batch.rows.set(target, row);
      batch.rowList.push(row);
    }
    return row;
  };

  /** A row for `principal` in `batch`: its team, user and agent fields (those it has). */
  const principalRow = (batch: Batch, principal: Principal): PrincipalRow => {
    const fields: string[] = [];
    if (principal.team !== undefined) fields.push(teamFields.of(principal.team));
    if (principal.user !== undefined) fields.push(userFields.of(principal.user));
    if (principal.agent !== undefined) fields.push(agentFields.of(principal.agent));
    const row = { principal, fields, values: new Float64Array(fields.length) };
    batch.rowList.push(row);
    return row;
  };

  // The last call's rows, in front of the batch's map: a busy target's calls (and a principal's) follow one another.
  let lastBatch: Batch | undefined;
  let lastTarget: TargetRow | undefined;
  let lastTargetInfo: TargetInfo | undefined;
  let lastPrincipal: PrincipalRow | undefined;
  /** The principal of the call before (a scope's principal is one object for every call under it). */
  let previousPrincipal: Principal | undefined;

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
    if (!cost) {
      add(batch.amounts, 'calls', 1);
      add(batch.amounts, 'unpriced', 1);
      return;
    }
    const usd = cost.usd;
    const { principal, route } = context;
    const routeName = route?.name;
    if (batch !== lastBatch) {
      lastBatch = batch;
      lastTarget = lastTargetInfo = lastPrincipal = previousPrincipal = undefined;
    }
    let row = lastTarget;
    if (target !== lastTargetInfo || row!.routeName !== routeName) {
      lastTarget = row = targetRow(batch, target, routeName);
      lastTargetInfo = target;
    }
    const values = row!.values;
    values[callsAt] = values[callsAt]! + 1;
    values[totalAt] = values[totalAt]! + usd;
    values[modelAt] = values[modelAt]! + usd;
    values[targetAt] = values[targetAt]! + usd;
    if (routeName !== undefined) values[routeAt] = values[routeAt]! + usd;
    if (principal.team === undefined && principal.user === undefined && principal.agent === undefined) return;
    let own = lastPrincipal;
    if (own === undefined || own.principal !== principal) {
      if (principal !== previousPrincipal) {
        // A principal seen once (a scope per request with one call in it): its fields' totals directly, no row.
        previousPrincipal = principal;
        const { amounts } = batch;
        if (principal.team !== undefined) add(amounts, teamFields.of(principal.team), usd);
        if (principal.user !== undefined) add(amounts, userFields.of(principal.user), usd);
        if (principal.agent !== undefined) add(amounts, agentFields.of(principal.agent), usd);
        return;
      }
      // The same principal again (a default scope, several calls in one scope): a row of its own from now on.
      lastPrincipal = own = principalRow(batch, principal);
    }
    const shares = own.values;
    for (let index = 0; index < shares.length; index++) shares[index] = shares[index]! + usd;
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
