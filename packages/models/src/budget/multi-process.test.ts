import { RedisStore } from '@gatehouse/core/redis';
import { type RedisServer, startRedisServer } from '@gatehouse/core/testing';
import { afterAll, expect, test } from 'vitest';
import { runInProcesses } from '../../../core/src/redis/multi-process/index.js';
import { costReport } from '../cost/report.js';
import { createProviderServer, type ProviderServer } from '../testing/index.js';
import type { BudgetJobInput, BudgetJobOutput } from './budget-job.test-helpers.js';

let redis: RedisServer | undefined;
let server: ProviderServer | undefined;
afterAll(async () => {
  await server?.close();
  await redis?.stop();
});

test('4 processes × 250 concurrent calls on one Redis dollar budget: never overspent beyond what reservations missed', async () => {
  redis = await startRedisServer();
  server = await createProviderServer();
  const prefix = `budget-race-${Date.now()}:`;
  const dollars = 1;
  const input: BudgetJobInput = {
    redisUrl: redis.url,
    prefix,
    openaiBaseURL: server.openaiBaseURL,
    calls: 250,
    dollars,
    defaultMaxOutputTokens: 50,
  };
  const outputs = await runInProcesses<BudgetJobInput, BudgetJobOutput>({
    module: new URL('./budget-job.test-helpers.ts', import.meta.url).href,
    name: 'budgetJob',
    inputs: [input, input, input, input],
    timeoutMs: 120_000,
  });
  const sum = (pick: (output: BudgetJobOutput) => number) => outputs.reduce((total, output) => total + pick(output), 0);
  expect(outputs.flatMap((output) => output.otherErrors)).toEqual([]);
  expect(sum((output) => output.granted + output.refused)).toBe(1000);
  expect(sum((output) => output.refused)).toBeGreaterThan(0);
  expect(server.requests).toHaveLength(sum((output) => output.granted));

  const store = new RedisStore({ url: redis.url, prefix });
  try {
    // Every granted call's cost was recorded, and every reservation settled to it.
    const report = await costReport(store, { period: 'month' });
    const actual = sum((output) => output.actualUsd);
    expect(report.calls).toBe(sum((output) => output.granted));
    expect(report.total).toBeCloseTo(actual, 9);
    const counter = await store.consume('budget:global dollars/total:*', 0, 1000, 0);
    expect(1000 - counter.remaining).toBeCloseTo(actual, 9);
    // A reservation never lets the budget be passed; only calls that cost more than they reserved (output
    // beyond the 50 tokens reserved for calls without max_tokens) can take it over, by no more than that.
    expect(actual).toBeLessThanOrEqual(dollars + sum((output) => output.overrunUsd) + 1e-9);
    expect(actual).toBeGreaterThan(dollars / 4);
  } finally {
    await store.close();
  }
}, 150_000);
