import Anthropic from '@anthropic-ai/sdk';
import { createGateway, NoHealthyTargetError, TranslationError } from '@gatehouse/core';
import OpenAI from 'openai';
import { afterAll, beforeEach, describe, expect, test } from 'vitest';
import { models } from '../layer/index.js';
import { createProviderServer, type ProviderServer, reply } from '../testing/index.js';

let server: ProviderServer;
server = await createProviderServer();
afterAll(() => server.close());
beforeEach(() => server.reset());

function setup() {
  const openai = new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'test', maxRetries: 0 });
  const anthropic = new Anthropic({ baseURL: server.anthropicBaseURL, apiKey: 'test', maxRetries: 0 });
  const gateway = createGateway({
    models: models({
      providers: { openai, anthropic },
      routes: {
        claude: { targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5', parameters: { max_tokens: 256 } }] },
        gpt: { targets: [{ provider: 'openai', model: 'gpt-4o' }] },
        resilient: {
          targets: [
            { provider: 'openai', model: 'gpt-4o' },
            { provider: 'anthropic', model: 'claude-sonnet-4-5', parameters: { max_tokens: 256 } },
          ],
        },
      },
      retry: { retries: 0 },
    }),
  });
  return { openai: gateway.wrap(openai), anthropic: gateway.wrap(anthropic) };
}

const weather: OpenAI.Chat.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'weather',
    description: 'Weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

describe('OpenAI-shaped calls to an Anthropic target', () => {
  test('system, multi-turn and the answer come back as a ChatCompletion', async () => {
    const { openai } = setup();
    const completion = await openai.chat.completions.create({
      model: 'claude',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: 'second' },
      ],
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message.content).toBe('Echo: second');
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);
    const sent = server.requests[0]!;
    expect(sent.path).toBe('/v1/messages');
    expect(sent.body).toMatchObject({ model: 'claude-sonnet-4-5', system: 'Be brief.', max_tokens: 256 });
    expect(sent.body.messages).toHaveLength(3);
  });

  test('tools and tool calls, then the tool result in the next turn', async () => {
    const { openai } = setup();
    server.script(reply.toolCalls([{ id: 'toolu_1', name: 'weather', arguments: { city: 'Paris' } }]));
    const first = await openai.chat.completions.create({
      model: 'claude',
      messages: [{ role: 'user', content: 'weather in Paris?' }],
      tools: [weather],
    });
    const call = first.choices[0]!.message.tool_calls![0]!;
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ city: 'Paris' });
    const second = await openai.chat.completions.create({
      model: 'claude',
      tools: [weather],
      messages: [
        { role: 'user', content: 'weather in Paris?' },
        first.choices[0]!.message,
        { role: 'tool', tool_call_id: call.id, content: 'sunny' },
      ],
    });
    expect(second.choices[0]?.message.content).toBeTypeOf('string');
    expect(server.requests[1]!.body.messages.at(-1).content[0]).toMatchObject({
      type: 'tool_result',
      tool_use_id: call.id,
    });
  });

  test('images are carried as Anthropic image blocks', async () => {
    const { openai } = setup();
    const png = 'data:image/png;base64,iVBORw0KGgo=';
    await openai.chat.completions.create({
      model: 'claude',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is this' },
            { type: 'image_url', image_url: { url: png } },
          ],
        },
      ],
    });
    expect(server.requests[0]!.body.messages[0].content[1]).toMatchObject({
      type: 'image',
      source: { type: 'base64', media_type: 'image/png' },
    });
  });

  test('streaming, through the stream() helper', async () => {
    const { openai } = setup();
    const helper = openai.chat.completions.stream({
      model: 'claude',
      messages: [{ role: 'user', content: 'streamed' }],
    });
    const final = await helper.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe('Echo: streamed');
  });

  test('fallback across vendors when the OpenAI target fails', async () => {
    const { openai } = setup();
    server.script(reply.error(503), { path: '/v1/chat/completions' });
    const completion = await openai.chat.completions.create({
      model: 'resilient',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(completion.model).toBe('claude-sonnet-4-5');
    expect(server.requests.map((request) => request.path)).toEqual(['/v1/chat/completions', '/v1/messages']);
  });

  test('a field Anthropic cannot honour fails with a TranslationError naming it', async () => {
    const { openai } = setup();
    const error = await openai.chat.completions
      .create({ model: 'claude', messages: [{ role: 'user', content: 'x' }], n: 3 })
      .catch((e) => e);
    expect(NoHealthyTargetError.isInstance(error)).toBe(true);
    expect(TranslationError.isInstance(error.errors[0])).toBe(true);
    expect(server.requests).toHaveLength(0);
  });
});

describe('Anthropic-shaped calls to an OpenAI target', () => {
  test('messages.create answers a Message', async () => {
    const { anthropic } = setup();
    const message = await anthropic.messages.create({
      model: 'gpt',
      max_tokens: 100,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'hello' }],
    });
    expect(message.type).toBe('message');
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'Echo: hello' });
    expect(message.stop_reason).toBe('end_turn');
    expect(server.requests[0]!.body.messages[0]).toEqual({ role: 'system', content: 'Be brief.' });
  });

  test('tool use comes back as tool_use blocks', async () => {
    const { anthropic } = setup();
    server.script(reply.toolCalls([{ id: 'call_1', name: 'weather', arguments: { city: 'Oslo' } }]));
    const message = await anthropic.messages.create({
      model: 'gpt',
      max_tokens: 100,
      tools: [{ name: 'weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
      messages: [{ role: 'user', content: 'weather?' }],
    });
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content.find((block) => block.type === 'tool_use')).toMatchObject({
      name: 'weather',
      input: { city: 'Oslo' },
    });
  });

  test('messages.stream() with its events and finalMessage()', async () => {
    const { anthropic } = setup();
    const stream = anthropic.messages.stream({
      model: 'gpt',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'flow' }],
    });
    let text = '';
    stream.on('text', (delta) => {
      text += delta;
    });
    const final = await stream.finalMessage();
    expect(final.content[0]).toMatchObject({ type: 'text', text: 'Echo: flow' });
    expect(text).toBe('Echo: flow');
  });
});
