import Anthropic from '@anthropic-ai/sdk';
import { Attr, ConfigError, createGateway, MemoryStore, type Store } from '@gatehouse/core';
import { captureEvents } from '@gatehouse/core/testing';
import OpenAI from 'openai';
import { describe, expect, test } from 'vitest';
import type { ModelContext, ModelMiddleware } from '../context/index.js';
import { models } from '../layer/index.js';
import { reply } from '../testing/index.js';
import { serverAndSpans } from '../testing/lifecycle.test-helpers.js';
import { type CostOptions, costMiddleware, costReport, PriceBook } from './index.js';

const { server, recorder } = await serverAndSpans();

const user = (content: string) => [{ role: 'user' as const, content }];
const noon = Date.UTC(2026, 10, 23, 12);

/** Remembers each call's context, so a test can read `ctx.cost` and `ctx.usage` after the call. */
function spy(): { contexts: ModelContext[]; middleware: ModelMiddleware } {
  const contexts: ModelContext[] = [];
  return {
    contexts,
    middleware: (context, next) => {
      contexts.push(context);
      return next();
    },
  };
}

function setup(options: CostOptions = {}, store: Store = new MemoryStore()) {
  const openai = new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'sk-test', maxRetries: 0 });
  const anthropic = new Anthropic({ baseURL: server.anthropicBaseURL, apiKey: 'sk-ant-test', maxRetries: 0 });
  const llama = new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'local', maxRetries: 0 });
  const seen = spy();
  const gateway = createGateway({
    store,
    models: models({
      providers: { openai, anthropic, llama },
      routes: {
        contracts: {
          targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-6', parameters: { max_tokens: 512 } }],
        },
        local: { targets: [{ provider: 'llama', model: 'llama-3.1-70b' }] },
      },
      retry: { retries: 0 },
      middleware: [costMiddleware({ now: () => noon, ...options }), seen.middleware],
    }),
  });
  return { gateway, openai: gateway.wrap(openai), anthropic: gateway.wrap(anthropic), contexts: seen.contexts };
}

describe('cost of a call', () => {
  test('OpenAI: cached input at its own rate, reasoning counted in output and reported apart; span and event carry it', async () => {
    const { gateway, openai, contexts } = setup();
    const events = captureEvents(gateway.events);
    server.script(
      reply.text('ok', { usage: { inputTokens: 1000, cacheReadTokens: 400, outputTokens: 200, reasoningTokens: 50 } }),
    );
    await openai.chat.completions.create({ model: 'gpt-4o-2024-08-06', messages: user('hi') });
    // gpt-4o: $2.50 input, $1.25 cached input, $10 output per million tokens.
    const expected = (600 * 2.5 + 400 * 1.25 + 200 * 10) / 1e6;
    expect(contexts[0]!.cost!.usd).toBeCloseTo(expected, 12);
    expect(contexts[0]!.cost).toMatchObject({ cacheReadUsd: (400 * 1.25) / 1e6, outputUsd: (200 * 10) / 1e6 });
    expect(contexts[0]!.usage).toMatchObject({ inputTokens: 1000, cacheReadInputTokens: 400, reasoningTokens: 50 });
    // The call's span ends last; the attempt span before it has the same name.
    const span = recorder.named('chat gpt-4o-2024-08-06').at(-1);
    expect(span!.attributes[Attr.costUsd]).toBeCloseTo(expected, 12);
    const [event] = events.of('model-call' as never);
    expect((event as { cost?: number }).cost).toBeCloseTo(expected, 12);
  });

  test('Anthropic: input_tokens plus cache reads and writes make inputTokens, each priced at its rate', async () => {
    const { anthropic, contexts } = setup();
    server.script(
      reply.text('ok', {
        usage: { inputTokens: 2000, cacheReadTokens: 1000, cacheWriteTokens: 500, outputTokens: 100 },
      }),
    );
    const message = await anthropic.messages.create({
      model: 'claude-sonnet-4-6-20260101',
      max_tokens: 100,
      messages: user('hi'),
    });
    // What the raw API says: 500 uncached, apart from the cache counts.
    expect(message.usage).toMatchObject({ input_tokens: 500, cache_read_input_tokens: 1000 });
    expect(contexts[0]!.usage).toMatchObject({
      inputTokens: 2000,
      cacheReadInputTokens: 1000,
      cacheCreationInputTokens: 500,
      outputTokens: 100,
    });
    // claude-sonnet-4-6: $3 input, $0.30 cache read, $3.75 cache write, $15 output.
    expect(contexts[0]!.cost!.usd).toBeCloseTo((500 * 3 + 1000 * 0.3 + 500 * 3.75 + 100 * 15) / 1e6, 12);
  });

  test('an OpenAI chat stream is asked for usage; a caller who did not ask sees exactly the raw stream', async () => {
    const raw = new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'sk-test', maxRetries: 0 });
    const { openai, contexts } = setup();
    const answer = reply.text('one two three', { usage: { inputTokens: 10, outputTokens: 3 } });
    server.script([answer, answer]);
    const strip = (chunk: any) => ({ ...chunk, id: undefined, created: undefined });
    const rawChunks: any[] = [];
    for await (const chunk of await raw.chat.completions.create({ model: 'gpt-4o', messages: user('x'), stream: true }))
      rawChunks.push(strip(chunk));
    const wrappedChunks: any[] = [];
    for await (const chunk of await openai.chat.completions.create({
      model: 'gpt-4o',
      messages: user('x'),
      stream: true,
    }))
      wrappedChunks.push(strip(chunk));
    expect(server.requests[1]!.body.stream_options).toEqual({ include_usage: true });
    expect(wrappedChunks).toEqual(rawChunks);
    expect(wrappedChunks.some((chunk) => 'usage' in chunk)).toBe(false);
    expect(contexts[0]!.cost!.usd).toBeCloseTo((10 * 2.5 + 3 * 10) / 1e6, 12);
  });

  test('a caller who asked for include_usage gets the usage chunk; the stream helper works too', async () => {
    const { openai, contexts } = setup();
    server.script(reply.text('one two', { usage: { inputTokens: 8, outputTokens: 2 } }));
    const chunks: any[] = [];
    for await (const chunk of await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: user('x'),
      stream: true,
      stream_options: { include_usage: true },
    }))
      chunks.push(chunk);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 8, completion_tokens: 2 } });
    expect(chunks[0]).toHaveProperty('usage', null);
    expect(contexts[0]!.cost!.usd).toBeCloseTo((8 * 0.15 + 2 * 0.6) / 1e6, 12);

    server.script(reply.text('three four', { usage: { inputTokens: 4, outputTokens: 2 } }));
    const stream = openai.chat.completions.stream({ model: 'gpt-4o-mini', messages: user('x') });
    const completion = await stream.finalChatCompletion();
    expect(completion.choices[0]!.message.content).toBe('three four');
    expect(contexts[1]!.cost!.usd).toBeCloseTo((4 * 0.15 + 2 * 0.6) / 1e6, 12);
  });

  test('an Anthropic stream, and an OpenAI chat call routed to Anthropic, are priced at the Anthropic target', async () => {
    const { openai, anthropic, contexts } = setup();
    server.script(reply.text('streamed answer', { usage: { inputTokens: 30, outputTokens: 6 } }));
    const stream = anthropic.messages.stream({ model: 'claude-haiku-4-5', max_tokens: 50, messages: user('x') });
    await stream.finalMessage();
    expect(contexts[0]!.cost!.usd).toBeCloseTo((30 * 1 + 6 * 5) / 1e6, 12);

    server.script(reply.text('routed', { usage: { inputTokens: 100, outputTokens: 10 } }));
    const chunks: any[] = [];
    for await (const chunk of await openai.chat.completions.create({
      model: 'contracts',
      messages: user('x'),
      stream: true,
    }))
      chunks.push(chunk);
    expect(chunks.some((chunk) => 'usage' in chunk)).toBe(false);
    expect(contexts[1]!.cost!.usd).toBeCloseTo((100 * 3 + 10 * 15) / 1e6, 12);
  });
});

describe('prices', () => {
  test('the longest model-name prefix wins; a provider name is looked up before its kind', () => {
    const book = new PriceBook({ providers: { llama: { '': { input: 0.2, output: 0.4 } } } });
    const target = (provider: string, kind: string, model: string) => ({
      id: `${provider}:${model}`,
      provider,
      kind,
      model,
    });
    expect(book.price(target('openai', 'openai', 'gpt-4o-mini-2024-07-18'))).toMatchObject({ input: 0.15 });
    expect(book.price(target('openai', 'openai', 'gpt-4o-2024-05-13'))).toMatchObject({ input: 5 });
    expect(book.price(target('openai', 'openai', 'o3-pro-2025-06-10'))).toMatchObject({ input: 20 });
    expect(book.price(target('primary', 'openai', 'gpt-4.1-nano'))).toMatchObject({ input: 0.1 });
    expect(book.price(target('llama', 'openai', 'anything'))).toEqual({ input: 0.2, output: 0.4 });
    expect(book.price(target('openai', 'openai', 'my-own-model'))).toBeUndefined();
    expect(() => book.require(target('vllm', 'openai', 'qwen'))).toThrow(/no price for vllm:qwen: add one with prices/);
  });

  test('bad prices are a ConfigError naming the path', () => {
    expect(() => new PriceBook({ providers: { openai: { 'gpt-4o': { input: -1, output: 1 } } } })).toThrow(ConfigError);
    expect(() => new PriceBook({ providers: { openai: { 'gpt-4o': { input: -1, output: 1 } } } })).toThrow(
      /prices\.providers\.openai\.gpt-4o\.input/,
    );
  });

  test('a self-hosted model at your price, your price for a listed model, and unpriced calls counted apart', async () => {
    const { gateway, openai, contexts } = setup({
      prices: {
        providers: { llama: { 'llama-3': { input: 0.5, output: 1 } }, openai: { 'gpt-4o': { input: 2, output: 8 } } },
      },
    });
    server.script(reply.text('a', { usage: { inputTokens: 1000, outputTokens: 1000 } }));
    await openai.chat.completions.create({ model: 'local', messages: user('x') });
    expect(contexts[0]!.cost!.usd).toBeCloseTo(1.5 / 1000, 12);
    server.script(reply.text('b', { usage: { inputTokens: 1000, outputTokens: 1000 } }));
    await openai.chat.completions.create({ model: 'gpt-4o', messages: user('x') });
    expect(contexts[1]!.cost!.usd).toBeCloseTo(10 / 1000, 12);
    await openai.chat.completions.create({ model: 'unknown-model', messages: user('x') });
    expect(contexts[2]!.cost).toBeUndefined();
    const report = await costReport(gateway.store, { period: 'day', date: noon });
    expect(report).toMatchObject({ calls: 3, unpriced: 1 });
    expect(report.total).toBeCloseTo(11.5 / 1000, 12);
    expect(report.byModel).toEqual({ 'llama-3.1-70b': expect.closeTo(0.0015, 12), 'gpt-4o': expect.closeTo(0.01, 12) });
    expect(report.byTarget['llama:llama-3.1-70b']).toBeCloseTo(0.0015, 12);
    expect(report.byRoute).toEqual({ local: expect.closeTo(0.0015, 12) });
  });
});

describe('totals', () => {
  test('by team, user, agent and model for the day and the month, read back with costReport', async () => {
    const { gateway, openai, anthropic } = setup();
    const usage = { inputTokens: 1_000_000, outputTokens: 0 };
    server.script([reply.text('a', { usage }), reply.text('b', { usage }), reply.text('c', { usage })]);
    await gateway.run({ principal: { team: 'risk', user: 'ana' } }, () =>
      openai.chat.completions.create({ model: 'gpt-4o', messages: user('x') }),
    );
    await gateway.run({ principal: { team: 'risk', user: 'bo', agent: 'triage' } }, () =>
      openai.chat.completions.create({ model: 'gpt-4o-mini', messages: user('x') }),
    );
    await gateway.run({ principal: { team: 'ops', user: 'ana' } }, () =>
      anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 5, messages: user('x') }),
    );
    const day = await costReport(gateway.store, { period: 'day', date: '2026-11-23' });
    expect(day).toMatchObject({ period: 'day', label: '2026-11-23', calls: 3, unpriced: 0 });
    expect(day.total).toBeCloseTo(2.5 + 0.15 + 1, 12);
    expect(day.byTeam).toEqual({ risk: expect.closeTo(2.65, 12), ops: expect.closeTo(1, 12) });
    expect(day.byUser).toEqual({ ana: expect.closeTo(3.5, 12), bo: expect.closeTo(0.15, 12) });
    expect(day.byAgent).toEqual({ triage: expect.closeTo(0.15, 12) });
    expect(day.byModel).toEqual({
      'gpt-4o': expect.closeTo(2.5, 12),
      'gpt-4o-mini': expect.closeTo(0.15, 12),
      'claude-haiku-4-5': expect.closeTo(1, 12),
    });
    const month = await costReport(gateway.store, { period: 'month', date: new Date(noon) });
    expect(month).toMatchObject({ label: '2026-11', calls: 3, byTeam: day.byTeam });
    expect((await costReport(gateway.store, { period: 'day', date: '2026-11-24' })).calls).toBe(0);
    await expect(costReport(gateway.store, { period: 'week' as 'day' })).rejects.toThrow(
      /period must be 'day' or 'month'/,
    );
  });
});

describe('totals of many calls', () => {
  test('several calls in one scope, principals in turn, a route and a direct model: every total adds up', async () => {
    const { gateway, openai, anthropic, contexts } = setup();
    const usage = { inputTokens: 1_000_000, outputTokens: 1_000 };
    server.script(Array.from({ length: 7 }, () => reply.text('a', { usage })));
    const direct = () => openai.chat.completions.create({ model: 'gpt-4o', messages: user('x') });
    const routed = () => anthropic.messages.create({ model: 'contracts', max_tokens: 5, messages: user('x') });
    // Three calls under one scope (one principal object), then another principal, then the first again.
    await gateway.run({ principal: { team: 'risk', user: 'ana' } }, async () => {
      await direct();
      await routed();
      await direct();
    });
    await gateway.run({ principal: { team: 'ops' } }, () => direct());
    await gateway.run({ principal: { team: 'risk', user: 'ana' } }, async () => {
      await routed();
      await direct();
    });
    await direct();
    const costs = contexts.map((context) => context.cost!.usd);
    const sum = (indexes: number[]) => indexes.reduce((total, index) => total + costs[index]!, 0);
    const day = await gateway.models.costs({ period: 'day', date: noon });
    expect(day.calls).toBe(7);
    expect(day.total).toBeCloseTo(sum([0, 1, 2, 3, 4, 5, 6]), 12);
    expect(day.byTeam).toEqual({ risk: expect.closeTo(sum([0, 1, 2, 4, 5]), 12), ops: expect.closeTo(costs[3]!, 12) });
    expect(day.byUser).toEqual({ ana: expect.closeTo(sum([0, 1, 2, 4, 5]), 12) });
    expect(day.byRoute).toEqual({ contracts: expect.closeTo(sum([1, 4]), 12) });
    expect(day.byModel).toEqual({
      'gpt-4o': expect.closeTo(sum([0, 2, 3, 5, 6]), 12),
      'claude-sonnet-4-6': expect.closeTo(sum([1, 4]), 12),
    });
    expect(costs[1]).not.toBe(costs[0]);
  });
});

/** A store (kept in memory, but not a `MemoryStore`) whose `incrementFields` fails while `failing` is set, and that lists its writes. */
class FlakyStore implements Store {
  readonly #memory = new MemoryStore();
  failing = false;
  writes: string[] = [];
  get: Store['get'] = (key) => this.#memory.get(key);
  set: Store['set'] = (key, value, options) => this.#memory.set(key, value, options);
  delete: Store['delete'] = (key) => this.#memory.delete(key);
  consume: Store['consume'] = (...args) => this.#memory.consume(...args);
  increment: Store['increment'] = (...args) => this.#memory.increment(...args);
  getFields: Store['getFields'] = (key) => this.#memory.getFields(key);
  incrementFields: Store['incrementFields'] = (key, amounts, options) => {
    this.writes.push(key);
    if (this.failing) return Promise.reject(new Error('store unavailable'));
    return this.#memory.incrementFields(key, amounts, options);
  };
}

describe('totals written in batches', () => {
  const usage = { inputTokens: 1_000_000, outputTokens: 0 };
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  test('calls add up in the process: one write per period for many calls, and a report sees them all', async () => {
    const store = new FlakyStore();
    const { gateway, openai } = setup({}, store);
    server.script([reply.text('a', { usage }), reply.text('b', { usage }), reply.text('c', { usage })]);
    for (const team of ['risk', 'risk', 'ops'])
      await gateway.run({ principal: { team } }, () =>
        openai.chat.completions.create({ model: 'gpt-4o', messages: user('x') }),
      );
    // Nothing written yet: the batch waits for its second.
    expect(store.writes).toEqual([]);
    const day = await gateway.models.costs({ period: 'day', date: noon });
    expect(store.writes).toEqual(['cost:day:2026-11-23', 'cost:month:2026-11']);
    expect(day).toMatchObject({ calls: 3, total: 7.5, byTeam: { risk: 5, ops: 2.5 } });
  });

  test('a batch is written on its own after flushMs, with no report asking', async () => {
    const store = new FlakyStore();
    const { gateway, openai } = setup({ flushMs: 20 }, store);
    server.script([reply.text('a', { usage })]);
    await openai.chat.completions.create({ model: 'gpt-4o', messages: user('x') });
    while (store.writes.length < 2) await sleep(5);
    expect(await store.getFields('cost:day:2026-11-23')).toMatchObject({ calls: 1, total: 2.5 });
    await gateway.close();
  });

  test('a write the store refuses is a cost-record-failed event, kept, and written with the next batch', async () => {
    const store = new FlakyStore();
    const { gateway, openai } = setup({}, store);
    const events = captureEvents(gateway.events);
    server.script([reply.text('a', { usage }), reply.text('b', { usage })]);
    store.failing = true;
    await openai.chat.completions.create({ model: 'gpt-4o', messages: user('x') });
    await expect(gateway.models.costs({ period: 'day', date: noon })).resolves.toMatchObject({ calls: 0 });
    expect(events.of('cost-record-failed')).toEqual([
      expect.objectContaining({ key: 'cost:day:2026-11-23', usd: 2.5, error: 'store unavailable' }),
      expect.objectContaining({ key: 'cost:month:2026-11', usd: 2.5, error: 'store unavailable' }),
    ]);
    store.failing = false;
    await openai.chat.completions.create({ model: 'gpt-4o', messages: user('x') });
    const day = await gateway.models.costs({ period: 'day', date: noon });
    const month = await gateway.models.costs({ period: 'month', date: noon });
    expect(day).toMatchObject({ calls: 2, total: 5 });
    expect(month).toMatchObject({ calls: 2, total: 5 });
  });

  test('a failed write is tried again on its own when no further call comes', async () => {
    const store = new FlakyStore();
    const { gateway, openai } = setup({ flushMs: 10 }, store);
    server.script([reply.text('a', { usage })]);
    store.failing = true;
    await openai.chat.completions.create({ model: 'gpt-4o', messages: user('x') });
    while (store.writes.length < 2) await sleep(5);
    store.failing = false;
    while (store.writes.length < 4) await sleep(5);
    await sleep(5);
    expect(await store.getFields('cost:month:2026-11')).toMatchObject({ calls: 1, total: 2.5 });
    await gateway.close();
  });

  test('flushMs is checked: models({ costs }) and costMiddleware() refuse a negative or fractional one', () => {
    expect(() => models({ costs: { flushMs: -1 } })).toThrow(/models\.costs\.flushMs/);
    expect(() => costMiddleware({ flushMs: 1.5 })).toThrow(ConfigError);
    expect(() => models({ costs: { flushMs: 0 } })).not.toThrow();
  });

  test('a new day writes the last day out first; closing the gateway writes what is pending', async () => {
    let time = Date.UTC(2026, 10, 23, 23, 59);
    const store = new FlakyStore();
    const { gateway, openai } = setup({ now: () => time }, store);
    server.script([reply.text('a', { usage }), reply.text('b', { usage })]);
    await openai.chat.completions.create({ model: 'gpt-4o', messages: user('x') });
    time = Date.UTC(2026, 10, 24, 0, 1);
    await openai.chat.completions.create({ model: 'gpt-4o', messages: user('x') });
    expect(store.writes).toEqual(['cost:day:2026-11-23', 'cost:month:2026-11']);
    await gateway.close();
    expect(store.writes.slice(2)).toEqual(['cost:day:2026-11-24', 'cost:month:2026-11']);
    expect(await store.getFields('cost:month:2026-11')).toMatchObject({ calls: 2, total: 5 });
  });
});
