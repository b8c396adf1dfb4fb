import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createProviderServer, type ProviderServer, reply } from './index.js';

let server: ProviderServer;
let anthropic: Anthropic;

beforeEach(async () => {
  server ??= await createProviderServer();
  anthropic ??= new Anthropic({ baseURL: server.anthropicBaseURL, apiKey: 'test', maxRetries: 0 });
  server.reset();
});

afterAll(() => server.close());

const model = 'claude-haiku-4-5';
const ask = (content: string) => ({ model, max_tokens: 256, messages: [{ role: 'user' as const, content }] });

describe('messages', () => {
  it('answers with an echo, the requested model, end_turn and derived usage', async () => {
    const message = await anthropic.messages.create(ask('hello there'));
    expect(message).toMatchObject({ type: 'message', role: 'assistant', model, stop_reason: 'end_turn' });
    expect(message.id).toMatch(/^msg_/);
    expect(message.content).toEqual([{ type: 'text', text: 'Echo: hello there' }]);
    expect(message.usage).toMatchObject({
      input_tokens: 3,
      output_tokens: 5,
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
    });
    // The SDK sends the key as `x-api-key` or (v1) as a bearer token; the server accepts either, as the API does.
    const { authorization, 'x-api-key': apiKey } = server.requests[0]?.headers ?? {};
    expect(apiKey ?? authorization).toMatch(/test$/);
    expect(server.requests[0]?.headers['anthropic-version']).toBeDefined();
  });

  it('renders cache usage: input_tokens leaves out cache reads and writes', async () => {
    server.script(reply.text('ok', { usage: { inputTokens: 100, cacheReadTokens: 70, cacheWriteTokens: 20 } }));
    const { usage } = await anthropic.messages.create(ask('x'));
    expect(usage).toMatchObject({ input_tokens: 10, cache_read_input_tokens: 70, cache_creation_input_tokens: 20 });
  });

  it('maps finish reasons to stop reasons', async () => {
    server.script([reply.text('a', { finishReason: 'length' }), reply.toolCalls([{ name: 'f', arguments: {} }])]);
    expect((await anthropic.messages.create(ask('x'))).stop_reason).toBe('max_tokens');
    expect((await anthropic.messages.create(ask('x'))).stop_reason).toBe('tool_use');
  });

  it('answers tool_use blocks after the text', async () => {
    server.script(
      reply.toolCalls([{ id: 'toolu_fixed', name: 'weather', arguments: { city: 'Paris' } }], { text: 'Checking.' }),
    );
    const message = await anthropic.messages.create(ask('x'));
    expect(message.content).toEqual([
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'toolu_fixed', name: 'weather', input: { city: 'Paris' } },
    ]);
  });

  it('streams the event sequence the API sends, ping included', async () => {
    server.script(reply.text('one two'));
    const stream = await anthropic.messages.create({ ...ask('x'), stream: true });
    const types: string[] = [];
    const text: string[] = [];
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text.push(event.delta.text);
      if (event.type === 'message_delta') expect(event.delta.stop_reason).toBe('end_turn');
    }
    expect(text).toEqual(['one ', 'two']);
    // The SDK drops `ping`; the rest arrives in the API's order.
    expect(types).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const raw = await fetch(`${server.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'test', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ ...ask('x'), stream: true }),
    });
    const body = await raw.text();
    expect(body).toContain('event: ping\ndata: {"type":"ping"}\n\n');
    expect(body.startsWith('event: message_start\ndata: {"type":"message_start"')).toBe(true);
  });

  it('feeds messages.stream(): text events and finalMessage()', async () => {
    server.script(reply.text('streamed answer', { usage: { outputTokens: 7 } }));
    const stream = anthropic.messages.stream(ask('x'));
    const deltas: string[] = [];
    stream.on('text', (delta) => deltas.push(delta));
    const final = await stream.finalMessage();
    expect(deltas).toEqual(['streamed ', 'answer']);
    expect(final.content).toEqual(
      [{ type: 'text', text: 'streamed answer', citations: undefined }].map(withoutUndefined),
    );
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage.output_tokens).toBe(7);
    expect(await stream.finalText()).toBe('streamed answer');
  });

  it('streams tool input as input_json_delta pieces that finalMessage() parses', async () => {
    server.script(reply.toolCalls([{ name: 'search', arguments: { query: 'gatehouse', limit: 5 } }]));
    const stream = anthropic.messages.stream(ask('x'));
    const partials: string[] = [];
    stream.on('inputJson', (partial) => partials.push(partial));
    const final = await stream.finalMessage();
    expect(partials.length).toBeGreaterThan(2);
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content).toHaveLength(1);
    const [block] = final.content;
    expect(block?.type === 'tool_use' && block.input).toEqual({ query: 'gatehouse', limit: 5 });
    expect(block?.type === 'tool_use' && block.id).toMatch(/^toolu_/);
  });

  it('counts tokens as the messages usage does', async () => {
    const params = { model, system: 'Be brief.', messages: [{ role: 'user' as const, content: 'count me please' }] };
    const counted = await anthropic.messages.countTokens(params);
    const message = await anthropic.messages.create({ ...params, max_tokens: 100 });
    expect(server.requests[0]?.path).toBe('/v1/messages/count_tokens');
    expect(counted.input_tokens).toBe(message.usage.input_tokens);
    expect(counted.input_tokens).toBeGreaterThan(0);
  });

  it('lists models in the Anthropic shape', async () => {
    const page = await anthropic.models.list();
    expect(page.data.map((entry) => entry.id)).toContain(model);
    expect(page.data[0]?.type).toBe('model');
  });
});

describe('validation the way Anthropic validates', () => {
  const rejects = async (params: unknown, message: RegExp) => {
    const call = anthropic.messages.create(params as Anthropic.MessageCreateParamsNonStreaming);
    await expect(call).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    await expect(call).rejects.toMatchObject({ status: 400, error: { error: { type: 'invalid_request_error' } } });
    await expect(call).rejects.toThrow(message);
  };

  it('requires max_tokens', () =>
    rejects({ model, messages: [{ role: 'user', content: 'x' }] }, /max_tokens: Field required/));

  it('rejects a system message and OpenAI roles', async () => {
    await rejects({ ...ask('x'), messages: [{ role: 'system', content: 'x' }] }, /top-level `system` parameter/);
    await rejects({ ...ask('x'), messages: [{ role: 'tool', content: 'x' }] }, /Input should be 'user' or 'assistant'/);
  });

  it('rejects OpenAI content parts and temperatures above 1', async () => {
    await rejects(
      { ...ask('x'), messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] },
      /Input tag 'image_url'/,
    );
    await rejects({ ...ask('x'), temperature: 1.5 }, /temperature/);
  });

  it('requires tool results to answer the tool uses of the message before', async () => {
    const toolUse = { type: 'tool_use', id: 'toolu_1', name: 'f', input: {} };
    await rejects(
      {
        ...ask('x'),
        messages: [
          { role: 'user', content: 'x' },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'r' }] },
        ],
      },
      /unexpected `tool_use_id` found in `tool_result` blocks: toolu_1/,
    );
    await rejects(
      {
        ...ask('x'),
        messages: [
          { role: 'user', content: 'x' },
          { role: 'assistant', content: [toolUse] },
          { role: 'user', content: 'go on' },
        ],
      },
      /`tool_use` ids were found without `tool_result` blocks immediately after: toolu_1/,
    );
    // A correct pair passes, and the default answer echoes the tool result.
    const message = await anthropic.messages.create({
      ...ask('x'),
      messages: [
        { role: 'user', content: 'x' },
        { role: 'assistant', content: [toolUse as Anthropic.ToolUseBlockParam] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' }] },
      ],
    });
    expect(message.content).toEqual([{ type: 'text', text: 'Echo: sunny' }]);
  });

  it('answers 401 in Anthropic shape without an API key', async () => {
    const response = await fetch(`${server.url}/v1/messages`, {
      method: 'POST',
      headers: { 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify(ask('x')),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('request-id')).toMatch(/^req_/);
    expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  });
});

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}
