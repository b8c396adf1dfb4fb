import Anthropic from '@anthropic-ai/sdk';
import { Attr, ConfigError, createGateway, MemoryStore, type Store } from '@gatehouse/core';
import { RedisStore } from '@gatehouse/core/redis';
import { captureEvents, startRedisServer } from '@gatehouse/core/testing';
import OpenAI from 'openai';
import { describe, expect, test } from 'vitest';
import type { ModelMiddleware } from '../context/index.js';
import { models } from '../layer/index.js';
import { reply } from '../testing/index.js';
import { serverAndSpans } from '../testing/lifecycle.test-helpers.js';
import { type CacheOptions, cacheMetadataKey, cacheMiddleware } from './index.js';

const { server, recorder } = await serverAndSpans();

const user = (content: string) => [{ role: 'user' as const, content }];

/** What an outer middleware (a cost middleware, say) sees of each call: the cache flag and the usage. */
interface Seen {
  flag: unknown;
  usage: unknown;
}

function setup(options: CacheOptions = {}, extra: { store?: Store } = {}) {
  const openai = new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'sk-test', maxRetries: 0 });
  const anthropic = new Anthropic({ baseURL: server.anthropicBaseURL, apiKey: 'sk-ant-test', maxRetries: 0 });
  const seen: Seen[] = [];
  const observer: ModelMiddleware = async (context, next) => {
    const result = await next();
    if (result.type === 'response')
      seen.push({ flag: context.metadata[cacheMetadataKey], usage: result.summary.usage });
    else {
      // For a stream the usage is known when it ends; record the flag now and the usage by reference.
      seen.push({ flag: context.metadata[cacheMetadataKey], usage: result.summary });
    }
    return result;
  };
  const gateway = createGateway({
    ...(extra.store ? { store: extra.store } : {}),
    models: models({
      providers: { openai, anthropic },
      routes: {
        faq: { targets: [{ provider: 'openai', model: 'gpt-4o' }] },
        other: { targets: [{ provider: 'openai', model: 'gpt-4o' }] },
        'claude-faq': { targets: [{ provider: 'anthropic', model: 'claude-haiku-4-5' }] },
      },
      retry: { retries: 0 },
      // The cache alone: the default cost middleware would ask OpenAI streams for usage, which some tests here
      // need absent.
      costs: false,
      middleware: [observer, cacheMiddleware(options)],
    }),
  });
  return { gateway, seen, openai: gateway.wrap(openai), anthropic: gateway.wrap(anthropic) };
}

describe('hits and misses', () => {
  test('OpenAI chat: the second identical call is answered from the cache, at zero usage, flagged for cost', async () => {
    const { openai, seen } = setup();
    server.script(reply.text('Paris is the capital.', { usage: { inputTokens: 12, outputTokens: 5 } }));
    const first = await openai.chat.completions.create({ model: 'faq', messages: user('capital of France?') });
    const second = await openai.chat.completions.create({ model: 'faq', messages: user('capital of France?') });
    expect(second).toEqual(first);
    expect(second.choices[0]?.message.content).toBe('Paris is the capital.');
    // The answer the caller reads keeps its original usage; the call itself reports none.
    expect(second.usage?.prompt_tokens).toBe(12);
    expect(server.requests).toHaveLength(1);
    expect(seen.map((call) => call.flag)).toEqual(['miss', 'hit']);
    expect(seen[0]!.usage).toMatchObject({ inputTokens: 12, outputTokens: 5 });
    expect(seen[1]!.usage).toMatchObject({ inputTokens: 0, outputTokens: 0 });
  });

  test('the key ignores key order and volatile fields, and not what changes the answer', async () => {
    const { openai } = setup();
    await openai.chat.completions.create({ model: 'faq', messages: user('q'), temperature: 0, user: 'ana' });
    await openai.chat.completions.create({
      temperature: 0,
      messages: [{ content: 'q', role: 'user' }],
      model: 'faq',
      user: 'bob',
      metadata: { ticket: '42' },
      store: false,
    });
    expect(server.requests).toHaveLength(1);
    await openai.chat.completions.create({ model: 'faq', messages: user('q'), temperature: 1 });
    await openai.chat.completions.create({ model: 'other', messages: user('q'), temperature: 0 });
    await openai.chat.completions.create({ model: 'faq', messages: user('q '), temperature: 0 });
    expect(server.requests).toHaveLength(4);
  });

  test('beta-feature headers are part of the key; other headers are not', async () => {
    const { anthropic } = setup();
    const request = { model: 'claude-faq', max_tokens: 50, messages: user('q') };
    await anthropic.messages.create(request, { headers: { 'x-trace': '1' } });
    await anthropic.messages.create(request, { headers: { 'x-trace': '2' } });
    await anthropic.messages.create(request, { headers: { 'anthropic-beta': 'context-1m-2025-08-07' } });
    await anthropic.messages.create(request, { headers: { 'Anthropic-Beta': 'context-1m-2025-08-07' } });
    expect(server.requests).toHaveLength(2);
  });

  test('partition keeps teams apart', async () => {
    const { gateway, openai } = setup({ partition: (context) => context.principal.team });
    const ask = (team: string) =>
      gateway.run({ principal: { team } }, () => openai.chat.completions.create({ model: 'faq', messages: user('q') }));
    await ask('risk');
    await ask('legal');
    await ask('risk');
    expect(server.requests).toHaveLength(2);
  });

  test('OpenAI responses and embeddings', async () => {
    const { openai } = setup();
    const first = await openai.responses.create({ model: 'gpt-4o', input: 'hello' });
    const second = await openai.responses.create({ model: 'gpt-4o', input: 'hello' });
    expect(second).toEqual(first);
    expect(second.output_text).toBe('Echo: hello');
    const vector = await openai.embeddings.create({ model: 'text-embedding-3-small', input: 'vector' });
    const again = await openai.embeddings.create({ model: 'text-embedding-3-small', input: 'vector' });
    expect(again.data[0]?.embedding).toEqual(vector.data[0]?.embedding);
    expect(server.requests.map((request) => request.path)).toEqual(['/v1/responses', '/v1/embeddings']);
  });

  test('Anthropic messages, on a route and on a model name', async () => {
    const { anthropic } = setup();
    for (const model of ['claude-faq', 'claude-haiku-4-5']) {
      const first = await anthropic.messages.create({ model, max_tokens: 50, messages: user('hi') });
      const second = await anthropic.messages.create({ model, max_tokens: 50, messages: user('hi') });
      expect(second).toEqual(first);
      expect(second.content[0]).toMatchObject({ type: 'text', text: 'Echo: hi' });
    }
    expect(server.requests).toHaveLength(2);
  });

  test('a caller changing its answer does not change the cache', async () => {
    const { openai } = setup();
    const first = await openai.chat.completions.create({ model: 'faq', messages: user('q') });
    first.choices[0]!.message.content = 'tampered';
    const second = await openai.chat.completions.create({ model: 'faq', messages: user('q') });
    expect(second.choices[0]?.message.content).toBe('Echo: q');
  });

  test('.withResponse() and .asResponse() on a hit: a synthetic response marked x-gatehouse-cache: hit', async () => {
    const { openai } = setup();
    const miss = await openai.chat.completions.create({ model: 'faq', messages: user('q') }).withResponse();
    expect(miss.response.headers.get('x-gatehouse-cache')).toBeNull();
    const hit = await openai.chat.completions.create({ model: 'faq', messages: user('q') }).withResponse();
    expect(hit.data).toEqual(miss.data);
    expect(hit.response.status).toBe(200);
    expect(hit.response.headers.get('x-gatehouse-cache')).toBe('hit');
    const raw = await openai.chat.completions.create({ model: 'faq', messages: user('q') }).asResponse();
    expect(await raw.json()).toEqual(miss.data);
    const streamed = await openai.chat.completions
      .create({ model: 'faq', messages: user('q'), stream: true })
      .asResponse();
    expect(streamed.headers.get('x-gatehouse-cache')).toBe('hit');
    expect(await streamed.text()).toContain('data: [DONE]');
    expect(server.requests).toHaveLength(1);
  });
});

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const chunks: T[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

describe('streams', () => {
  test('a streamed chat answer replays chunk for chunk; the SDK stream helper reads it', async () => {
    const { openai, seen } = setup();
    server.script(reply.text('one two three', { chunks: ['one', ' two', ' three'] }));
    const request = { model: 'faq', messages: user('count'), stream: true as const };
    const first = await collect(await openai.chat.completions.create(request));
    const second = await collect(await openai.chat.completions.create(request));
    expect(second).toEqual(first);
    expect(second.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('one two three');
    const helper = openai.chat.completions.stream({ model: 'faq', messages: user('count') });
    const deltas: string[] = [];
    helper.on('content', (delta) => deltas.push(delta));
    const final = await helper.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe('one two three');
    expect(deltas).toEqual(['one', ' two', ' three']);
    expect(server.requests).toHaveLength(1);
    expect(seen.map((call) => call.flag)).toEqual(['miss', 'hit', 'hit']);
    expect((seen[1]!.usage as { usage: unknown }).usage).toMatchObject({ inputTokens: 0, outputTokens: 0 });
  });

  test('a streamed Anthropic answer replays event for event; messages.stream() and finalMessage() work', async () => {
    const { anthropic } = setup();
    server.script(reply.toolCalls([{ name: 'weather', arguments: { city: 'Paris' } }], { text: 'Looking.' }));
    const request = {
      model: 'claude-faq',
      max_tokens: 50,
      messages: user('weather?'),
      tools: [{ name: 'weather', input_schema: { type: 'object' as const } }],
    };
    const first = await collect(await anthropic.messages.create({ ...request, stream: true }));
    const second = await collect(await anthropic.messages.create({ ...request, stream: true }));
    expect(second).toEqual(first);
    const helper = anthropic.messages.stream(request);
    let text = '';
    helper.on('text', (delta) => {
      text += delta;
    });
    const final = await helper.finalMessage();
    expect(text).toBe('Looking.');
    expect(final.content).toEqual([
      expect.objectContaining({ type: 'text', text: 'Looking.' }),
      expect.objectContaining({ type: 'tool_use', name: 'weather', input: { city: 'Paris' } }),
    ]);
    expect(server.requests).toHaveLength(1);
  });

  test('a streamed Responses answer replays; responses.stream() gives the final response', async () => {
    const { openai } = setup();
    const first = await collect(await openai.responses.create({ model: 'gpt-4o', input: 'hi', stream: true }));
    const second = await collect(await openai.responses.create({ model: 'gpt-4o', input: 'hi', stream: true }));
    expect(second).toEqual(first);
    const final = await openai.responses.stream({ model: 'gpt-4o', input: 'hi' }).finalResponse();
    expect(final.output_text).toBe('Echo: hi');
    expect(server.requests).toHaveLength(1);
  });

  test('chat: a complete answer serves a stream (with its usage chunk when asked), and a stream a complete call', async () => {
    const { openai } = setup();
    server.script(reply.text('Bonjour.', { usage: { inputTokens: 4, outputTokens: 2 } }));
    const complete = await openai.chat.completions.create({ model: 'faq', messages: user('hello in French') });
    const chunks = await collect(
      await openai.chat.completions.create({
        model: 'faq',
        messages: user('hello in French'),
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('Bonjour.');
    expect(chunks.at(-1)?.usage).toEqual(complete.usage);
    const helper = await openai.chat.completions
      .stream({ model: 'faq', messages: user('hello in French') })
      .finalChatCompletion();
    expect(helper.choices[0]?.message).toMatchObject({ role: 'assistant', content: 'Bonjour.' });
    expect(helper.id).toBe(complete.id);
    expect(server.requests).toHaveLength(1);

    // The reverse: a stream recorded with its usage stands in for a complete answer.
    const streamed = await collect(
      await openai.chat.completions.create({
        model: 'faq',
        messages: user('tools'),
        tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }],
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    const assembled = await openai.chat.completions.create({
      model: 'faq',
      messages: user('tools'),
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }],
    });
    expect(server.requests).toHaveLength(2);
    const real = await openai.chat.completions.create(
      {
        model: 'faq',
        messages: user('tools'),
        tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }],
      },
      { headers: { 'x-gatehouse-cache': 'bypass' } },
    );
    expect(assembled).toEqual({ ...real, id: assembled.id, created: assembled.created });
    expect(assembled).toMatchObject({
      id: streamed[0]!.id,
      object: 'chat.completion',
      model: streamed[0]!.model,
      choices: [{ index: 0, message: { role: 'assistant', content: 'Echo: tools' }, finish_reason: 'stop' }],
      usage: streamed.at(-1)!.usage,
    });
  });

  test('chat: a stream recorded without usage cannot stand in for a complete answer; the complete one then does', async () => {
    const { openai, gateway } = setup();
    const events = captureEvents(gateway.events, ['cache-miss']);
    await collect(await openai.chat.completions.create({ model: 'faq', messages: user('q'), stream: true }));
    const complete = await openai.chat.completions.create({ model: 'faq', messages: user('q') });
    expect(complete.usage).toBeDefined();
    expect(events.events.map((event) => (event as { reason?: string }).reason)).toEqual(['absent', 'unservable']);
    const streamed = await collect(
      await openai.chat.completions.create({ model: 'faq', messages: user('q'), stream: true }),
    );
    // Without include_usage, no usage chunk is replayed.
    expect(streamed.every((chunk) => chunk.choices.length > 0)).toBe(true);
    expect(server.requests).toHaveLength(2);
  });

  test('Anthropic: a complete answer serves a stream and the reverse', async () => {
    const { anthropic } = setup();
    const request = { model: 'claude-faq', max_tokens: 50, messages: user('both ways') };
    const complete = await anthropic.messages.create(request);
    const final = await anthropic.messages.stream(request).finalMessage();
    // The helper adds its own fields (`parsed_output`); everything the answer had is there, equal.
    expect(final).toMatchObject(complete);
    const streamedFirst = await anthropic.messages.stream({ ...request, messages: user('other way') }).finalMessage();
    const assembled = await anthropic.messages.create({ ...request, messages: user('other way') });
    expect(streamedFirst).toMatchObject(assembled);
    expect(server.requests).toHaveLength(2);
    // Assembled from the stream, the answer has the very shape the provider gives a complete call.
    const real = await anthropic.messages.create(
      { ...request, messages: user('other way') },
      { headers: { 'x-gatehouse-cache': 'bypass' } },
    );
    expect(assembled).toEqual({ ...real, id: assembled.id });
  });

  test('Responses: a complete answer serves a stream and the reverse', async () => {
    const { openai } = setup();
    const complete = await openai.responses.create({ model: 'gpt-4o', input: 'both' });
    const events = await collect(await openai.responses.create({ model: 'gpt-4o', input: 'both', stream: true }));
    expect(events.at(-1)).toMatchObject({ type: 'response.completed', response: complete });
    const final = await openai.responses.stream({ model: 'gpt-4o', input: 'both' }).finalResponse();
    expect(final.output_text).toBe(complete.output_text);
    const streamed = await collect(await openai.responses.create({ model: 'gpt-4o', input: 'reverse', stream: true }));
    const assembled = await openai.responses.create({ model: 'gpt-4o', input: 'reverse' });
    expect(streamed.at(-1)).toMatchObject({ type: 'response.completed', response: assembled });
    expect(server.requests).toHaveLength(2);
  });

  test('a stream that is cut, fails, or that the caller stops is not cached', async () => {
    const { openai, anthropic } = setup();
    const request = { model: 'faq', messages: user('one two three four'), stream: true as const };
    server.script(reply.cutStream({ afterChunks: 2 }));
    await expect(collect(await openai.chat.completions.create(request))).rejects.toThrow();
    server.script(reply.streamError({ afterChunks: 2 }));
    await expect(collect(await openai.chat.completions.create(request))).rejects.toThrow();
    for await (const _ of await openai.chat.completions.create(request)) break;
    const passthrough = { model: 'claude-haiku-4-5', max_tokens: 50, messages: user('cut'), stream: true as const };
    server.script(reply.streamError({ afterChunks: 3, status: 529 }));
    await expect(collect(await anthropic.messages.create(passthrough))).rejects.toThrow(/overloaded/i);
    expect(server.requests).toHaveLength(4);
    // Each of these went upstream again: nothing was cached from the broken streams.
    await collect(await openai.chat.completions.create(request));
    await collect(await anthropic.messages.create(passthrough));
    expect(server.requests).toHaveLength(6);
    await collect(await openai.chat.completions.create(request));
    await collect(await anthropic.messages.create(passthrough));
    expect(server.requests).toHaveLength(6);
  });

  test('a replay stops when the call is aborted, as an upstream stream does', async () => {
    const { openai } = setup();
    const request = { model: 'faq', messages: user('one two three four five'), stream: true as const };
    const recorded = await collect(await openai.chat.completions.create(request));
    const controller = new AbortController();
    const replay = await openai.chat.completions.create(request, { signal: controller.signal });
    const seen: unknown[] = [];
    for await (const chunk of replay) {
      seen.push(chunk);
      if (seen.length === 2) controller.abort();
    }
    expect(seen).toEqual(recorded.slice(0, 2));
    // A call aborted before it starts is not answered from the cache: it fails the SDK's way.
    await expect(openai.chat.completions.create(request, { signal: controller.signal })).rejects.toThrow(/abort/i);
    expect(server.requests).toHaveLength(1);
  });

  test('failed calls are not cached', async () => {
    const { openai } = setup();
    server.script(reply.error(500));
    await expect(openai.chat.completions.create({ model: 'faq', messages: user('q') })).rejects.toThrow();
    await openai.chat.completions.create({ model: 'faq', messages: user('q') });
    expect(server.requests).toHaveLength(2);
  });
});

describe('bounds and expiry', () => {
  test('entries expire after ttlMs (in-process LRU)', async () => {
    let now = 1_000_000;
    const { openai } = setup({ ttlMs: 60_000, now: () => now });
    await openai.chat.completions.create({ model: 'faq', messages: user('q') });
    now += 59_999;
    await openai.chat.completions.create({ model: 'faq', messages: user('q') });
    expect(server.requests).toHaveLength(1);
    now += 1;
    await openai.chat.completions.create({ model: 'faq', messages: user('q') });
    expect(server.requests).toHaveLength(2);
  });

  test('entries expire after ttlMs (a Store)', async () => {
    let now = 1_000_000;
    const store = new MemoryStore({ now: () => now });
    const { openai } = setup({ ttlMs: 60_000, store });
    await openai.chat.completions.create({ model: 'faq', messages: user('q') });
    now += 30_000;
    await openai.chat.completions.create({ model: 'faq', messages: user('q') });
    now += 30_000;
    await openai.chat.completions.create({ model: 'faq', messages: user('q') });
    expect(server.requests).toHaveLength(2);
  });

  test('the LRU evicts the least recently used entry beyond maxEntries', async () => {
    const { openai } = setup({ maxEntries: 2 });
    const ask = (question: string) => openai.chat.completions.create({ model: 'faq', messages: user(question) });
    await ask('a');
    await ask('b');
    await ask('a'); // a is now the most recent
    await ask('c'); // evicts b
    expect(server.requests).toHaveLength(3);
    await ask('a');
    await ask('c');
    expect(server.requests).toHaveLength(3);
    await ask('b');
    expect(server.requests).toHaveLength(4);
  });

  test('the LRU evicts by bytes, and an answer larger than maxEntryBytes is not cached', async () => {
    const long = 'x'.repeat(2000);
    const { openai } = setup({ maxBytes: 6000, maxEntryBytes: 4000 });
    const ask = (question: string) => openai.chat.completions.create({ model: 'faq', messages: user(question) });
    await ask(`${long}1`);
    await ask(`${long}2`);
    await ask(`${long}1`);
    expect(server.requests).toHaveLength(2);
    // Each entry is about 2.7 kB (the echoed 2000 characters and the rest of the answer): two fit in 6000
    // bytes, a third pushes the least recent (2) out.
    await ask(`${long}3`);
    await ask(`${long}1`);
    expect(server.requests).toHaveLength(3);
    await ask(`${long}2`);
    expect(server.requests).toHaveLength(4);
    const huge = 'y'.repeat(4500);
    await ask(huge);
    await ask(huge);
    expect(server.requests).toHaveLength(6);
  });
});

describe('per route and per call', () => {
  test('only the routes named are cached', async () => {
    const { openai, seen } = setup({ routes: ['faq'] });
    for (let round = 0; round < 2; round++)
      for (const model of ['faq', 'other', 'gpt-4o'])
        await openai.chat.completions.create({ model, messages: user('q') });
    expect(server.requests).toHaveLength(5);
    expect(seen.map((call) => call.flag)).toEqual(['miss', undefined, undefined, 'hit', undefined, undefined]);
  });

  test('routes with their own TTL', async () => {
    let now = 1_000_000;
    const { openai, seen } = setup({ ttlMs: 1000, routes: { faq: { ttlMs: 60_000 }, other: {} }, now: () => now });
    for (const model of ['faq', 'other', 'gpt-4o'])
      await openai.chat.completions.create({ model, messages: user('q') });
    now += 1000;
    for (const model of ['faq', 'other', 'gpt-4o'])
      await openai.chat.completions.create({ model, messages: user('q') });
    // faq still cached (60 s), other expired (the default 1 s), gpt-4o never cached.
    expect(seen.map((call) => call.flag)).toEqual(['miss', 'miss', undefined, 'hit', 'miss', undefined]);
    expect(server.requests).toHaveLength(5);
  });

  test('a predicate decides per call', async () => {
    const { gateway, openai } = setup({ routes: (context) => context.metadata.feature === 'help' });
    const ask = (feature: string) =>
      gateway.run({ metadata: { feature } }, () =>
        openai.chat.completions.create({ model: 'other', messages: user('q') }),
      );
    await ask('help');
    await ask('help');
    await ask('chat');
    await ask('chat');
    expect(server.requests).toHaveLength(3);
  });

  test('bypass (scope metadata or header) skips the cache; the header never goes upstream', async () => {
    const { gateway, openai, seen } = setup();
    await openai.chat.completions.create({ model: 'faq', messages: user('q') });
    await gateway.run({ metadata: { cache: 'bypass' } }, () =>
      openai.chat.completions.create({ model: 'faq', messages: user('q') }),
    );
    await openai.chat.completions.create(
      { model: 'faq', messages: user('q') },
      { headers: { 'X-Gatehouse-Cache': 'bypass', 'x-team-header': 'kept' } },
    );
    await openai.chat.completions.create(
      { model: 'faq', messages: user('new') },
      { headers: new Headers({ 'x-gatehouse-cache': 'bypass' }) },
    );
    expect(server.requests).toHaveLength(4);
    for (const request of server.requests) expect(request.headers['x-gatehouse-cache']).toBeUndefined();
    expect(server.requests[2]!.headers['x-team-header']).toBe('kept');
    // A bypassed call writes nothing either.
    await openai.chat.completions.create({ model: 'faq', messages: user('new') });
    expect(server.requests).toHaveLength(5);
    expect(seen.map((call) => call.flag)).toEqual(['miss', 'bypass', 'bypass', 'bypass', 'miss']);
    // On a call the cache does not cover the header is removed all the same.
    const scoped = setup({ routes: ['faq'] });
    await scoped.openai.chat.completions.create(
      { model: 'other', messages: user('q') },
      { headers: { 'x-gatehouse-cache': 'bypass' } },
    );
    expect(server.requests.at(-1)!.headers['x-gatehouse-cache']).toBeUndefined();
  });

  test('refresh skips the read and writes the new answer', async () => {
    const { gateway, openai } = setup();
    server.script([reply.text('old'), reply.text('new')]);
    await openai.chat.completions.create({ model: 'faq', messages: user('q') });
    const refreshed = await openai.chat.completions.create(
      { model: 'faq', messages: user('q') },
      { headers: { 'x-gatehouse-cache': 'refresh' } },
    );
    expect(refreshed.choices[0]?.message.content).toBe('new');
    const cached = await openai.chat.completions.create({ model: 'faq', messages: user('q') });
    expect(cached.choices[0]?.message.content).toBe('new');
    server.script(reply.text('newest'));
    await gateway.run({ metadata: { cache: 'refresh' } }, () =>
      openai.chat.completions.create({ model: 'faq', messages: user('q') }),
    );
    expect(
      (await openai.chat.completions.create({ model: 'faq', messages: user('q') })).choices[0]?.message.content,
    ).toBe('newest');
    expect(server.requests).toHaveLength(3);
  });
});

describe('telemetry', () => {
  test('span attribute gatehouse.cache.hit, cache-hit / cache-miss events and the model-call event', async () => {
    const { gateway, openai } = setup();
    const events = captureEvents(gateway.events, ['cache-hit', 'cache-miss', 'model-call']);
    await gateway.run({ principal: { team: 'support' } }, async () => {
      await openai.chat.completions.create({ model: 'faq', messages: user('q') });
      await openai.chat.completions.create({ model: 'faq', messages: user('q') });
    });
    const spans = recorder.named('chat faq');
    expect(spans.map((span) => span.attributes[Attr.cacheHit])).toEqual([false, true]);
    expect(spans[1]!.attributes[Attr.usageInputTokens]).toBe(0);
    // A hit makes no upstream attempt, so it has no attempt span.
    expect(recorder.children(spans[1]!)).toEqual([]);
    const [miss, firstCall, hit, secondCall] = events.events;
    expect(miss).toMatchObject({
      type: 'cache-miss',
      reason: 'absent',
      api: 'chat',
      route: 'faq',
      stream: false,
      principal: { team: 'support' },
    });
    expect(firstCall).toMatchObject({ type: 'model-call', outcome: 'success', attempts: 1, cache: 'miss' });
    expect(hit).toMatchObject({ type: 'cache-hit', key: (miss as { key: string }).key, target: 'openai:gpt-4o' });
    expect((hit as { key: string }).key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(secondCall).toMatchObject({
      type: 'model-call',
      outcome: 'success',
      attempts: 0,
      usage: { inputTokens: 0, outputTokens: 0 },
      cache: 'hit',
    });
    expect(JSON.stringify(events.events)).not.toContain('sk-test');
  });
});

describe('a shared store', () => {
  test('two gateways with RedisStores on one redis-server share answers', async () => {
    const redis = await startRedisServer();
    const stores = [new RedisStore({ url: redis.url }), new RedisStore({ url: redis.url })];
    try {
      const [first, second] = stores.map((store) => setup({ store, ttlMs: 60_000 }));
      const answer = await first!.openai.chat.completions.create({ model: 'faq', messages: user('shared') });
      const fromCache = await second!.openai.chat.completions.create({ model: 'faq', messages: user('shared') });
      expect(fromCache).toEqual(answer);
      const streamed = await collect(
        await second!.anthropic.messages.create({
          model: 'claude-faq',
          max_tokens: 50,
          messages: user('shared stream'),
          stream: true,
        }),
      );
      const replayed = await collect(
        await first!.anthropic.messages.create({
          model: 'claude-faq',
          max_tokens: 50,
          messages: user('shared stream'),
          stream: true,
        }),
      );
      expect(replayed).toEqual(streamed);
      expect(server.requests).toHaveLength(2);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
      await redis.stop();
    }
  });

  test('a store that fails sends the call upstream', async () => {
    // A store whose reads and writes fail, as a Redis that is down does.
    class DownStore extends MemoryStore {
      override get<T>(): Promise<T | undefined> {
        return Promise.reject(new Error('connection refused'));
      }
      override set(): Promise<void> {
        return Promise.reject(new Error('connection refused'));
      }
    }
    const broken = new DownStore();
    const { gateway, openai } = setup({ store: broken });
    const events = captureEvents(gateway.events, ['cache-miss']);
    const answer = await openai.chat.completions.create({ model: 'faq', messages: user('q') });
    expect(answer.choices[0]?.message.content).toBe('Echo: q');
    expect(events.events).toEqual([expect.objectContaining({ reason: 'error' })]);
  });
});

test('a damaged entry in the store is a miss, and is written over', async () => {
  const store = new MemoryStore();
  const { gateway, openai } = setup({ store });
  const events = captureEvents(gateway.events, ['cache-miss', 'cache-hit']);
  await openai.chat.completions.create({ model: 'faq', messages: user('q') });
  const { key } = events.events[0] as unknown as { key: string };
  await store.set(`cache:${key}`, '{"not": "an entry"');
  await openai.chat.completions.create({ model: 'faq', messages: user('q') });
  await store.set(`cache:${key}`, { unexpected: true });
  await openai.chat.completions.create({ model: 'faq', messages: user('q') });
  await openai.chat.completions.create({ model: 'faq', messages: user('q') });
  expect(events.events.map((event) => [event.type, (event as { reason?: string }).reason])).toEqual([
    ['cache-miss', 'absent'],
    ['cache-miss', 'error'],
    ['cache-miss', 'error'],
    ['cache-hit', undefined],
  ]);
  expect(server.requests).toHaveLength(3);
});

describe('options', () => {
  test('bad options throw a ConfigError naming the option', () => {
    expect(() => cacheMiddleware({ ttlMs: -1 })).toThrow(ConfigError);
    expect(() => cacheMiddleware({ ttlMs: -1 })).toThrow(/cache\.ttlMs/);
    expect(() => cacheMiddleware({ store: {} as Store })).toThrow(/cache\.store/);
    expect(() => cacheMiddleware({ routes: 'faq' as never })).toThrow(/cache\.routes/);
    expect(() => cacheMiddleware({ routes: { faq: { ttlMs: 0 } } })).toThrow(/cache\.routes/);
    expect(() => cacheMiddleware({ colour: 'red' } as never)).toThrow(/colour/);
  });
});
