import { BudgetExceededError, createGateway, GatehouseError } from '@gatehouse/core';
import { RedisStore } from '@gatehouse/core/redis';
import OpenAI from 'openai';
import { costMiddleware } from '../cost/cost-middleware.js';
import { flushCosts } from '../cost/ledger.js';
import { costOf, PriceBook } from '../cost/price-book.js';
import { models } from '../layer/index.js';
import { budgetMiddleware } from './budget-middleware.js';

export interface BudgetJobInput {
  redisUrl: string;
  prefix: string;
  openaiBaseURL: string;
  calls: number;
  dollars: number;
  /** Output tokens reserved for a call without `max_tokens` (set low, so those calls under-reserve). */
  defaultMaxOutputTokens: number;
}

export interface BudgetJobOutput {
  granted: number;
  refused: number;
  /** Error codes other than a budget refusal (there should be none). */
  otherErrors: string[];
  /** What the granted calls cost, from the usage each answer reported. */
  actualUsd: number;
  /** Over all granted calls, what each cost above its reservation. */
  overrunUsd: number;
}

/**
 * A `runInProcesses` job: one app instance (its own gateway, `RedisStore` and budget middleware) firing
 * `calls` concurrent chat completions through a wrapped OpenAI client at one global dollar budget.
 */
export async function budgetJob(input: BudgetJobInput) {
  const store = new RedisStore({ url: input.redisUrl, prefix: input.prefix });
  const book = new PriceBook();
  const gateway = createGateway({
    store,
    models: models({
      middleware: [
        budgetMiddleware({
          limits: [{ per: 'global', window: 'total', dollars: input.dollars }],
          prices: book,
          defaultMaxOutputTokens: input.defaultMaxOutputTokens,
        }),
        costMiddleware({ prices: book }),
      ],
    }),
  });
  const openai = gateway.wrap(new OpenAI({ baseURL: input.openaiBaseURL, apiKey: 'sk-test', maxRetries: 0 }));
  const price = book.find('openai', 'openai', 'gpt-4o')!;
  await store.get('warm-up');
  return {
    async run(): Promise<BudgetJobOutput> {
      const output: BudgetJobOutput = { granted: 0, refused: 0, otherErrors: [], actualUsd: 0, overrunUsd: 0 };
      await Promise.all(
        Array.from({ length: input.calls }, async (_, index) => {
          // 400 characters: 100 input tokens estimated; every other call caps its output at 300 tokens.
          const maxTokens = index % 2 === 0 ? 300 : undefined;
          try {
            const completion = await gateway.run({ principal: { team: `team-${index % 3}` } }, () =>
              openai.chat.completions.create({
                model: 'gpt-4o',
                messages: [{ role: 'user', content: 'a'.repeat(400) }],
                ...(maxTokens === undefined ? {} : { max_tokens: maxTokens }),
              }),
            );
            const usage = completion.usage!;
            const actual = costOf(
              { inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens },
              price,
            ).usd;
            const reserved = (100 * price.input + (maxTokens ?? input.defaultMaxOutputTokens) * price.output) / 1e6;
            output.granted++;
            output.actualUsd += actual;
            output.overrunUsd += Math.max(0, actual - reserved);
          } catch (error) {
            if (BudgetExceededError.isInstance(error)) output.refused++;
            else output.otherErrors.push(GatehouseError.isInstance(error) ? error.code : String(error));
          }
        }),
      );
      // Cost totals are written in batches: this instance's go out before it reports (and long before it exits).
      await flushCosts(store);
      return output;
    },
    close: () => gateway.close(),
  };
}
