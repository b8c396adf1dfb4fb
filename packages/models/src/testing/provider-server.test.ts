import Anthropic from '@anthropic-ai/sdk';
import { ConfigError } from '@gatehouse/core';
import OpenAI from 'openai';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createProviderServer, type ProviderServer, reply } from './index.js';

let server: ProviderServer;
let openai: OpenAI;
let anthropic: Anthropic;

beforeEach(async () => {
  if (!server) {
    server = await createProviderServer();
    // logLevel 'off': the SDKs log the broken JSON of the malformed tests before they throw.
    openai = new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'test', maxRetries: 0, logLevel: 'off' });
    anthropic = new Anthropic({ baseURL: server.anthropicBaseURL, apiKey: 'test', maxRetries: 0, logLevel: 'off' });
  }
  server.reset();
});

afterAll(() => server.close());

const chat = (content = 'hi') => ({ model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content }] });
const message = (content = 'hi') => ({
  model: 'claude-haiku-4-5',
  max_tokens: 100,
  messages: [{ role: 'user' as const, content }],
});
const chatText = async () => (await openai.chat.completions.create(chat())).choices[0]?.message.content;
const messageText = async () => {
  const [block] = (await anthropic.messages.create(message())).content;
  return block?.type === 'text' ? block.text : undefined;
};

describe('scripting', () => {
  it('consumes steps in order across endpoints, then falls back to the echo', async () => {
    server.script([reply.text('first'), reply.text('second')]);
    expect(server.pending).toBe(2);
    expect(await chatText()).toBe('first');
    expect(await messageText()).toBe('second');
    expect(await chatText()).toBe('Echo: hi');
    expect(server.pending).toBe(0);
  });

  it('restricts steps to a path or a model', async () => {
    server.script(reply.text('for anthropic'), { path: '/v1/messages' });
    server.script(reply.text('for gpt-4.1'), { model: 'gpt-4.1' });
    expect(await chatText()).toBe('Echo: hi');
    const completion = await openai.chat.completions.create({ ...chat(), model: 'gpt-4.1' });
    expect(completion.choices[0]?.message.content).toBe('for gpt-4.1');
    expect(await messageText()).toBe('for anthropic');
  });

  it('decides with a function step from the recorded request', async () => {
    server.script((request) => (request.body.messages.length > 1 ? reply.text('follow-up') : undefined));
    server.script((request) => reply.text(`model ${request.body.model}`));
    expect(await chatText()).toBe('Echo: hi');
    expect(await chatText()).toBe('model gpt-4o-mini');
  });

  it('renders one neutral answer for every wire format and stream mode', async () => {
    const answer = reply.text('same everywhere');
    server.script([answer, answer, answer, answer, answer]);
    expect(await chatText()).toBe('same everywhere');
    expect(await messageText()).toBe('same everywhere');
    expect((await openai.responses.create({ model: 'gpt-4.1', input: 'x' })).output_text).toBe('same everywhere');
    const streamed = await openai.chat.completions.stream(chat()).finalChatCompletion();
    expect(streamed.choices[0]?.message.content).toBe('same everywhere');
    expect(await anthropic.messages.stream(message()).finalText()).toBe('same everywhere');
  });

  it('resets the queue and the recorded requests', async () => {
    server.script(reply.text('unused'));
    await openai.models.list();
    server.reset();
    expect(server.pending).toBe(0);
    expect(server.requests).toEqual([]);
    expect(await chatText()).toBe('Echo: hi');
  });

  it('rejects scripting mistakes at set-up with a ConfigError', () => {
    expect(() => reply.text('ab', { chunks: ['a', 'c'] })).toThrow(ConfigError);
    expect(() => reply.error(200)).toThrow(/HTTP error status/);
    expect(() => server.script({ text: 'x' } as never)).toThrow(ConfigError);
  });

  it('answers 500 naming the problem when a step function throws', async () => {
    server.script(() => {
      throw new Error('boom');
    });
    await expect(chatText()).rejects.toMatchObject({ status: 500, message: expect.stringMatching(/boom/) });
    server.script(() => Promise.reject(new Error('async boom')));
    await expect(messageText()).rejects.toMatchObject({ status: 500, error: { error: { type: 'api_error' } } });
  });

  it('answers unknown paths with the provider 404', async () => {
    const missing = openai.post('/nowhere', { body: {} });
    await expect(missing).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(missing).rejects.toThrow(/Invalid URL \(POST \/v1\/nowhere\)/);
  });
});

describe('errors', () => {
  it('gives OpenAI its error shape, status and retry headers', async () => {
    server.script(reply.error(429, { retryAfter: 2, retryAfterMs: 1500, message: 'Slow down' }));
    const error = await openai.chat.completions.create(chat()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const rateLimit = error as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rateLimit.status).toBe(429);
    expect(rateLimit.headers.get('retry-after')).toBe('2');
    expect(rateLimit.headers.get('retry-after-ms')).toBe('1500');
    expect(rateLimit.requestID).toMatch(/^req_/);
    expect(rateLimit).toMatchObject({ message: '429 Slow down', type: 'requests', code: 'rate_limit_exceeded' });
  });

  it('drives the SDK retry loop: retry-after-ms is honoured and each attempt is recorded', async () => {
    const retrying = new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'test', maxRetries: 2 });
    server.script([
      reply.error(429, { retryAfterMs: 10 }),
      reply.error(503, { retryAfterMs: 10 }),
      reply.text('third'),
    ]);
    const completion = await retrying.chat.completions.create(chat());
    expect(completion.choices[0]?.message.content).toBe('third');
    expect(server.requests.map((request) => request.headers['x-stainless-retry-count'])).toEqual(['0', '1', '2']);
  });

  it('maps statuses to the OpenAI SDK error classes', async () => {
    server.script([reply.error(500), reply.error(401), reply.error(400, { code: 'context_length_exceeded' })]);
    await expect(chatText()).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    await expect(chatText()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(chatText()).rejects.toMatchObject({ status: 400, code: 'context_length_exceeded' });
  });

  it('gives Anthropic its error shape, status and request id', async () => {
    server.script([reply.error(429, { retryAfter: 1 }), reply.error(529), reply.error(500)]);
    const error = await anthropic.messages.create(message()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    const rateLimit = error as InstanceType<typeof Anthropic.RateLimitError>;
    expect(rateLimit.headers.get('retry-after')).toBe('1');
    expect(rateLimit.requestID).toMatch(/^req_/);
    expect(rateLimit.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    await expect(messageText()).rejects.toMatchObject({ status: 529, error: { error: { type: 'overloaded_error' } } });
    await expect(messageText()).rejects.toBeInstanceOf(Anthropic.InternalServerError);
  });

  it('sends raw answers as given', async () => {
    server.script(reply.raw(503, 'upstream down', { 'x-custom': 'yes' }));
    const error = await openai.chat.completions.create(chat()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error).toMatchObject({ status: 503, message: '503 upstream down' });
    expect((error as InstanceType<typeof OpenAI.APIError>).headers?.get('x-custom')).toBe('yes');
  });
});

describe('faults', () => {
  it('resets the connection: the SDKs raise their connection errors', async () => {
    server.script([reply.reset(), reply.reset()]);
    await expect(chatText()).rejects.toBeInstanceOf(OpenAI.APIConnectionError);
    await expect(messageText()).rejects.toBeInstanceOf(Anthropic.APIConnectionError);
    // The next request on a fresh connection works.
    expect(await chatText()).toBe('Echo: hi');
  });

  it('delays an answer past the client timeout', async () => {
    server.script(reply.delay(150, reply.text('too late')));
    const call = openai.chat.completions.create(chat(), { timeout: 30 });
    await expect(call).rejects.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    server.script(reply.delay(20, reply.text('in time')));
    expect(await chatText()).toBe('in time');
  });

  it('cuts an OpenAI stream after some chunks: the iteration throws after them', async () => {
    server.script(reply.cutStream({ afterChunks: 3 }, reply.text('one two three four')));
    const stream = await openai.chat.completions.create({ ...chat(), stream: true });
    const seen: string[] = [];
    const iterate = async () => {
      for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? '');
    };
    await expect(iterate()).rejects.toThrow();
    expect(seen).toEqual(['', 'one ', 'two ']);
  });

  it('cuts an Anthropic stream: messages.stream() rejects instead of finishing', async () => {
    server.script(reply.cutStream({ afterChunks: 4 }, reply.text('one two three')));
    const stream = anthropic.messages.stream(message());
    const text: string[] = [];
    stream.on('text', (delta) => text.push(delta));
    await expect(stream.finalMessage()).rejects.toThrow();
    // message_start, content_block_start, ping, then one delta.
    expect(text).toEqual(['one ']);
  });

  it("reports an error inside a started stream, in each provider's way", async () => {
    const failing = reply.streamError({ afterChunks: 2, status: 529 }, reply.text('one two three'));
    server.script([failing, failing, failing, failing]);

    const seen: string[] = [];
    const chatStream = async () => {
      for await (const chunk of await openai.chat.completions.create({ ...chat(), stream: true })) {
        seen.push(chunk.choices[0]?.delta.content ?? '');
      }
    };
    await expect(chatStream()).rejects.toMatchObject({ message: expect.stringMatching(/Overloaded/) });
    expect(seen).toEqual(['', 'one ']);

    const stream = anthropic.messages.stream(message());
    const error = await stream.finalMessage().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect(error).toMatchObject({ error: { type: 'error', error: { type: 'overloaded_error' } } });

    const events: string[] = [];
    for await (const event of await openai.responses.create({ model: 'gpt-4.1', input: 'x', stream: true })) {
      events.push(event.type);
      if (event.type === 'error') expect(event.message).toBe('Overloaded');
    }
    expect(events).toEqual(['response.created', 'response.in_progress', 'error']);

    // Without a stream the same step is an error answer.
    await expect(messageText()).rejects.toBeInstanceOf(Anthropic.InternalServerError);
  });

  it('cuts a JSON answer halfway', async () => {
    server.script(reply.cutStream({ afterChunks: 0 }));
    await expect(chatText()).rejects.toThrow();
  });

  it('sends malformed JSON: the SDKs throw, streaming or not', async () => {
    server.script([reply.malformed(), reply.malformed(), reply.malformed(), reply.malformed()]);
    await expect(chatText()).rejects.toThrow();
    await expect(messageText()).rejects.toThrow();
    const iterate = async () => {
      for await (const _ of await openai.chat.completions.create({ ...chat(), stream: true })) {
        // Nothing arrives before the broken event.
      }
    };
    await expect(iterate()).rejects.toThrow(SyntaxError);
    await expect(anthropic.messages.stream(message()).finalMessage()).rejects.toThrow();
  });

  it('paces a slow stream: each event arrives on its own, all of them arrive', async () => {
    server.script(reply.slowStream({ chunkMs: 10 }, reply.text('a b c')));
    const response = await fetch(`${server.openaiBaseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer test', 'content-type': 'application/json' },
      body: JSON.stringify({ ...chat(), stream: true }),
    });
    const reads: string[] = [];
    const decoder = new TextDecoder();
    for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) reads.push(decoder.decode(bytes));
    // Role chunk, three words, finish chunk, [DONE]: six events, spread over several reads.
    expect(reads.length).toBeGreaterThanOrEqual(3);
    expect(reads.join('').match(/^data: /gm)).toHaveLength(6);
    expect(reads.at(-1)?.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('holds the first token back, so a stalled stream can be aborted before any text', async () => {
    server.script(reply.slowStream({ firstTokenMs: 150 }));
    const controller = new AbortController();
    const stream = anthropic.messages.stream(message(), { signal: controller.signal });
    const text: string[] = [];
    stream.on('text', (delta) => text.push(delta));
    stream.on('connect', () => setTimeout(() => controller.abort(), 20));
    await expect(stream.finalMessage()).rejects.toBeInstanceOf(Anthropic.APIUserAbortError);
    expect(text).toEqual([]);
  });

  it('adds latency to every answer: a shorter client timeout fails', async () => {
    const slow = await createProviderServer({ latencyMs: 100, defaultModel: 'house-model' });
    const client = new OpenAI({ baseURL: slow.openaiBaseURL, apiKey: 'test', maxRetries: 0 });
    await expect(client.models.list({ timeout: 10 })).rejects.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect((await client.models.list()).data[0]?.id).toBe('house-model');
    await slow.close();
  });

  it('closes with a stream still open: the client sees the stream fail', async () => {
    const closing = await createProviderServer();
    const client = new OpenAI({ baseURL: closing.openaiBaseURL, apiKey: 'test', maxRetries: 0 });
    closing.script(reply.slowStream({ chunkMs: 150 }));
    const stream = await client.chat.completions.create({ ...chat(), stream: true });
    const iterate = (async () => {
      for await (const _ of stream) {
        // The server closes mid-stream.
      }
    })();
    await closing.close();
    await expect(iterate).rejects.toThrow();
  });
});
