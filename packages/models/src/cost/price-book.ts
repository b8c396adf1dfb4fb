import { ConfigError, parseOptions } from '@gatehouse/core';
import { z } from 'zod';
import type { Usage } from '../context/index.js';
import { defaultPrices, type ModelPrice, type PriceTable } from './prices.js';

/** What a call cost, in US dollars, and how it splits. */
export interface Cost {
  usd: number;
  /** Uncached input tokens at the input price. */
  inputUsd: number;
  /** Output tokens (reasoning included) at the output price. */
  outputUsd: number;
  cacheReadUsd: number;
  cacheWriteUsd: number;
}

/**
 * Your prices, merged over the built-in table model by model: a provider kind (`openai`) to change or add a
 * model, or a provider name from `models({ providers })` for a self-hosted model at your own price.
 *
 * @example
 * { providers: { llama: { '': { input: 0.2, output: 0.2 } }, openai: { 'ft:gpt-4o-mini': { input: 0.3, output: 1.2 } } } }
 */
export interface PriceOverrides {
  /** When the prices were taken (YYYY-MM-DD); defaults to the built-in table's. */
  asOf?: string;
  providers: Record<string, Record<string, ModelPrice>>;
  /** `false` starts from an empty table instead of the built-in one. Default true. */
  extendDefaults?: boolean;
}

const amount = z.number().finite().min(0);
const priceSchema = z.strictObject({
  input: amount,
  output: amount,
  cacheRead: amount.optional(),
  cacheWrite: amount.optional(),
});
const overridesSchema = z.strictObject({
  asOf: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD')
    .optional(),
  providers: z.record(z.string().min(1), z.record(z.string(), priceSchema)),
  extendDefaults: z.boolean().optional(),
});

/** What a price is looked up by: a route target or the client of a call (see `TargetInfo`). */
export interface PricedTarget {
  /** `provider:model`: the memo key. */
  readonly id: string;
  readonly provider: string;
  readonly kind: string;
  readonly model: string;
}

/** Bounds the memo: a client used with endlessly many model names must not grow it without limit. */
const memoLimit = 10_000;

/**
 * A price table with lookup by longest model-name prefix, memoised per target so a call's price is one `Map`
 * lookup. The provider's name is looked up first, then its kind: an OpenAI client named `primary` gets the
 * OpenAI prices, a vLLM server named `llama` the prices you give for `llama` (and none otherwise).
 */
export class PriceBook {
  /** The table in use: the built-in one with your overrides merged in. */
  readonly table: PriceTable;
  /** Per provider, its model prefixes longest first. */
  readonly #prefixes = new Map<string, readonly [string, ModelPrice][]>();
  readonly #memo = new Map<string, ModelPrice | null>();

  constructor(overrides?: PriceOverrides) {
    const parsed = overrides
      ? (parseOptions(overridesSchema, overrides, 'prices') as PriceOverrides)
      : { providers: {} };
    const providers: Record<string, Record<string, ModelPrice>> = {};
    if (parsed.extendDefaults !== false)
      for (const [name, models] of Object.entries(defaultPrices.providers)) providers[name] = { ...models };
    for (const [name, models] of Object.entries(parsed.providers)) providers[name] = { ...providers[name], ...models };
    this.table = { asOf: parsed.asOf ?? defaultPrices.asOf, providers };
    for (const [name, models] of Object.entries(providers))
      this.#prefixes.set(
        name,
        Object.entries(models).sort(([a], [b]) => b.length - a.length),
      );
  }

  /** The price of a target's model, or undefined when the table has none. Memoised by `target.id`. */
  price(target: PricedTarget): ModelPrice | undefined {
    // The last target asked for, in front of the memo: a route's calls mostly go to its first target.
    if (target === this.#lastTarget) return this.#lastPrice;
    const price = this.#lookUp(target);
    this.#lastTarget = target;
    this.#lastPrice = price;
    return price;
  }

  #lastTarget: PricedTarget | undefined;
  #lastPrice: ModelPrice | undefined;

  #lookUp(target: PricedTarget): ModelPrice | undefined {
    const known = this.#memo.get(target.id);
    if (known !== undefined) return known ?? undefined;
    const found = this.find(target.provider, target.kind, target.model);
    if (this.#memo.size < memoLimit) this.#memo.set(target.id, found ?? null);
    return found;
  }

  /** Looks a price up without the memo: the provider name's table first, then the kind's. */
  find(provider: string, kind: string, model: string): ModelPrice | undefined {
    return this.#longestPrefix(provider, model) ?? (kind !== provider ? this.#longestPrefix(kind, model) : undefined);
  }

  #longestPrefix(provider: string, model: string): ModelPrice | undefined {
    const prefixes = this.#prefixes.get(provider);
    if (!prefixes) return undefined;
    for (const [prefix, price] of prefixes) if (model.startsWith(prefix)) return price;
    return undefined;
  }

  /**
   * Like `price`, but a missing price is a `ConfigError` that says how to add one (for dollar budgets, which
   * cannot hold without it).
   */
  require(target: PricedTarget): ModelPrice {
    const price = this.price(target);
    if (price) return price;
    throw new ConfigError({
      message: `no price for ${target.id}: add one with prices: { providers: { '${target.provider}': { '${target.model}': { input: <$/M tokens>, output: <$/M tokens> } } } }`,
      path: 'prices',
    });
  }
}

/**
 * Prices usage per the GenAI conventions: `inputTokens` includes cache reads and writes, which are taken out and
 * priced at their own rates; `outputTokens` includes reasoning.
 */
export function costOf(usage: Usage, price: ModelPrice): Cost {
  const read = usage.cacheReadInputTokens ?? 0;
  const write = usage.cacheCreationInputTokens ?? 0;
  const uncached = Math.max(0, (usage.inputTokens ?? 0) - read - write);
  const inputUsd = (uncached * price.input) / 1e6;
  const outputUsd = ((usage.outputTokens ?? 0) * price.output) / 1e6;
  const cacheReadUsd = (read * (price.cacheRead ?? price.input)) / 1e6;
  const cacheWriteUsd = (write * (price.cacheWrite ?? price.input)) / 1e6;
  return { usd: inputUsd + outputUsd + cacheReadUsd + cacheWriteUsd, inputUsd, outputUsd, cacheReadUsd, cacheWriteUsd };
}

/** A `PriceBook` from overrides, or the one given (so several middlewares share one memo). */
export function priceBookOf(prices: PriceBook | PriceOverrides | undefined): PriceBook {
  return prices instanceof PriceBook ? prices : new PriceBook(prices);
}
