import type Anthropic from '@anthropic-ai/sdk';
import { MessageStream } from '@anthropic-ai/sdk/lib/MessageStream';
import { UpstreamError } from '@gatehouse/core';
import type OpenAI from 'openai';
import { ChatCompletionStream } from 'openai/lib/ChatCompletionStream';
import { describe, expect, it } from 'vitest';
import { anthropicMessage, expectTranslationError, jsonLines } from './fixtures.test.helpers.js';
import {
  anthropicToOpenAIResponse,
  createAnthropicToOpenAIStream,
  createOpenAIToAnthropicStream,
  openaiToAnthropicResponse,
} from './index.js';

const direct = { type: 'direct' } as const;

/** What the Anthropic API streams for a text answer followed by two tool calls. */
function anthropicEvents(): Anthropic.RawMessageStreamEvent[] {
  const start = anthropicMessage({ id: 'msg_stream', content: [], stop_reason: null });
  start.usage = { ...start.usage, input_tokens: 30, output_tokens: 1, cache_read_input_tokens: 200 };
  return [
    { type: 'message_start', message: start },
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '', citations: null } },
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Checking ' } },
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'both cities.' } },
    { type: 'content_block_stop', index: 0 },
    {
      type: 'content_block_start',
      index: 1,
      content_block: { type: 'tool_use', id: 'toolu_1', name: 'weather', input: {}, caller: direct },
    },
    { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '' } },
    { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"city": "Pa' } },
    { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: 'ris"}' } },
    { type: 'content_block_stop', index: 1 },
    {
      type: 'content_block_start',
      index: 2,
      content_block: { type: 'tool_use', id: 'toolu_2', name: 'now', input: {}, caller: direct },
    },
    { type: 'content_block_stop', index: 2 },
    {
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null, stop_details: null, container: null },
      usage: {
        input_tokens: 30,
        output_tokens: 42,
        cache_read_input_tokens: 200,
        cache_creation_input_tokens: null,
        output_tokens_details: null,
        server_tool_use: null,
      },
    },
    { type: 'message_stop' },
  ];
}

/** OpenAI chunks for text, then two tool calls whose argument deltas interleave. */
function openaiChunks(): OpenAI.Chat.ChatCompletionChunk[] {
  const base = { id: 'chatcmpl-9', object: 'chat.completion.chunk' as const, created: 1, model: 'gpt-4.1' };
  const choice = (delta: OpenAI.Chat.ChatCompletionChunk.Choice.Delta, finish: 'tool_calls' | null = null) => ({
    ...base,
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    usage: null,
  });
  const call = (index: number, fragment: string, head?: { id: string; name: string }) =>
    choice({
      tool_calls: [
        head
          ? { index, id: head.id, type: 'function' as const, function: { name: head.name, arguments: fragment } }
          : { index, function: { arguments: fragment } },
      ],
    });
  return [
    choice({ role: 'assistant', content: '' }),
    choice({ content: 'Checking ' }),
    choice({ content: 'both.' }),
    call(0, '', { id: 'call_a', name: 'weather' }),
    call(0, '{"city":'),
    call(1, '', { id: 'call_b', name: 'weather' }),
    call(1, '{"city":"Ro'),
    call(0, '"Paris"}'),
    call(1, 'me"}'),
    choice({}, 'tool_calls'),
    {
      ...base,
      choices: [],
      usage: {
        prompt_tokens: 50,
        completion_tokens: 20,
        total_tokens: 70,
        prompt_tokens_details: { cached_tokens: 40 },
      },
    },
  ];
}

describe('createAnthropicToOpenAIStream', () => {
  it('emits chunks that the OpenAI SDK accumulates into the non-streamed translation', async () => {
    const events = anthropicEvents();
    const translator = createAnthropicToOpenAIStream({ model: 'contracts', includeUsage: true });
    const chunks = [...events.flatMap((event) => translator.push(event)), ...translator.end()];

    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 230, completion_tokens: 42 } });
    const toolHeads = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []).filter((call) => call.id);
    expect(toolHeads).toEqual([
      { index: 0, id: 'toolu_1', type: 'function', function: { name: 'weather', arguments: '' } },
      { index: 1, id: 'toolu_2', type: 'function', function: { name: 'now', arguments: '' } },
    ]);

    const stream = ChatCompletionStream.fromReadableStream(jsonLines(chunks));
    const streamed = await stream.finalChatCompletion();

    const finalMessage = anthropicMessage({
      id: 'msg_stream',
      content: [
        { type: 'text', text: 'Checking both cities.', citations: null },
        { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Paris' }, caller: direct },
        { type: 'tool_use', id: 'toolu_2', name: 'now', input: {}, caller: direct },
      ],
      stop_reason: 'tool_use',
    });
    finalMessage.usage = { ...finalMessage.usage, input_tokens: 30, output_tokens: 42, cache_read_input_tokens: 200 };
    const expected = anthropicToOpenAIResponse(finalMessage, { model: 'contracts' });
    // The SDK adds `parsed`, and streamed arguments keep the model's own spacing: compare what they mean.
    const { message: streamedMessage } = streamed.choices[0]!;
    expect(
      streamedMessage.tool_calls?.map((call) => call.type === 'function' && JSON.parse(call.function.arguments)),
    ).toEqual(
      expected.choices[0]!.message.tool_calls?.map(
        (call) => call.type === 'function' && JSON.parse(call.function.arguments),
      ),
    );
    const withoutArguments = (completion: OpenAI.Chat.ChatCompletion) => ({
      ...completion,
      created: 0,
      choices: completion.choices.map(({ message, ...choice }) => ({
        ...choice,
        message: {
          role: message.role,
          content: message.content,
          refusal: message.refusal,
          tool_calls: message.tool_calls?.map(
            (call) => call.type === 'function' && { id: call.id, name: call.function.name },
          ),
        },
      })),
    });
    expect(withoutArguments(streamed)).toEqual(withoutArguments(expected));
  });

  it('leaves usage out unless asked', () => {
    const translator = createAnthropicToOpenAIStream({ model: 'm' });
    const chunks = anthropicEvents().flatMap((event) => translator.push(event));
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('tool_calls');
    expect(chunks.some((chunk) => chunk.usage)).toBe(false);
  });

  it('fails when the upstream stops before message_stop', () => {
    const translator = createAnthropicToOpenAIStream({ model: 'm' });
    for (const event of anthropicEvents().slice(0, 4)) translator.push(event);
    expect(() => translator.end()).toThrow(UpstreamError);
  });

  it('refuses thinking blocks with the block named', () => {
    const translator = createAnthropicToOpenAIStream({ model: 'm' });
    translator.push(anthropicEvents()[0]!);
    expectTranslationError(
      () =>
        translator.push({
          type: 'content_block_start',
          index: 0,
          content_block: { type: 'thinking', thinking: '', signature: '' },
        }),
      'content[0].type',
    );
  });
});

describe('createOpenAIToAnthropicStream', () => {
  it('emits events that the Anthropic SDK MessageStream accumulates into the non-streamed translation', async () => {
    const chunks = openaiChunks();
    const translator = createOpenAIToAnthropicStream({ model: 'claude-alias' });
    const events = [...chunks.flatMap((chunk) => translator.push(chunk)), ...translator.end()];

    // Blocks never interleave: each starts, takes its deltas and stops before the next starts.
    const shape = events.map((event) => ('index' in event ? `${event.type}:${event.index}` : event.type));
    expect(shape).toEqual([
      'message_start',
      'content_block_start:0',
      'content_block_delta:0',
      'content_block_delta:0',
      'content_block_stop:0',
      'content_block_start:1',
      'content_block_delta:1',
      'content_block_delta:1',
      'content_block_stop:1',
      'content_block_start:2',
      'content_block_delta:2',
      'content_block_delta:2',
      'content_block_stop:2',
      'message_delta',
      'message_stop',
    ]);

    const stream = MessageStream.fromReadableStream(jsonLines(events));
    const texts: string[] = [];
    stream.on('text', (delta) => texts.push(delta));
    const streamed = await stream.finalMessage();
    expect(texts.join('')).toBe('Checking both.');

    const expected = openaiToAnthropicResponse(
      {
        id: 'chatcmpl-9',
        object: 'chat.completion',
        created: 1,
        model: 'gpt-4.1',
        choices: [
          {
            index: 0,
            finish_reason: 'tool_calls',
            logprobs: null,
            message: {
              role: 'assistant',
              content: 'Checking both.',
              refusal: null,
              tool_calls: [
                { id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
                { id: 'call_b', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
              ],
            },
          },
        ],
        usage: chunks.at(-1)!.usage!,
      },
      { model: 'claude-alias' },
    );
    // `parsed_output` is the SDK's own addition for structured outputs.
    const { parsed_output: _parsed, ...accumulated } = streamed;
    expect(JSON.parse(JSON.stringify(accumulated))).toEqual(expected);
  });

  it('streams sequential tool calls live, without waiting for the end', () => {
    const translator = createOpenAIToAnthropicStream({ model: 'm' });
    const chunks = openaiChunks();
    const seen = chunks.slice(0, 5).flatMap((chunk) => translator.push(chunk));
    expect(seen.at(-1)).toEqual({
      type: 'content_block_delta',
      index: 1,
      delta: { type: 'input_json_delta', partial_json: '{"city":' },
    });
  });

  it('reports usage from the last chunk, and zeros when the server sent none', () => {
    const translator = createOpenAIToAnthropicStream({ model: 'm' });
    const events = openaiChunks()
      .slice(0, -1)
      .flatMap((chunk) => translator.push(chunk));
    expect(events.some((event) => event.type === 'message_stop')).toBe(false);
    const final = translator.end();
    expect(final.map((event) => event.type)).toEqual(['message_delta', 'message_stop']);
  });

  it('fails when the upstream stops before a finish_reason', () => {
    const translator = createOpenAIToAnthropicStream({ model: 'm' });
    for (const chunk of openaiChunks().slice(0, 3)) translator.push(chunk);
    expect(() => translator.end()).toThrow(UpstreamError);
  });

  it('refuses more than one choice', () => {
    const translator = createOpenAIToAnthropicStream({ model: 'm' });
    const chunk = openaiChunks()[1]!;
    expectTranslationError(
      () => translator.push({ ...chunk, choices: [chunk.choices[0]!, { ...chunk.choices[0]!, index: 1 }] }),
      'choices',
    );
  });
});
