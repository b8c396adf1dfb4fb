import Anthropic from '@anthropic-ai/sdk';
import { ConfigError, createGateway, type EventBus, UpstreamError } from '@gatehouse/core';
import OpenAI from 'openai';
import { ChatCompletionStream } from 'openai/lib/ChatCompletionStream';
import { afterAll, beforeEach, describe, expect, expectTypeOf, test } from 'vitest';
import { models } from '../layer/index.js';
import type { ModelCallEvent } from '../telemetry/index.js';
import { createProviderServer, type ProviderServer, reply } from '../testing/index.js';

let server: ProviderServer;

// Typed through ModelCallEvent: core's EventName does not pick up the 'model-call' augmentation yet.
function onModelCall(gateway: { events: EventBus }, listener: (event: ModelCallEvent) => void) {
  gateway.events.onAny((event) => {
    if (event.type === ('model-call' as string)) listener(event as unknown as ModelCallEvent);
  });
}
const user = (content: string) => [{ role: 'user' as const, content }];

function setup() {
  const openai = new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'test', maxRetries: 0 });
  const anthropic = new Anthropic({ baseURL: server.anthropicBaseURL, apiKey: 'test', maxRetries: 0 });
  const gateway = createGateway({ models: models({ providers: { openai, anthropic } }) });
  return { gateway, openai: gateway.wrap(openai), anthropic: gateway.wrap(anthropic), rawOpenai: openai };
}

server = await createProviderServer();
afterAll(() => server.close());
beforeEach(() => server.reset());

describe('gateway.wrap() keeps the client', () => {
  test('the wrapped clients keep their types and classes; non-generating properties pass through', () => {
    const { openai, anthropic, rawOpenai, gateway } = setup();
    expectTypeOf(openai).toEqualTypeOf<OpenAI>();
    expectTypeOf(anthropic).toEqualTypeOf<Anthropic>();
    expectTypeOf(openai.chat.completions.create).toEqualTypeOf<OpenAI['chat']['completions']['create']>();
    expect(openai).toBeInstanceOf(OpenAI);
    expect(anthropic).toBeInstanceOf(Anthropic);
    expect(openai.baseURL).toBe(rawOpenai.baseURL);
    expect(openai.models).toBe(rawOpenai.models);
    expect(openai.chat.completions).toBe(openai.chat.completions);
    expect(gateway.wrap(openai)).toBe(openai);
    expect(gateway.wrap(rawOpenai)).toBe(openai);
    expect(openai.withOptions({ timeout: 5000 })).toBeInstanceOf(OpenAI);
  });

  test('chat.completions.create: await, withResponse and asResponse', async () => {
    const { openai } = setup();
    const completion = await openai.chat.completions.create({ model: 'gpt-4o', messages: user('hi') });
    expect(completion.choices[0]?.message.content).toBe('Echo: hi');
    const { data, response, request_id } = await openai.chat.completions
      .create({ model: 'gpt-4o', messages: user('again') })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('Echo: again');
    expect(response.status).toBe(200);
    expect(request_id).toBe(response.headers.get('x-request-id'));
    const raw = await openai.chat.completions.create({ model: 'gpt-4o', messages: user('raw') }).asResponse();
    expect((await raw.json()).choices[0].message.content).toBe('Echo: raw');
  });

  test('chat.completions.create streaming: for await, tee, toReadableStream, asResponse', async () => {
    const { openai } = setup();
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages: user('one two'), stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('Echo: one two');
    await expect(async () => {
      for await (const _ of stream) break;
    }).rejects.toThrow(/consumed stream/);

    const [left, right] = (
      await openai.chat.completions.create({ model: 'gpt-4o', messages: user('tee'), stream: true })
    ).tee();
    const read = async (s: AsyncIterable<OpenAI.Chat.ChatCompletionChunk>) => {
      let out = '';
      for await (const chunk of s) out += chunk.choices[0]?.delta.content ?? '';
      return out;
    };
    expect(await Promise.all([read(left), read(right)])).toEqual(['Echo: tee', 'Echo: tee']);

    const readable = (
      await openai.chat.completions.create({ model: 'gpt-4o', messages: user('lines'), stream: true })
    ).toReadableStream();
    const back = ChatCompletionStream.fromReadableStream(readable);
    expect((await back.finalChatCompletion()).choices[0]?.message.content).toBe('Echo: lines');

    const response = await openai.chat.completions
      .create({ model: 'gpt-4o', messages: user('sse'), stream: true })
      .asResponse();
    const body = await response.text();
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(body).toContain('data: [DONE]');
    expect(body).toContain('"content":"sse"');
  });

  test('the SDK helpers run through the chain: stream(), parse(), runTools-free finalChatCompletion', async () => {
    const { gateway, openai } = setup();
    const calls: string[] = [];
    onModelCall(gateway, (event) => calls.push(`${event.api}:${event.stream}`));
    const helper = openai.chat.completions.stream({ model: 'gpt-4o', messages: user('helper') });
    const deltas: string[] = [];
    helper.on('content', (delta) => deltas.push(delta));
    expect((await helper.finalChatCompletion()).choices[0]?.message.content).toBe('Echo: helper');
    expect(deltas.join('')).toBe('Echo: helper');
    server.script(reply.text('{"city":"Paris"}'));
    const parsed = await openai.chat.completions.parse({
      model: 'gpt-4o',
      messages: user('where'),
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'place', schema: { type: 'object', properties: { city: { type: 'string' } } } },
      },
    });
    expect(parsed.choices[0]?.message.content).toBe('{"city":"Paris"}');
    expect(calls).toEqual(['chat:true', 'chat:false']);
  });

  test('responses.create (streaming and not) and embeddings.create', async () => {
    const { gateway, openai } = setup();
    const apis: string[] = [];
    onModelCall(gateway, (event) => apis.push(event.api));
    const response = await openai.responses.create({ model: 'gpt-4o', input: 'hello' });
    expect(response.output_text).toBe('Echo: hello');
    const stream = await openai.responses.create({ model: 'gpt-4o', input: 'streamed', stream: true });
    let text = '';
    for await (const event of stream) if (event.type === 'response.output_text.delta') text += event.delta;
    expect(text).toBe('Echo: streamed');
    const helper = openai.responses.stream({ model: 'gpt-4o', input: 'helped' });
    expect((await helper.finalResponse()).output_text).toBe('Echo: helped');
    const embedding = await openai.embeddings.create({ model: 'text-embedding-3-small', input: 'vector' });
    expect(embedding.data[0]?.embedding.length).toBeGreaterThan(0);
    expect(apis).toEqual(['responses', 'responses', 'responses', 'embeddings']);
  });

  test('Anthropic messages.create, messages.stream() with events and finalMessage(), countTokens', async () => {
    const { gateway, anthropic } = setup();
    const apis: string[] = [];
    onModelCall(gateway, (event) => apis.push(event.api));
    const message = await anthropic.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 50,
      messages: user('hi'),
    });
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'Echo: hi' });
    const stream = await anthropic.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 50,
      messages: user('streamed'),
      stream: true,
    });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types[0]).toBe('message_start');
    expect(types.at(-1)).toBe('message_stop');
    const helper = anthropic.messages.stream({ model: 'claude-haiku-4-5', max_tokens: 50, messages: user('helper') });
    let text = '';
    helper.on('text', (delta) => {
      text += delta;
    });
    const final = await helper.finalMessage();
    expect(final.content[0]).toMatchObject({ type: 'text', text: 'Echo: helper' });
    expect(text).toBe('Echo: helper');
    const count = await anthropic.messages.countTokens({ model: 'claude-haiku-4-5', messages: user('count me') });
    expect(count.input_tokens).toBeGreaterThan(0);
    expect(apis).toEqual(['messages', 'messages', 'messages', 'count-tokens']);
  });

  test('an AbortSignal and per-request options reach the upstream', async () => {
    const { openai } = setup();
    server.script(reply.delay(5_000));
    const controller = new AbortController();
    const pending = openai.chat.completions.create(
      { model: 'gpt-4o', messages: user('slow') },
      { signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toBeInstanceOf(OpenAI.APIUserAbortError);
    await openai.chat.completions.create(
      { model: 'gpt-4o', messages: user('headers') },
      { headers: { 'x-team': 'risk' } },
    );
    expect(server.requests.at(-1)?.headers['x-team']).toBe('risk');
  });

  test('breaking out of a stream stops the upstream', async () => {
    const { openai } = setup();
    server.script(reply.slowStream({ chunkMs: 20 }, reply.text('a b c d e f g h')));
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages: user('x'), stream: true });
    for await (const _ of stream) break;
    expect(stream.controller.signal.aborted).toBe(true);
  });

  test('a call that is not a route surfaces the SDK error unchanged', async () => {
    const { openai, anthropic } = setup();
    server.script(reply.error(429, { retryAfterMs: 10 }));
    const error = await openai.chat.completions.create({ model: 'gpt-4o', messages: user('x') }).catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    server.script(reply.error(401));
    const denied = await anthropic.messages
      .create({ model: 'claude-haiku-4-5', max_tokens: 5, messages: user('x') })
      .catch((e) => e);
    expect(denied).toBeInstanceOf(Anthropic.AuthenticationError);
  });

  test('a stream cut mid-way fails as the SDK would; one that ends quietly before its end marker is an UpstreamError', async () => {
    const { openai } = setup();
    const drain = async (stream: AsyncIterable<unknown>) => {
      for await (const _ of stream);
    };
    server.script(reply.cutStream({ afterChunks: 2 }, reply.text('one two three four')));
    const cut = await openai.chat.completions.create({ model: 'gpt-4o', messages: user('x'), stream: true });
    await expect(drain(cut)).rejects.toThrow();
    const chunk = {
      id: 'c1',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'gpt-4o',
      choices: [{ index: 0, delta: { content: 'half' }, finish_reason: null }],
    };
    server.script(reply.raw(200, `data: ${JSON.stringify(chunk)}\n\n`, { 'content-type': 'text/event-stream' }));
    const quiet = await openai.chat.completions.create({ model: 'gpt-4o', messages: user('x'), stream: true });
    const error = await drain(quiet).catch((e) => e);
    expect(UpstreamError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/ended before its end marker/);
  });
});

describe('models() options', () => {
  const openai = new OpenAI({ apiKey: 'test' });
  test.each([
    [{ routes: { r: { targets: [{ provider: 'nope', model: 'm' }] } } }, 'models.routes.r.targets.0.provider'],
    [{ providers: { openai }, routes: { r: { targets: [] } } }, 'models.routes.r.targets'],
    [
      { providers: { openai }, routes: { r: { targets: [{ provider: 'openai', model: 'm', weight: 0 }] } } },
      'models.routes.r.targets.0.weight',
    ],
    [{ providers: { openai: {} } }, 'models.providers.openai'],
    [
      {
        providers: { openai },
        routes: { r: { strategy: 'conditional', targets: [{ provider: 'openai', model: 'm' }] } },
      },
      'models.routes.r.rules',
    ],
    [{ retry: { retries: -1 } }, 'models.retry'],
  ])('rejects %j at %s', (options, path) => {
    const error = (() => {
      try {
        models(options as never);
      } catch (e) {
        return e;
      }
    })();
    expect(ConfigError.isInstance(error)).toBe(true);
    expect((error as ConfigError).path).toContain(path);
  });
});
