import OpenAI from 'openai';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createProviderServer, type ProviderServer, reply } from './index.js';

let server: ProviderServer;
let openai: OpenAI;

beforeEach(async () => {
  server ??= await createProviderServer();
  openai ??= new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'test', maxRetries: 0 });
  server.reset();
});

afterAll(() => server.close());

const ask = (content: string) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content }] });

describe('chat completions', () => {
  it('answers with an echo of the last user message, the requested model and derived usage', async () => {
    const completion = await openai.chat.completions.create(ask('hello there'));
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('gpt-4o-mini');
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.choices[0]?.message).toMatchObject({ role: 'assistant', content: 'Echo: hello there' });
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    // 'hello there' is 11 characters, 'Echo: hello there' 17: about four characters a token.
    expect(completion.usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 });
  });

  it('records what the SDK sent', async () => {
    await openai.chat.completions.create({ ...ask('hi'), temperature: 0.5 });
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/v1/chat/completions' });
    expect(request?.body).toMatchObject({ model: 'gpt-4o-mini', temperature: 0.5 });
    expect(request?.headers.authorization).toBe('Bearer test');
  });

  it('exposes the request id through .withResponse()', async () => {
    server.script(reply.text('scripted'));
    const { data, response, request_id } = await openai.chat.completions.create(ask('x')).withResponse();
    expect(data.choices[0]?.message.content).toBe('scripted');
    expect(response.status).toBe(200);
    expect(request_id).toMatch(/^req_/);
  });

  it('cuts the default answer at max_tokens with finish reason length', async () => {
    const completion = await openai.chat.completions.create({ ...ask('a long question indeed'), max_tokens: 2 });
    expect(completion.choices[0]?.message.content).toBe('Echo: a ');
    expect(completion.choices[0]?.finish_reason).toBe('length');
  });

  it('renders scripted cached and reasoning tokens', async () => {
    server.script(
      reply.text('ok', { usage: { inputTokens: 100, outputTokens: 40, cacheReadTokens: 60, reasoningTokens: 30 } }),
    );
    const { usage } = await openai.chat.completions.create(ask('x'));
    expect(usage).toMatchObject({ prompt_tokens: 100, completion_tokens: 40, total_tokens: 140 });
    expect(usage?.prompt_tokens_details?.cached_tokens).toBe(60);
    expect(usage?.completion_tokens_details?.reasoning_tokens).toBe(30);
  });

  it('streams word deltas, with a usage chunk only when stream_options asks for it', async () => {
    server.script(reply.text('one two three'));
    const stream = await openai.chat.completions.create({ ...ask('x'), stream: true });
    const deltas: string[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      expect(chunk).not.toHaveProperty('usage');
      deltas.push(chunk.choices[0]?.delta.content ?? '');
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(deltas.join('')).toBe('one two three');
    expect(deltas.filter(Boolean)).toEqual(['one ', 'two ', 'three']);
    expect(finish).toBe('stop');

    const withUsage = await openai.chat.completions.create({
      ...ask('hello'),
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of withUsage) chunks.push(chunk);
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 });
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true);
  });

  it('feeds the chat.completions.stream() helper and finalChatCompletion()', async () => {
    const stream = openai.chat.completions.stream(ask('streamed'));
    const contents: string[] = [];
    stream.on('content', (delta) => contents.push(delta));
    const final = await stream.finalChatCompletion();
    expect(contents.join('')).toBe('Echo: streamed');
    expect(final.choices[0]?.message).toMatchObject({ role: 'assistant', content: 'Echo: streamed' });
    expect(final.choices[0]?.finish_reason).toBe('stop');
  });

  it('answers tool calls, as JSON and as argument deltas the SDK accumulates', async () => {
    const calls = [
      { name: 'weather', arguments: { city: 'Paris', unit: 'celsius' } },
      { id: 'call_fixed', name: 'time', arguments: '{"zone":"CET"}' },
    ];
    server.script([reply.toolCalls(calls), reply.toolCalls(calls)]);
    const completion = await openai.chat.completions.create(ask('x'));
    const message = completion.choices[0]?.message;
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    expect(message?.content).toBeNull();
    expect(message?.tool_calls).toHaveLength(2);
    const [first, second] = message?.tool_calls ?? [];
    expect(first?.type === 'function' && JSON.parse(first.function.arguments)).toEqual({
      city: 'Paris',
      unit: 'celsius',
    });
    expect(second).toMatchObject({ id: 'call_fixed', type: 'function', function: { name: 'time' } });

    const stream = openai.chat.completions.stream(ask('x'));
    const argumentDeltas: string[] = [];
    stream.on('tool_calls.function.arguments.delta', (event) => argumentDeltas.push(event.arguments_delta));
    const final = await stream.finalChatCompletion();
    expect(argumentDeltas.length).toBeGreaterThan(2);
    const streamed = final.choices[0]?.message.tool_calls ?? [];
    expect(streamed.map((call) => call.type === 'function' && call.function.name)).toEqual(['weather', 'time']);
    expect(streamed[0]?.type === 'function' && JSON.parse(streamed[0].function.arguments)).toEqual({
      city: 'Paris',
      unit: 'celsius',
    });
    expect(streamed[1]?.id).toBe('call_fixed');
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('rejects what OpenAI rejects', async () => {
    const orphanTool = openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'tool', tool_call_id: 'call_1', content: 'result' }],
    });
    await expect(orphanTool).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(orphanTool).rejects.toThrow(/must be a response to a preceeding message with 'tool_calls'/);

    const unanswered = openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'user', content: 'hi' },
        {
          role: 'assistant',
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }],
        },
        { role: 'user', content: 'and?' },
      ],
    });
    await expect(unanswered).rejects.toThrow(/did not have response messages: call_1/);

    const anthropicBlock = openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: [{ type: 'tool_result', content: 'x' } as never] }],
    });
    await expect(anthropicBlock).rejects.toMatchObject({ status: 400, param: 'messages[0].content[0].type' });

    const streamOptions = openai.chat.completions.create({ ...ask('x'), stream_options: { include_usage: true } });
    await expect(streamOptions).rejects.toThrow(/only allowed when 'stream' is enabled/);
    expect(server.pending).toBe(0);
  });
});

describe('responses', () => {
  it('answers as JSON, with output_text, usage and the requested model', async () => {
    const response = await openai.responses.create({ model: 'gpt-4.1', input: 'hi there' });
    expect(response.object).toBe('response');
    expect(response.status).toBe('completed');
    expect(response.model).toBe('gpt-4.1');
    expect(response.output_text).toBe('Echo: hi there');
    expect(response.usage).toMatchObject({ input_tokens: 2, output_tokens: 4, total_tokens: 6 });
  });

  it('streams typed events that the responses.stream() helper accumulates', async () => {
    server.script(reply.text('alpha beta', { usage: { cacheReadTokens: 1, reasoningTokens: 2 } }));
    const stream = openai.responses.stream({ model: 'gpt-4.1', input: [{ role: 'user', content: 'x' }] });
    const types: string[] = [];
    const deltas: string[] = [];
    stream.on('event', (event) => types.push(event.type));
    stream.on('response.output_text.delta', (event) => deltas.push(event.delta));
    const final = await stream.finalResponse();
    expect(deltas).toEqual(['alpha ', 'beta']);
    expect(final.output_text).toBe('alpha beta');
    expect(final.usage?.input_tokens_details.cached_tokens).toBe(1);
    expect(final.usage?.output_tokens_details.reasoning_tokens).toBe(2);
    expect(types).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
  });

  it('sends `event:` lines as OpenAI does', async () => {
    const response = await fetch(`${server.openaiBaseURL}/responses`, {
      method: 'POST',
      headers: { authorization: 'Bearer test', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4.1', input: 'x', stream: true }),
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await response.text();
    expect(text.startsWith('event: response.created\ndata: {"type":"response.created","sequence_number":0')).toBe(true);
  });

  it('streams function calls whose arguments arrive in several deltas', async () => {
    server.script(reply.toolCalls([{ name: 'lookup', arguments: { query: 'gatehouse docs' } }]));
    const stream = await openai.responses.create({ model: 'gpt-4.1', input: 'x', stream: true });
    const argumentDeltas: string[] = [];
    let completed: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      if (event.type === 'response.function_call_arguments.delta') argumentDeltas.push(event.delta);
      if (event.type === 'response.completed') completed = event.response;
    }
    expect(argumentDeltas.length).toBeGreaterThan(1);
    expect(JSON.parse(argumentDeltas.join(''))).toEqual({ query: 'gatehouse docs' });
    expect(completed?.output).toEqual([expect.objectContaining({ type: 'function_call', name: 'lookup' })]);
  });

  it('marks a length finish as incomplete', async () => {
    server.script(reply.text('cut', { finishReason: 'length' }));
    const response = await openai.responses.create({ model: 'gpt-4.1', input: 'x' });
    expect(response.status).toBe('incomplete');
    expect(response.incomplete_details?.reason).toBe('max_output_tokens');
  });
});

describe('embeddings and models', () => {
  it('returns the same deterministic unit vectors as base64 (the SDK default) and as floats', async () => {
    const decoded = await openai.embeddings.create({ model: 'text-embedding-3-small', input: ['cat', 'dog'] });
    expect(server.requests[0]?.body.encoding_format).toBe('base64');
    const floats = await openai.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['cat', 'dog'],
      encoding_format: 'float',
      dimensions: 1536,
    });
    expect(decoded.data).toHaveLength(2);
    expect(decoded.data[0]?.embedding).toHaveLength(1536);
    expect(decoded.data[0]?.embedding).toEqual(floats.data[0]?.embedding);
    expect(decoded.data[0]?.embedding).not.toEqual(decoded.data[1]?.embedding);
    const norm = Math.hypot(...(floats.data[1]?.embedding ?? []));
    expect(norm).toBeCloseTo(1, 5);
    expect(decoded.usage).toEqual({ prompt_tokens: 2, total_tokens: 2 });

    const small = await openai.embeddings.create({ model: 'text-embedding-3-small', input: 'cat', dimensions: 8 });
    expect(small.data[0]?.embedding).toHaveLength(8);
  });

  it('lists models', async () => {
    const page = await openai.models.list();
    expect(page.data.map((model) => model.id)).toContain('gpt-4o-mini');
  });
});
