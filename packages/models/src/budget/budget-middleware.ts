import {
  BudgetExceededError,
  type ConsumeResult,
  type EventBase,
  type EventName,
  MemoryStore,
  parseOptions,
  RateLimitedError,
  type Store,
} from '@gatehouse/core';
import { z } from 'zod';
import type { ModelContext, ModelMiddleware, ResultSummary, TargetInfo } from '../context/index.js';
import { stepsMiddleware } from '../context/steps.js';
import { PeriodClock, type Window } from '../cost/period.js';
import { costOf, type PriceBook, type PriceOverrides, priceBookOf } from '../cost/price-book.js';
import type { ModelPrice } from '../cost/prices.js';
import { requestStreamUsage, watchStream } from '../usage/stream-usage.js';
import { estimateInputTokens, requestedOutputTokens, reservationPrice } from './estimate.js';

/** What a limit is kept per. `model` is the model the caller named (a route name or a provider's model). */
export type LimitScope = 'team' | 'user' | 'agent' | 'route' | 'model' | 'global';

/** One budget or rate limit: give exactly one of `dollars`, `tokens` or `requests`. */
export interface LimitOptions {
  /** Names the limit in errors, events and store keys. Default: `<per>[=<match>] <kind>/<window>`. */
  id?: string;
  /** Each team (user, agent, route, model) has its own counter; `global` one for all calls. */
  per: LimitScope;
  /** Only these teams (users, …) are limited; default all. Calls without the dimension are never limited by it. */
  match?: string | string[];
  /** A UTC calendar window (`minute`, `hour`, `day`, `month`) or `total` (never resets). */
  window: Window;
  dollars?: number;
  /** Input plus output tokens. */
  tokens?: number;
  requests?: number;
  /** A soft limit lets the call pass and emits `budget-warning`; a hard one (default) refuses it. */
  soft?: boolean;
}

export interface BudgetOptions {
  limits: LimitOptions[];
  /** Your prices over the built-in table, or a `PriceBook` shared with `costMiddleware`. */
  prices?: PriceBook | PriceOverrides;
  /** Output tokens reserved for a call that sets no `max_tokens`/`max_completion_tokens`. Default 1024. */
  defaultMaxOutputTokens?: number;
  /** Characters per token, to estimate input tokens from the request's text. Default 4. */
  charsPerToken?: number;
  /** The clock of the windows; for tests. Default `Date.now`. */
  now?: () => number;
}

/** A budget or rate limit was reached (`budget-exceeded`: refused) or passed (`budget-warning`: a soft limit). */
export interface BudgetEvent extends EventBase {
  /** The limit's id. */
  limit: string;
  per: LimitScope;
  /** The team (user, …) counted; `*` for `global`. */
  value: string;
  kind: 'dollars' | 'tokens' | 'requests';
  window: Window;
  /** The limit's amount. */
  max: number;
  /** What this call asked for (an estimate for dollars and tokens). */
  requested: number;
  /** What was left before this call. */
  remaining: number;
  /** When the window resets, for a refused call. */
  retryAfterMs: number | undefined;
  model: string;
  route: string | undefined;
}

declare module '@gatehouse/core' {
  interface GatehouseEventMap {
    'budget-warning': BudgetEvent;
    'budget-exceeded': BudgetEvent;
  }
}

// Core's `EventName` does not see layers' augmentations through its re-export yet (see telemetry/index.ts).
const budgetWarning = 'budget-warning' as EventName;
const budgetExceeded = 'budget-exceeded' as EventName;

const positive = z.number().finite().positive();
const limitSchema = z
  .strictObject({
    id: z.string().min(1).optional(),
    per: z.enum(['team', 'user', 'agent', 'route', 'model', 'global']),
    match: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    window: z.enum(['minute', 'hour', 'day', 'month', 'total']),
    dollars: positive.optional(),
    tokens: positive.optional(),
    requests: z.number().int().positive().optional(),
    soft: z.boolean().optional(),
  })
  .superRefine((limit, context) => {
    const kinds = (['dollars', 'tokens', 'requests'] as const).filter((kind) => limit[kind] !== undefined);
    if (kinds.length !== 1)
      context.addIssue({
        code: 'custom',
        message: `give exactly one of dollars, tokens or requests${kinds.length ? ` (got ${kinds.join(' and ')})` : ''}`,
      });
    if (limit.per === 'global' && limit.match !== undefined)
      context.addIssue({ code: 'custom', path: ['match'], message: 'a global limit has nothing to match' });
  });
const optionsSchema = z
  .strictObject({
    limits: z.array(limitSchema).min(1, { message: 'give at least one limit' }),
    prices: z.unknown().optional(),
    defaultMaxOutputTokens: z.number().int().min(0).optional(),
    charsPerToken: z.number().positive().optional(),
    now: z.custom<() => number>((value) => typeof value === 'function', 'expected a function () => number').optional(),
  })
  .superRefine((options, context) => {
    const seen = new Set<string>();
    for (const [index, limit] of options.limits.entries()) {
      const id = limitId(limit as LimitOptions);
      if (seen.has(id))
        context.addIssue({
          code: 'custom',
          path: ['limits', index, 'id'],
          message: `two limits are named "${id}"; give each an id`,
        });
      seen.add(id);
    }
  });

/** What `reserve` counts a share granted before a refusal as (only `allowed` is read of it). */
const granted: ConsumeResult = Object.freeze({ allowed: true, remaining: 0, resetAt: 0 });

/** `consume`, synchronous on the memory store: no promise on the hot path of a single process. */
function consumeNow(
  store: Store,
  key: string,
  amount: number,
  limit: number,
  windowMs: number,
  time: number | undefined,
): ConsumeResult | Promise<ConsumeResult> {
  return store instanceof MemoryStore
    ? store.consumeSync(key, amount, limit, windowMs, time)
    : store.consume(key, amount, limit, windowMs);
}

function limitId(limit: LimitOptions): string {
  if (limit.id) return limit.id;
  const kind = limit.dollars !== undefined ? 'dollars' : limit.tokens !== undefined ? 'tokens' : 'requests';
  const match = limit.match === undefined ? '' : `=${[limit.match].flat().join(',')}`;
  return `${limit.per}${match} ${kind}/${limit.window}`;
}

interface CompiledLimit {
  readonly id: string;
  readonly per: LimitScope;
  readonly match: ReadonlySet<string> | undefined;
  readonly kind: 'dollars' | 'tokens' | 'requests';
  readonly max: number;
  readonly window: Window;
  readonly clock: PeriodClock | undefined;
  readonly soft: boolean;
  /** `budget:<id>:`, the fixed part of every key of this limit. */
  readonly keyPrefix: string;
  /** The keys of the current period by value, built once each (see `keyOf`). */
  keys: Map<string, string>;
  /** The period label `keys` were built for. */
  keysLabel: string;
  /** The last value's key, in front of `keys`: a principal's calls follow one another. */
  lastValue: string | undefined;
  lastKey: string;
}

/** How many keys of one limit's period are kept built; past it they are built per call. */
const keyCacheLimit = 10_000;

/**
 * The store key of `value`'s counter in `label`'s period, built once per value and period: a string made per
 * call is hashed afresh by the store's `Map`, a kept one only once.
 */
function keyOf(limit: CompiledLimit, value: string, label: string | undefined): string {
  const period = label ?? '';
  if (limit.keysLabel !== period) {
    limit.keys = new Map();
    limit.keysLabel = period;
    limit.lastValue = undefined;
  } else if (value === limit.lastValue) return limit.lastKey;
  let key = limit.keys.get(value);
  if (key === undefined) {
    key = label === undefined ? `${limit.keyPrefix}${value}` : `${limit.keyPrefix}${value}:${label}`;
    if (limit.keys.size < keyCacheLimit) limit.keys.set(value, key);
  }
  limit.lastValue = value;
  limit.lastKey = key;
  return key;
}

/** One limit's share of one call. */
interface Reservation {
  readonly limit: CompiledLimit;
  readonly key: string;
  readonly value: string;
  amount: number;
  /** Epoch milliseconds the window ends (Infinity for `total`). */
  readonly endsAt: number;
}

function dimensionOf(limit: CompiledLimit, context: ModelContext): string | undefined {
  switch (limit.per) {
    case 'team':
      return context.principal.team;
    case 'user':
      return context.principal.user;
    case 'agent':
      return context.principal.agent;
    case 'route':
      return context.route?.name;
    case 'model':
      return context.model;
    case 'global':
      return '*';
  }
}

const units = {
  dollars: (value: number) => `$${round(value)}`,
  tokens: (value: number) => `${Math.ceil(value)} tokens`,
  requests: (value: number) => `${value} requests`,
};

function round(value: number): string {
  return value >= 0.01 ? value.toFixed(2) : value.toPrecision(2);
}

/**
 * Budgets and rate limits per team, user, agent, route or model (or for all calls): dollars, tokens or requests
 * per UTC minute, hour, day or month, or in total, held in the gateway's store (so across instances with a
 * `RedisStore`).
 *
 * Before a call each limit that applies reserves its share with `store.consume`: one request; the tokens and
 * dollars an estimate gives (input tokens from the request's text, output from `max_tokens` /
 * `max_completion_tokens` or `defaultMaxOutputTokens`, priced at the target's price; for a route, whose target
 * is not chosen yet, at the dearest of its targets). A hard limit that would be passed refuses the call with a
 * `RateLimitedError` (requests) or `BudgetExceededError` (tokens, dollars) carrying `retryAfterMs`, releases what
 * the other limits reserved and emits `budget-exceeded`; a soft one counts the call, emits `budget-warning` and
 * lets it pass. After the call the reservation is settled with the actual usage (refunded or topped up); a
 * failed call gets its tokens and dollars back (its request still counts); a stream settles when it ends, and
 * one cut short keeps at least its reservation, since the provider's usage of it is unknown.
 *
 * So the limit is never passed by more than the calls in flight reserved too little (their actual use above
 * the estimate).
 *
 * @example
 * budgetMiddleware({
 *   limits: [
 *     { per: 'team', window: 'day', dollars: 50 },
 *     { per: 'user', window: 'minute', requests: 20 },
 *     { per: 'team', match: 'research', window: 'month', tokens: 5_000_000, soft: true },
 *   ],
 * })
 */
export function budgetMiddleware(options: BudgetOptions): ModelMiddleware {
  const parsed = parseOptions(optionsSchema, options, 'budgetMiddleware') as BudgetOptions;
  const book = priceBookOf(parsed.prices as PriceBook | PriceOverrides | undefined);
  const defaultOutput = parsed.defaultMaxOutputTokens ?? 1024;
  const charsPerToken = parsed.charsPerToken ?? 4;
  const now = parsed.now ?? Date.now;
  /** The time this middleware read, for a memory store on the same clock (one clock read instead of one more per limit). */
  const storeTime = (store: Store, time: number): number | undefined =>
    parsed.now === undefined && store instanceof MemoryStore && store.systemClock ? time : undefined;
  const routePrices = new WeakMap<object, ModelPrice>();
  const limits: CompiledLimit[] = parsed.limits.map((limit) => {
    const kind = limit.dollars !== undefined ? 'dollars' : limit.tokens !== undefined ? 'tokens' : 'requests';
    const id = limitId(limit);
    return {
      id,
      per: limit.per,
      match: limit.match === undefined ? undefined : new Set([limit.match].flat()),
      kind,
      max: limit[kind]!,
      window: limit.window,
      clock: limit.window === 'total' ? undefined : new PeriodClock(limit.window),
      soft: limit.soft === true,
      keyPrefix: `budget:${id}:`,
      keys: new Map(),
      keysLabel: '',
      lastValue: undefined,
      lastKey: '',
    };
  });
  const measured = limits.some((limit) => limit.kind !== 'requests');
  const priced = limits.some((limit) => limit.kind === 'dollars');

  const event = (
    context: ModelContext,
    type: EventName,
    reservation: Reservation,
    remaining: number,
    retryAfterMs: number | undefined,
  ) => {
    if (!context.events.has(type)) return;
    context.events.emit(type, {
      time: Date.now(),
      principal: context.principal,
      sessionId: context.sessionId,
      limit: reservation.limit.id,
      per: reservation.limit.per,
      value: reservation.value,
      kind: reservation.limit.kind,
      window: reservation.limit.window,
      max: reservation.limit.max,
      requested: reservation.amount,
      remaining,
      retryAfterMs,
      model: context.model,
      route: context.route?.name,
    } satisfies BudgetEvent as never);
  };

  /** Adds `amount` to a reservation's counter whatever the limit (a top-up or a refund), in its own window. */
  const adjust = (store: Store, reservation: Reservation, amount: number, time: number) => {
    if (amount === 0 || time >= reservation.endsAt) return;
    const windowMs = reservation.endsAt === Infinity ? 0 : reservation.endsAt - time;
    const done = consumeNow(store, reservation.key, amount, Infinity, windowMs, storeTime(store, time));
    // Settling must not fail the call it follows; a lost refund only makes the limit stricter for a while.
    if (done instanceof Promise) done.catch(() => {});
  };

  const settle = (
    context: ModelContext,
    reservations: Reservation[],
    target: TargetInfo,
    summary: ResultSummary,
    completed: boolean,
  ) => {
    const usage = summary.usage;
    const time = now();
    let tokens: number | undefined;
    let dollars: number | undefined;
    if (usage) {
      tokens = (usage.inputTokens ?? 0) + (usage.outputTokens ?? 0);
      if (priced) {
        // The cost middleware (inside this one) has priced the call already; else the price is looked up here.
        dollars = context.cost?.usd;
        if (dollars === undefined) {
          const price = book.price(target);
          if (price) dollars = costOf(usage, price).usd;
        }
      }
    }
    for (const reservation of reservations) {
      const kind = reservation.limit.kind;
      if (kind === 'requests') continue;
      const actual = kind === 'tokens' ? tokens : dollars;
      // Unknown use, or a stream cut short: keep the reservation, topped up if more was already reported.
      if (actual === undefined) continue;
      const charge = completed ? actual : Math.max(actual, reservation.amount);
      adjust(context.store, reservation, charge - reservation.amount, time);
    }
  };

  /** What a call reserved, and whether the usage its stream was asked for must be hidden from the caller. */
  interface Held {
    reservations: Reservation[];
    hideUsage: boolean;
  }
  const held = (context: ModelContext, reservations: Reservation[]): Held => ({
    reservations,
    hideUsage: measured && requestStreamUsage(context.request),
  });

  // As steps: leading the layer's chain they run in the call's own promise step (none of their own); a call the
  // memory store answers at once never waits.
  return stepsMiddleware<Held | undefined>({
    before: (context) => {
      const time = now();
      let reservations: Reservation[] | undefined;
      // The estimate, made once for the first limit that counts tokens or dollars.
      let tokens = -1;
      let dollars = 0;
      for (let index = 0; index < limits.length; index++) {
        const limit = limits[index]!;
        const value = dimensionOf(limit, context);
        if (value === undefined || (limit.match !== undefined && !limit.match.has(value))) continue;
        let amount = 1;
        if (limit.kind !== 'requests') {
          if (tokens < 0) {
            const input = estimateInputTokens(context.request.body, charsPerToken);
            const output = requestedOutputTokens(context, defaultOutput);
            tokens = input + output;
            if (priced) {
              const price = reservationPrice(context, book, routePrices);
              dollars = (input * price.input + output * price.output) / 1e6;
            }
          }
          amount = limit.kind === 'tokens' ? tokens : dollars;
        }
        const period = limit.clock?.at(time);
        (reservations ??= []).push({
          limit,
          key: keyOf(limit, value, period?.label),
          value,
          amount,
          endsAt: period ? period.endsAt : Infinity,
        });
      }
      if (reservations === undefined) return undefined;
      const all = reservations;
      const reserving = reserve(context, all, time);
      return reserving ? reserving.then(() => held(context, all)) : held(context, all);
    },
    after: (context, result, state) => {
      if (state === undefined || !measured) return result;
      const { reservations, hideUsage } = state;
      if (result.type === 'response') {
        settle(context, reservations, result.target, result.summary, true);
        return result;
      }
      return watchStream(result, hideUsage, (completed) =>
        settle(context, reservations, result.target, result.summary, completed),
      );
    },
    failed: (context, _error, state) => {
      if (state === undefined) return;
      const failedAt = now();
      for (const reservation of state.reservations)
        if (reservation.limit.kind !== 'requests') adjust(context.store, reservation, -reservation.amount, failedAt);
    },
  });

  /** Reserves every share; throws when a hard limit refuses. A promise only when the store answers with one. */
  function reserve(context: ModelContext, reservations: Reservation[], time: number): Promise<void> | undefined {
    const store = context.store;
    if (store instanceof MemoryStore) {
      // Answered at once: when every share is granted (almost every call) nothing more is made.
      let results: ConsumeResult[] | undefined;
      const at = storeTime(store, time);
      for (let index = 0; index < reservations.length; index++) {
        const reservation = reservations[index]!;
        const windowMs = reservation.endsAt === Infinity ? 0 : reservation.endsAt - time;
        const result = store.consumeSync(reservation.key, reservation.amount, reservation.limit.max, windowMs, at);
        if (results === undefined && result.allowed) continue;
        results ??= new Array<ConsumeResult>(index).fill(granted);
        results.push(result);
      }
      return results === undefined ? undefined : decide(context, reservations, results, time);
    }
    const answers: Promise<ConsumeResult>[] = [];
    for (const reservation of reservations) {
      const windowMs = reservation.endsAt === Infinity ? 0 : reservation.endsAt - time;
      answers.push(store.consume(reservation.key, reservation.amount, reservation.limit.max, windowMs));
    }
    return Promise.all(answers).then((results) => decide(context, reservations, results, time));
  }

  function decide(
    context: ModelContext,
    reservations: Reservation[],
    results: ConsumeResult[],
    time: number,
  ): Promise<void> | undefined {
    const store = context.store;
    let refused: { reservation: Reservation; remaining: number } | undefined;
    let forced: Promise<unknown>[] | undefined;
    // Index loops: `entries()` makes an iterator and a pair per reservation on every call.
    for (let index = 0; index < reservations.length; index++) {
      const result = results[index]!;
      if (result.allowed) continue;
      const reservation = reservations[index]!;
      if (reservation.limit.soft) {
        // Counted anyway: a soft limit tells, it does not stop.
        const windowMs = reservation.endsAt === Infinity ? 0 : reservation.endsAt - time;
        const done = consumeNow(store, reservation.key, reservation.amount, Infinity, windowMs, storeTime(store, time));
        if (done instanceof Promise) (forced ??= []).push(done);
        event(context, budgetWarning, reservation, result.remaining, undefined);
      } else {
        refused ??= { reservation, remaining: result.remaining };
      }
    }
    if (!refused) return forced ? Promise.all(forced).then(() => undefined) : undefined;
    if (forced) for (const done of forced) done.catch(() => {});
    // Nothing of a refused call stays counted: what the other limits granted goes back (commands to one store
    // run in order, so a soft limit's forced count is in before its refund).
    for (const [index, reservation] of reservations.entries())
      if (results[index]!.allowed || reservation.limit.soft) adjust(store, reservation, -reservation.amount, time);
    const { reservation, remaining } = refused;
    const retryAfterMs = reservation.endsAt === Infinity ? undefined : Math.max(0, reservation.endsAt - time);
    event(context, budgetExceeded, reservation, remaining, retryAfterMs);
    throw refusal(reservation, remaining, retryAfterMs);
  }
}

function refusal(reservation: Reservation, remaining: number, retryAfterMs: number | undefined): Error {
  const { limit, value, amount } = reservation;
  const show = units[limit.kind];
  const who = limit.per === 'global' ? 'all calls' : `${limit.per} "${value}"`;
  const window = limit.window === 'total' ? 'in total' : `per ${limit.window}`;
  const left =
    amount > limit.max
      ? `this call alone needs ${show(amount)}, more than the whole limit; lower max_tokens or raise the limit`
      : `${show(remaining)} left, this call needs ${show(amount)}${retryAfterMs === undefined ? '' : `; the window resets in ${Math.ceil(retryAfterMs / 1000)} s`}`;
  const message = `limit "${limit.id}" reached for ${who}: ${show(limit.max)} ${window}, ${left}`;
  const name = `${limit.per}:${value} ${limit.kind}/${limit.window}`;
  return limit.kind === 'requests'
    ? new RateLimitedError({ message, limit: name, retryAfterMs })
    : new BudgetExceededError({ message, limit: name, retryAfterMs });
}
