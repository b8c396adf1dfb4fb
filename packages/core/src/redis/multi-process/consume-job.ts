import { RedisStore } from '../index.js';

export interface ConsumeJobInput {
  url: string;
  prefix: string;
  key: string;
  limit: number;
  windowMs: number;
  /** Every amount is consumed concurrently, all at once. */
  amounts: number[];
}

export interface ConsumeJobOutput {
  /** The amounts that were granted. */
  granted: number[];
  refused: number;
}

/** A `runInProcesses` job: one app instance firing concurrent `consume` calls at one shared limit. */
export async function consumeJob(input: ConsumeJobInput) {
  const store = new RedisStore({ url: input.url, prefix: input.prefix });
  // Connect before "ready", so the race starts with every process connected.
  await store.get('warm-up');
  return {
    async run(): Promise<ConsumeJobOutput> {
      const results = await Promise.all(
        input.amounts.map((amount) => store.consume(input.key, amount, input.limit, input.windowMs)),
      );
      return {
        granted: input.amounts.filter((_, i) => results[i]!.allowed),
        refused: results.filter((result) => !result.allowed).length,
      };
    },
    close: () => store.close(),
  };
}
