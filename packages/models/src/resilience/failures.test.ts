import Anthropic from '@anthropic-ai/sdk';
import { createGateway, NoHealthyTargetError, TimeoutError, UpstreamError } from '@gatehouse/core';
import OpenAI from 'openai';
import { afterAll, beforeEach, describe, expect, test } from 'vitest';
import { models } from '../layer/index.js';
import type { ModelsOptions } from '../options/index.js';
import { createProviderServer, type ProviderServer, reply } from '../testing/index.js';
import { isRetryable, retryAfterMs } from './errors.js';

let server: ProviderServer;
server = await createProviderServer();
afterAll(() => server.close());
beforeEach(() => server.reset());

const user = (content: string) => [{ role: 'user' as const, content }];

function setup(extra: Partial<ModelsOptions> = {}) {
  const primary = new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'test' });
  const backup = new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'test' });
  const anthropic = new Anthropic({ baseURL: server.anthropicBaseURL, apiKey: 'test' });
  const gateway = createGateway({
    models: models({
      providers: { primary, backup, anthropic },
      routes: {
        main: {
          targets: [
            { provider: 'primary', model: 'gpt-4o' },
            { provider: 'backup', model: 'gpt-4o-mini' },
          ],
        },
        claude: {
          targets: [
            { provider: 'anthropic', model: 'claude-sonnet-4-5', parameters: { max_tokens: 64 } },
            { provider: 'anthropic', model: 'claude-haiku-4-5', parameters: { max_tokens: 64 } },
          ],
        },
      },
      retry: { retries: 2, minTimeout: 1, maxTimeout: 5 },
      ...extra,
    }),
  });
  return { gateway, openai: gateway.wrap(primary), anthropic: gateway.wrap(anthropic) };
}

const sentModels = () => server.requests.map((request) => request.body.model);
const ask = (openai: OpenAI) => openai.chat.completions.create({ model: 'main', messages: user('x') });

async function collect(stream: AsyncIterable<OpenAI.Chat.ChatCompletionChunk>) {
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  return text;
}

describe('retries and fallback', () => {
  test('429 with retry-after (seconds) waits that long, then retries the same target', async () => {
    const { openai } = setup();
    server.script(reply.error(429, { retryAfter: 1 }));
    const completion = await ask(openai);
    expect(completion.model).toBe('gpt-4o');
    expect(sentModels()).toEqual(['gpt-4o', 'gpt-4o']);
    const [first, second] = server.requests;
    expect(second!.time - first!.time).toBeGreaterThanOrEqual(950);
  });

  test('a retry-after longer than maxRetryAfterMs moves on to the next target at once', async () => {
    const { openai } = setup({ retry: { retries: 2, minTimeout: 1, maxRetryAfterMs: 1000 } });
    server.script(reply.error(429, { retryAfter: 60 }));
    expect((await ask(openai)).model).toBe('gpt-4o-mini');
    expect(sentModels()).toEqual(['gpt-4o', 'gpt-4o-mini']);
  });

  test.each([500, 503, 408, 409])('%i is retried on the same target', async (status) => {
    const { openai } = setup();
    server.script(reply.error(status));
    expect((await ask(openai)).model).toBe('gpt-4o');
    expect(sentModels()).toEqual(['gpt-4o', 'gpt-4o']);
  });

  test.each([400, 401, 403, 404])('%i is never retried; the route falls back', async (status) => {
    const { openai } = setup();
    server.script(reply.error(status), { model: 'gpt-4o' });
    expect((await ask(openai)).model).toBe('gpt-4o-mini');
    expect(sentModels()).toEqual(['gpt-4o', 'gpt-4o-mini']);
  });

  test('a connection reset is retried', async () => {
    const { openai } = setup();
    server.script(reply.reset());
    expect((await ask(openai)).model).toBe('gpt-4o');
    expect(sentModels()).toEqual(['gpt-4o', 'gpt-4o']);
  });

  test('malformed JSON is an UpstreamError; the route falls back', async () => {
    const { openai } = setup();
    server.script(reply.malformed(), { model: 'gpt-4o' });
    expect((await ask(openai)).model).toBe('gpt-4o-mini');
  });

  test('a target that keeps failing exhausts its retries, then the next answers', async () => {
    const { openai } = setup();
    server.script([reply.error(500), reply.error(500), reply.error(500)], { model: 'gpt-4o' });
    expect((await ask(openai)).model).toBe('gpt-4o-mini');
    expect(sentModels()).toEqual(['gpt-4o', 'gpt-4o', 'gpt-4o', 'gpt-4o-mini']);
  });
});

describe('timeouts', () => {
  test('an answer slower than the timeout is a TimeoutError, retried, then the route falls back', async () => {
    const { openai } = setup({ timeout: { ms: 100 }, retry: { retries: 1, minTimeout: 1 } });
    server.script([reply.delay(2000), reply.delay(2000)], { model: 'gpt-4o' });
    expect((await ask(openai)).model).toBe('gpt-4o-mini');
    expect(sentModels()).toEqual(['gpt-4o', 'gpt-4o', 'gpt-4o-mini']);
  });

  test('all targets timing out: NoHealthyTargetError holding TimeoutErrors', async () => {
    const { openai } = setup({ timeout: { ms: 50 }, retry: { retries: 0 } });
    server.script([reply.delay(2000), reply.delay(2000)]);
    const error = await ask(openai).catch((e) => e);
    expect(NoHealthyTargetError.isInstance(error)).toBe(true);
    expect(error.errors.every((e: unknown) => TimeoutError.isInstance(e))).toBe(true);
  });

  test('a stream whose first token is too slow fails over before the caller sees anything', async () => {
    const { openai } = setup({ timeout: { ms: 5000, firstTokenMs: 100 }, retry: { retries: 0 } });
    server.script(reply.slowStream({ firstTokenMs: 2000 }, reply.text('late')), { model: 'gpt-4o' });
    const stream = await openai.chat.completions.create({ model: 'main', messages: user('quick'), stream: true });
    expect(await collect(stream)).toBe('Echo: quick');
    expect(sentModels()).toEqual(['gpt-4o', 'gpt-4o-mini']);
  });
});

describe('timeouts abort the upstream request', () => {
  /** A client whose fetch keeps each request's signal, to see whether the request was aborted. */
  function recorded(options: Partial<ModelsOptions>, clientRetries?: number, clientTimeout?: number) {
    const signals: AbortSignal[] = [];
    const timeouts: (string | null)[] = [];
    const recordingFetch: typeof fetch = (input, init) => {
      if (init?.signal) signals.push(init.signal);
      timeouts.push(new Headers(init?.headers).get('x-stainless-timeout'));
      return fetch(input, init);
    };
    const primary = new OpenAI({
      baseURL: server.openaiBaseURL,
      apiKey: 'test',
      fetch: recordingFetch,
      ...(clientRetries === undefined ? {} : { maxRetries: clientRetries }),
      ...(clientTimeout === undefined ? {} : { timeout: clientTimeout }),
    });
    const gateway = createGateway({
      models: models({
        providers: { primary },
        routes: { main: { targets: [{ provider: 'primary', model: 'gpt-4o' }] } },
        ...options,
      }),
    });
    return { openai: gateway.wrap(primary), signals, timeouts };
  }

  /** Waits (bounded) for the request to be aborted: the SDK's own timer fires just after the deadline. */
  async function aborted(signal: AbortSignal | undefined): Promise<boolean> {
    for (let wait = 0; wait < 100 && signal && !signal.aborted; wait++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    return signal?.aborted === true;
  }

  test('an answer slower than the timeout: TimeoutError, and the request is aborted', async () => {
    const { openai, signals } = recorded({ timeout: { ms: 100 }, retry: { retries: 0 } });
    server.script(reply.delay(5000));
    const error = await ask(openai).catch((e) => e);
    expect(NoHealthyTargetError.isInstance(error)).toBe(true);
    expect(TimeoutError.isInstance(error.errors[0])).toBe(true);
    expect(await aborted(signals[0])).toBe(true);
  });

  test('a stream whose first content is too slow: the open stream is aborted', async () => {
    const { openai, signals } = recorded({ timeout: { ms: 5000, firstTokenMs: 100 }, retry: { retries: 0 } });
    server.script(reply.slowStream({ firstTokenMs: 5000 }, reply.text('late')));
    const error = await openai.chat.completions
      .create({ model: 'main', messages: user('x'), stream: true })
      .catch((e) => e);
    expect(TimeoutError.isInstance(error.errors[0])).toBe(true);
    expect(await aborted(signals[0])).toBe(true);
  });

  // A client that may retry: the deadline aborts the request through a signal. One that does not (retries 0): a
  // copy of it timed by the attempt's duration sends it, and the SDK's own timer aborts it (upstream/timed-client.ts).
  // Either way the gateway adds no per-request timeout, and the SDK sends the request once.
  test.each([
    ['may retry (its default)', undefined],
    ['does not retry', 0],
  ])('with retry: false and a client that %s, the request is aborted', async (_, clientRetries) => {
    const { openai, signals, timeouts } = recorded({ timeout: { ms: 100 }, retry: false }, clientRetries);
    server.script(reply.delay(5000));
    const error = await ask(openai).catch((e) => e);
    expect(TimeoutError.isInstance(error.errors[0])).toBe(true);
    expect(await aborted(signals[0])).toBe(true);
    expect(server.requests).toHaveLength(1);
    expect(timeouts[0]).toBeNull();
  });

  test("a client timeout shorter than the attempt's stands: no per-request timeout", async () => {
    const { openai, timeouts } = recorded({ timeout: { ms: 30_000 }, retry: { retries: 0 } }, 0, 100);
    server.script(reply.delay(3000));
    const error = await ask(openai).catch((e) => e);
    expect(NoHealthyTargetError.isInstance(error)).toBe(true);
    expect(UpstreamError.isInstance(error.errors[0])).toBe(true);
    expect(error.errors[0].cause).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(timeouts[0]).toBeNull();
  });
});

describe('streams', () => {
  test('a stream cut before its first content fails over invisibly', async () => {
    const { openai } = setup({ retry: { retries: 0 } });
    server.script(reply.cutStream({ afterChunks: 1 }, reply.text('lost answer')), { model: 'gpt-4o' });
    const stream = await openai.chat.completions.create({ model: 'main', messages: user('saved'), stream: true });
    expect(await collect(stream)).toBe('Echo: saved');
    expect(sentModels()).toEqual(['gpt-4o', 'gpt-4o-mini']);
  });

  test('a stream cut after content reached the caller ends in an UpstreamError, never a short success', async () => {
    const { openai } = setup({ retry: { retries: 0 } });
    server.script(
      reply.cutStream(
        { afterChunks: 3 },
        reply.text('one two three four five', { chunks: ['one ', 'two ', 'three ', 'four ', 'five'] }),
      ),
    );
    const stream = await openai.chat.completions.create({ model: 'main', messages: user('x'), stream: true });
    const seen: string[] = [];
    const error = await (async () => {
      for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? '');
    })().catch((e) => e);
    expect(seen.join('')).not.toBe('');
    expect(UpstreamError.isInstance(error)).toBe(true);
    expect(error.target).toBe('primary:gpt-4o');
    expect(sentModels()).toEqual(['gpt-4o']);
  });

  test('an Anthropic stream failing with 529 before its first event is retried, then streams', async () => {
    const { anthropic } = setup();
    server.script(reply.error(529));
    const stream = anthropic.messages.stream({ model: 'claude', max_tokens: 10, messages: user('over') });
    const final = await stream.finalMessage();
    expect(final.content[0]).toMatchObject({ type: 'text', text: 'Echo: over' });
    expect(sentModels()).toEqual(['claude-sonnet-4-5', 'claude-sonnet-4-5']);
  });
});

describe('circuit breaker', () => {
  test('opens after consecutive failures, skips the target while cooling down, probes after the cooldown', async () => {
    const { openai, gateway } = setup({
      retry: { retries: 0 },
      circuitBreaker: { failureThreshold: 2, cooldownMs: 200 },
    });
    server.script([reply.error(500), reply.error(500)], { model: 'gpt-4o' });
    await ask(openai);
    await ask(openai);
    expect(gateway.models.health()['primary:gpt-4o']).toMatchObject({ state: 'open', failures: 2 });
    server.reset();
    expect((await ask(openai)).model).toBe('gpt-4o-mini');
    expect(sentModels()).toEqual(['gpt-4o-mini']);
    await new Promise((resolve) => setTimeout(resolve, 250));
    server.reset();
    expect((await ask(openai)).model).toBe('gpt-4o');
    expect(gateway.models.health()['primary:gpt-4o']).toMatchObject({ state: 'closed', failures: 0 });
  });
});

describe('error helpers', () => {
  test('retryAfterMs reads retry-after-ms, retry-after seconds and dates, through cause', () => {
    const headers = (values: Record<string, string>) => ({ headers: new Headers(values) });
    expect(retryAfterMs(headers({ 'retry-after-ms': '250' }))).toBe(250);
    expect(retryAfterMs(headers({ 'retry-after': '2' }))).toBe(2000);
    const date = new Date(Date.now() + 5000).toUTCString();
    expect(retryAfterMs(headers({ 'retry-after': date }))).toBeGreaterThan(3000);
    expect(retryAfterMs({ cause: headers({ 'retry-after': '1' }) })).toBe(1000);
    expect(retryAfterMs(new Error('no headers'))).toBeUndefined();
  });

  test('isRetryable: statuses, connection errors, aborts', () => {
    expect(isRetryable(new OpenAI.RateLimitError(429, undefined, 'slow', new Headers()))).toBe(true);
    expect(isRetryable(new OpenAI.BadRequestError(400, undefined, 'bad', new Headers()))).toBe(false);
    expect(isRetryable(new OpenAI.APIConnectionError({ message: 'reset' }))).toBe(true);
    expect(isRetryable(new OpenAI.APIUserAbortError())).toBe(false);
  });
});
