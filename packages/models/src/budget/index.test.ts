import {
  BudgetExceededError,
  ConfigError,
  createGateway,
  MemoryStore,
  RateLimitedError,
  type Store,
} from '@gatehouse/core';
import { RedisStore } from '@gatehouse/core/redis';
import { captureEvents, type RedisServer, startRedisServer } from '@gatehouse/core/testing';
import OpenAI from 'openai';
import { afterAll, beforeEach, describe, expect, test } from 'vitest';
import { costMiddleware } from '../cost/index.js';
import { costReport } from '../cost/report.js';
import { models } from '../layer/index.js';
import { createProviderServer, type ProviderServer, reply } from '../testing/index.js';
import { type BudgetOptions, budgetMiddleware } from './index.js';

const server: ProviderServer = await createProviderServer();
afterAll(() => server.close());
beforeEach(() => server.reset());

const user = (content: string) => [{ role: 'user' as const, content }];
/** 2026-11-23 12:00:30 UTC: 29.5 s left in the minute. */
const start = Date.UTC(2026, 10, 23, 12, 0, 30, 500);

function setup(options: Omit<BudgetOptions, 'now'>, store?: Store) {
  const clock = { now: start };
  const now = () => clock.now;
  const openai = new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'sk-test', maxRetries: 0 });
  const gateway = createGateway({
    store: store ?? new MemoryStore({ now }),
    models: models({
      providers: { openai },
      routes: {
        ask: {
          targets: [
            { provider: 'openai', model: 'gpt-4o-mini' },
            { provider: 'openai', model: 'gpt-4o' },
          ],
        },
      },
      retry: { retries: 0 },
      middleware: [budgetMiddleware({ ...options, now }), costMiddleware({ now })],
    }),
  });
  const events = captureEvents(gateway.events);
  const wrapped = gateway.wrap(openai);
  const call = (principal: { team?: string; user?: string }, body: Record<string, unknown> = {}) =>
    gateway.run({ principal }, () =>
      wrapped.chat.completions.create({ model: 'gpt-4o', messages: user('x'), ...body } as never),
    );
  return { gateway, clock, events, openai: wrapped, call };
}

async function refusal(promise: Promise<unknown>): Promise<any> {
  return promise.then(
    () => expect.fail('the call was not refused'),
    (error: unknown) => error,
  );
}

describe('rate limits (requests)', () => {
  test('per user per minute: refused with RateLimitedError and retryAfterMs to the window end, then reset', async () => {
    const { call, clock, events } = setup({ limits: [{ per: 'user', window: 'minute', requests: 2 }] });
    await call({ user: 'ana' });
    await call({ user: 'ana' });
    await call({ user: 'bo' });
    const error = await refusal(call({ user: 'ana' }));
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({
      code: 'GATEHOUSE_RATE_LIMITED',
      limit: 'user:ana requests/minute',
      retryAfterMs: 29_500,
    });
    expect(error.message).toMatch(/limit "user requests\/minute" reached for user "ana": 2 requests per minute/);
    expect(server.requests).toHaveLength(3);
    expect(events.of('budget-exceeded' as never)).toEqual([
      expect.objectContaining({
        limit: 'user requests/minute',
        value: 'ana',
        max: 2,
        remaining: 0,
        retryAfterMs: 29_500,
      }),
    ]);
    clock.now += 29_500;
    await call({ user: 'ana' });
    expect(server.requests).toHaveLength(4);
  });

  test('per hour, per route and global, with match limiting only the teams named', async () => {
    const { call, clock } = setup({
      limits: [
        { per: 'team', match: ['risk'], window: 'hour', requests: 1 },
        { id: 'all', per: 'global', window: 'total', requests: 5 },
        { per: 'route', window: 'day', requests: 1 },
      ],
    });
    await call({ team: 'risk' });
    expect((await refusal(call({ team: 'risk' }))).retryAfterMs).toBe(3_600_000 - 30_500);
    await call({ team: 'ops' });
    await call({ team: 'ops' });
    await call({ team: 'ops' }, { model: 'ask' });
    const route = await refusal(call({ team: 'ops' }, { model: 'ask' }));
    expect(route).toMatchObject({ limit: 'route:ask requests/day' });
    clock.now += 86_400_000;
    await call({ team: 'ops' }, { model: 'ask' });
    const total = await refusal(call({ team: 'ops' }));
    // A total never resets.
    expect(total).toMatchObject({ limit: 'global:* requests/total', retryAfterMs: undefined });
    expect(total.message).toMatch(/limit "all" reached for all calls: 5 requests in total/);
  });
});

describe('budgets (tokens and dollars)', () => {
  test('tokens per team per day: reserved from the request, settled to the actual usage', async () => {
    const { call, events } = setup({ limits: [{ per: 'team', window: 'day', tokens: 200 }] });
    // 400 characters ≈ 100 input tokens, plus max_tokens 60: 160 reserved. Without settling, a second call
    // (320) would not fit; settled to the actual 30 it does.
    const body = { messages: user('a'.repeat(400)), max_tokens: 60 };
    server.script([reply.text('ok', { usage: { inputTokens: 20, outputTokens: 10 } })]);
    await call({ team: 'risk' }, body);
    server.script([reply.text('ok', { usage: { inputTokens: 100, outputTokens: 60 } })]);
    await call({ team: 'risk' }, body);
    const error = await refusal(call({ team: 'risk' }, body));
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(error).toMatchObject({ code: 'GATEHOUSE_BUDGET_EXCEEDED', limit: 'team:risk tokens/day' });
    expect(events.of('budget-exceeded' as never)).toEqual([
      expect.objectContaining({ requested: 160, remaining: 10, kind: 'tokens', window: 'day' }),
    ]);
    expect(error.message).toMatch(/10 tokens left, this call needs 160 tokens; the window resets in \d+ s/);
  });

  test('dollars per month: a route reserves at its dearest target; the caller is told when one call cannot fit', async () => {
    const { call, events } = setup({ limits: [{ per: 'team', window: 'month', dollars: 0.001 }] });
    // 100 input + 1000 output tokens; gpt-4o ($2.50/$10) is dearer than gpt-4o-mini: $0.01025.
    const error = await refusal(
      call({ team: 'risk' }, { model: 'ask', messages: user('a'.repeat(400)), max_tokens: 1000 }),
    );
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(error.message).toMatch(/this call alone needs \$0\.01, more than the whole limit; lower max_tokens/);
    const [event] = events.of('budget-exceeded' as never) as any[];
    expect(event.requested).toBeCloseTo((100 * 2.5 + 1000 * 10) / 1e6, 12);
    expect(server.requests).toHaveLength(0);
    // Without max_tokens, defaultMaxOutputTokens (1024) is reserved; 1 input token at gpt-4o-mini fits in $0.001.
    await call({ team: 'risk' }, { model: 'gpt-4o-mini' });
  });

  test('a soft limit warns and lets the call pass; a hard one beside it still holds', async () => {
    const { call, events } = setup({
      limits: [
        { per: 'team', window: 'day', tokens: 10, soft: true },
        { per: 'user', window: 'day', requests: 2 },
      ],
    });
    await call({ team: 'risk', user: 'ana' }, { max_tokens: 20 });
    await call({ team: 'risk', user: 'ana' }, { max_tokens: 20 });
    expect(events.of('budget-warning' as never)).toHaveLength(2);
    expect(events.of('budget-warning' as never)[0]).toMatchObject({ limit: 'team tokens/day', value: 'risk', max: 10 });
    await expect(call({ team: 'risk', user: 'ana' })).rejects.toBeInstanceOf(RateLimitedError);
    expect(server.requests).toHaveLength(2);
  });

  test('a failed call refunds its tokens; a refused call releases what other limits reserved', async () => {
    const { call } = setup({
      limits: [
        { per: 'team', window: 'day', tokens: 100 },
        { per: 'user', window: 'minute', requests: 1 },
      ],
    });
    server.script(reply.error(400));
    await expect(call({ team: 'risk', user: 'ana' }, { max_tokens: 90 })).rejects.toBeInstanceOf(
      OpenAI.BadRequestError,
    );
    // The failed call's 91 tokens came back (its request still counts).
    server.script(reply.text('ok', { usage: { inputTokens: 20, outputTokens: 0 } }));
    await call({ team: 'risk', user: 'bo' }, { max_tokens: 90 });
    // Refused by the tokens limit: the request it had reserved for "cy" is released.
    await expect(call({ team: 'risk', user: 'cy' }, { max_tokens: 90 })).rejects.toBeInstanceOf(BudgetExceededError);
    await call({ team: 'ops', user: 'cy' }, { max_tokens: 90 });
  });

  test('a stream settles when it ends; a stream cut short keeps its reservation', async () => {
    const { call } = setup({ limits: [{ per: 'team', window: 'day', tokens: 100 }] });
    server.script(reply.text('one two', { usage: { inputTokens: 5, outputTokens: 5 } }));
    const chunks: any[] = [];
    for await (const chunk of (await call({ team: 'risk' }, { max_tokens: 60, stream: true })) as any)
      chunks.push(chunk);
    expect(chunks.some((chunk) => 'usage' in chunk)).toBe(false);
    // Settled to 10: 61 more fit.
    const stream = (await call({ team: 'risk' }, { max_tokens: 60, stream: true })) as any;
    for await (const _ of stream) break;
    // The stopped stream keeps its 61; with 10 + 61 used, another 61 does not fit.
    await expect(call({ team: 'risk' }, { max_tokens: 60 })).rejects.toBeInstanceOf(BudgetExceededError);
  });

  test('bad limits and unpriced models are ConfigErrors that say what to fix', async () => {
    expect(() => budgetMiddleware({ limits: [{ per: 'team', window: 'day', dollars: 1, tokens: 5 }] })).toThrow(
      /give exactly one of dollars, tokens or requests \(got dollars and tokens\)/,
    );
    expect(() => budgetMiddleware({ limits: [{ per: 'team', window: 'week' as 'day', requests: 1 }] })).toThrow(
      ConfigError,
    );
    expect(() =>
      budgetMiddleware({
        limits: [
          { per: 'team', window: 'day', requests: 1 },
          { per: 'team', window: 'day', requests: 2 },
        ],
      }),
    ).toThrow(/two limits are named "team requests\/day"; give each an id/);
    const { call } = setup({ limits: [{ per: 'global', window: 'day', dollars: 1 }] });
    await expect(call({}, { model: 'my-finetune' })).rejects.toThrow(
      /no price for openai:my-finetune: add one with prices/,
    );
  });
});

describe('on Redis', () => {
  let redis: RedisServer;
  const stores: RedisStore[] = [];
  afterAll(async () => {
    for (const store of stores) await store.close();
    await redis?.stop();
  });

  test('two gateways on one RedisStore share a budget, and costReport reads their totals', async () => {
    redis = await startRedisServer();
    const prefix = `budget-test-${Date.now()}:`;
    const gateways = [0, 1].map(() => {
      const store = new RedisStore({ url: redis.url, prefix });
      stores.push(store);
      const openai = new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'sk-test', maxRetries: 0 });
      const gateway = createGateway({
        store,
        models: models({
          providers: { openai },
          middleware: [
            budgetMiddleware({ limits: [{ per: 'team', window: 'total', requests: 3 }] }),
            // Each instance writes its totals as soon as a call is done, so the other one reports them at once.
            costMiddleware({ flushMs: 0 }),
          ],
        }),
      });
      return { gateway, openai: gateway.wrap(openai) };
    });
    const usage = { inputTokens: 1_000_000, outputTokens: 0 };
    server.script([reply.text('a', { usage }), reply.text('b', { usage }), reply.text('c', { usage })]);
    for (const index of [0, 1, 0]) {
      const { gateway, openai } = gateways[index]!;
      await gateway.run({ principal: { team: 'risk', user: `u${index}` } }, () =>
        openai.chat.completions.create({ model: 'gpt-4o', messages: user('x') }),
      );
    }
    const { gateway, openai } = gateways[1]!;
    await expect(
      gateway.run({ principal: { team: 'risk' } }, () =>
        openai.chat.completions.create({ model: 'gpt-4o', messages: user('x') }),
      ),
    ).rejects.toBeInstanceOf(RateLimitedError);
    const report = await costReport(gateway.store, { period: 'month' });
    expect(report).toMatchObject({ calls: 3, total: 7.5, byTeam: { risk: 7.5 }, byUser: { u0: 5, u1: 2.5 } });
  });
});
