import { InvalidInputError, type Store } from '@gatehouse/core';
import { costKey } from './cost-middleware.js';
import { flushCosts } from './ledger.js';
import { periodOf } from './period.js';

export interface CostReportOptions {
  period: 'day' | 'month';
  /** Any time within the period (a `Date`, epoch milliseconds or an ISO date like `2026-11-23`). Default: now. */
  date?: Date | number | string;
}

/** Totals in US dollars for one period (UTC), read from the store. */
export interface CostReport {
  period: 'day' | 'month';
  /** `2026-11-23` or `2026-11`. */
  label: string;
  total: number;
  /** Calls counted, priced or not. */
  calls: number;
  /** Calls to a model with no price (not in `total`). */
  unpriced: number;
  byTeam: Record<string, number>;
  byUser: Record<string, number>;
  byAgent: Record<string, number>;
  byRoute: Record<string, number>;
  /** By the model that answered (a route's target model). */
  byModel: Record<string, number>;
  /** By target, `provider:model`. */
  byTarget: Record<string, number>;
}

const groups = {
  team: 'byTeam',
  user: 'byUser',
  agent: 'byAgent',
  route: 'byRoute',
  model: 'byModel',
  target: 'byTarget',
} as const;

/**
 * The cost totals `costMiddleware` recorded for a day or a month, by team, user, agent, route, model and target.
 * The teams (users, …) listed are those that spent in the period: each total's field is its own index, written
 * in the same atomic step as the cost, in Redis too.
 *
 * @example
 * const { total, byTeam } = await costReport(gateway.store, { period: 'day' });
 */
export async function costReport(store: Store, options: CostReportOptions): Promise<CostReport> {
  if (options?.period !== 'day' && options?.period !== 'month')
    throw new InvalidInputError({
      message: `costReport: period must be 'day' or 'month', got ${String(options?.period)}`,
    });
  const time = timeOf(options.date);
  const label = periodOf(options.period, time).label;
  // Totals this process added up but has not written yet go out first.
  await flushCosts(store);
  const fields = await store.getFields(costKey(options.period, label));
  const report: CostReport = {
    period: options.period,
    label,
    total: fields.total ?? 0,
    calls: fields.calls ?? 0,
    unpriced: fields.unpriced ?? 0,
    byTeam: {},
    byUser: {},
    byAgent: {},
    byRoute: {},
    byModel: {},
    byTarget: {},
  };
  for (const [field, value] of Object.entries(fields)) {
    const colon = field.indexOf(':');
    if (colon < 0) continue;
    const group = groups[field.slice(0, colon) as keyof typeof groups];
    if (group) report[group][field.slice(colon + 1)] = value;
  }
  return report;
}

function timeOf(date: Date | number | string | undefined): number {
  if (date === undefined) return Date.now();
  const time = date instanceof Date ? date.getTime() : typeof date === 'number' ? date : Date.parse(date);
  if (!Number.isFinite(time))
    throw new InvalidInputError({
      message: `costReport: date must be a Date, epoch milliseconds or an ISO date like 2026-11-23, got ${String(date)}`,
    });
  return time;
}
