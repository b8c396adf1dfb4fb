/**
 * Prices in US dollars per million tokens, as the providers list them for standard (non-batch, non-priority)
 * use. `cacheRead` is the price of cached input (OpenAI "cached input", Anthropic "cache hits"); `cacheWrite`
 * the price of writing the cache (Anthropic 5-minute writes; OpenAI does not charge writes). A missing
 * `cacheRead` or `cacheWrite` is priced as `input`.
 */
export interface ModelPrice {
  input: number;
  output: number;
  cacheRead?: number;
  cacheWrite?: number;
}

/**
 * Prices per provider and model. Provider keys are provider kinds (`openai`, `anthropic`) or names from
 * `models({ providers })` (a self-hosted `llama`); model keys are model-name prefixes: a dated snapshot
 * (`gpt-4o-2024-08-06`, `claude-sonnet-4-5-20250929`) takes the price of its longest listed prefix, and `''`
 * prices every model of the provider.
 */
export interface PriceTable {
  /** The date the prices were taken (YYYY-MM-DD); check the providers' pricing pages for changes. */
  asOf: string;
  providers: Record<string, Record<string, ModelPrice>>;
}

const anthropic = (input: number, output: number): ModelPrice => ({
  input,
  output,
  cacheRead: round(input * 0.1),
  cacheWrite: round(input * 1.25),
});

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/**
 * The built-in table, from openai.com/api/pricing and docs.anthropic.com pricing. Not modelled: batch and
 * priority tiers, Anthropic's 1-hour cache writes (2× input) and long-context (> 200k input) rates.
 */
export const defaultPrices: PriceTable = {
  asOf: '2026-11-23',
  providers: {
    openai: {
      'gpt-5.1': { input: 1.25, output: 10, cacheRead: 0.125 },
      'gpt-5-pro': { input: 15, output: 120 },
      'gpt-5': { input: 1.25, output: 10, cacheRead: 0.125 },
      'gpt-5-mini': { input: 0.25, output: 2, cacheRead: 0.025 },
      'gpt-5-nano': { input: 0.05, output: 0.4, cacheRead: 0.005 },
      'gpt-4.1': { input: 2, output: 8, cacheRead: 0.5 },
      'gpt-4.1-mini': { input: 0.4, output: 1.6, cacheRead: 0.1 },
      'gpt-4.1-nano': { input: 0.1, output: 0.4, cacheRead: 0.025 },
      'gpt-4o': { input: 2.5, output: 10, cacheRead: 1.25 },
      // The first gpt-4o snapshot kept its launch price.
      'gpt-4o-2024-05-13': { input: 5, output: 15 },
      'gpt-4o-mini': { input: 0.15, output: 0.6, cacheRead: 0.075 },
      'gpt-4-turbo': { input: 10, output: 30 },
      'gpt-4': { input: 30, output: 60 },
      'gpt-3.5-turbo': { input: 0.5, output: 1.5 },
      o1: { input: 15, output: 60, cacheRead: 7.5 },
      'o1-mini': { input: 1.1, output: 4.4, cacheRead: 0.55 },
      'o1-pro': { input: 150, output: 600 },
      o3: { input: 2, output: 8, cacheRead: 0.5 },
      'o3-pro': { input: 20, output: 80 },
      'o3-mini': { input: 1.1, output: 4.4, cacheRead: 0.55 },
      'o4-mini': { input: 1.1, output: 4.4, cacheRead: 0.275 },
      'text-embedding-3-small': { input: 0.02, output: 0 },
      'text-embedding-3-large': { input: 0.13, output: 0 },
      'text-embedding-ada-002': { input: 0.1, output: 0 },
    },
    anthropic: {
      'claude-opus-4-6': anthropic(5, 25),
      'claude-opus-4-5': anthropic(5, 25),
      'claude-opus-4-1': anthropic(15, 75),
      'claude-opus-4': anthropic(15, 75),
      'claude-sonnet-4-6': anthropic(3, 15),
      'claude-sonnet-4-5': anthropic(3, 15),
      'claude-sonnet-4': anthropic(3, 15),
      'claude-3-7-sonnet': anthropic(3, 15),
      'claude-3-5-sonnet': anthropic(3, 15),
      'claude-haiku-4-5': anthropic(1, 5),
      'claude-3-5-haiku': anthropic(0.8, 4),
      'claude-3-opus': anthropic(15, 75),
      'claude-3-haiku': { input: 0.25, output: 1.25, cacheRead: 0.03, cacheWrite: 0.3 },
    },
  },
};
