import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { anthropicMessage, expectTranslationError } from './fixtures.test.helpers.js';
import {
  anthropicToOpenAIFinishReason,
  anthropicToOpenAIResponse,
  openAIToAnthropicStopReason,
  openaiToAnthropicResponse,
  toAnthropicUsage,
  toOpenAIUsage,
} from './index.js';

function completion(
  message: Partial<OpenAI.Chat.ChatCompletionMessage>,
  finish: OpenAI.Chat.ChatCompletion.Choice['finish_reason'],
) {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4.1',
    choices: [
      {
        index: 0,
        finish_reason: finish,
        logprobs: null,
        message: { role: 'assistant', content: null, refusal: null, ...message },
      },
    ],
    usage: {
      prompt_tokens: 120,
      completion_tokens: 7,
      total_tokens: 127,
      prompt_tokens_details: { cached_tokens: 100 },
    },
  } satisfies OpenAI.Chat.ChatCompletion;
}

describe('stop reasons and usage', () => {
  it('maps stop reasons both ways', () => {
    expect(anthropicToOpenAIFinishReason).toMatchObject({
      end_turn: 'stop',
      stop_sequence: 'stop',
      max_tokens: 'length',
      tool_use: 'tool_calls',
      refusal: 'content_filter',
    });
    expect(openAIToAnthropicStopReason).toEqual({
      stop: 'end_turn',
      length: 'max_tokens',
      tool_calls: 'tool_use',
      content_filter: 'refusal',
    });
  });

  it('counts cached input inside prompt_tokens, and back', () => {
    const usage = toOpenAIUsage({
      input_tokens: 20,
      output_tokens: 7,
      cache_read_input_tokens: 100,
      cache_creation_input_tokens: 30,
    });
    expect(usage).toEqual({
      prompt_tokens: 150,
      completion_tokens: 7,
      total_tokens: 157,
      prompt_tokens_details: { cached_tokens: 100, cache_write_tokens: 30 },
    });
    expect(toAnthropicUsage(usage)).toMatchObject({
      input_tokens: 20,
      output_tokens: 7,
      cache_read_input_tokens: 100,
      cache_creation_input_tokens: 30,
    });
  });
});

describe('anthropicToOpenAIResponse', () => {
  it('joins text, turns tool_use into tool_calls and maps stop reason and usage', () => {
    const response = anthropicToOpenAIResponse(
      anthropicMessage({
        content: [
          { type: 'text', text: 'Let me check.', citations: null },
          { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Paris' }, caller: { type: 'direct' } },
        ],
        stop_reason: 'tool_use',
      }),
      { model: 'contracts' },
    );
    expect(response).toMatchObject({
      id: 'msg_01',
      object: 'chat.completion',
      model: 'contracts',
      choices: [
        {
          index: 0,
          finish_reason: 'tool_calls',
          logprobs: null,
          message: {
            role: 'assistant',
            content: 'Let me check.',
            refusal: null,
            tool_calls: [
              { id: 'toolu_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
            ],
          },
        },
      ],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, prompt_tokens_details: { cached_tokens: 0 } },
    });
  });

  it('maps max_tokens to length and refusal to content_filter', () => {
    expect(
      anthropicToOpenAIResponse(anthropicMessage({ stop_reason: 'max_tokens' }), { model: 'm' }).choices[0]!
        .finish_reason,
    ).toBe('length');
    expect(
      anthropicToOpenAIResponse(anthropicMessage({ stop_reason: 'refusal' }), { model: 'm' }).choices[0]!.finish_reason,
    ).toBe('content_filter');
  });

  it.each([
    ['content[0].type', anthropicMessage({ content: [{ type: 'thinking', thinking: 'hmm', signature: 's' }] })],
    ['content[0].type', anthropicMessage({ content: [{ type: 'redacted_thinking', data: 'x' }] })],
    ['stop_reason', anthropicMessage({ stop_reason: 'pause_turn' })],
  ])('refuses %s', (field, message) => {
    expectTranslationError(() => anthropicToOpenAIResponse(message, { model: 'm' }), field);
  });
});

describe('openaiToAnthropicResponse', () => {
  it('turns content and tool_calls into blocks with parsed input, and maps finish reason and usage', () => {
    const message = openaiToAnthropicResponse(
      completion(
        {
          content: 'Checking.',
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } }],
        },
        'tool_calls',
      ),
      { model: 'claude-alias' },
    );
    expect(message).toMatchObject({
      id: 'chatcmpl-1',
      type: 'message',
      role: 'assistant',
      model: 'claude-alias',
      content: [
        { type: 'text', text: 'Checking.', citations: null },
        { type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Rome' } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 20, output_tokens: 7, cache_read_input_tokens: 100, cache_creation_input_tokens: 0 },
    });
  });

  it('reports a refusal as a refusal', () => {
    const message = openaiToAnthropicResponse(completion({ refusal: 'I cannot help with that.' }, 'stop'), {
      model: 'm',
    });
    expect(message.stop_reason).toBe('refusal');
    expect(message.content).toEqual([{ type: 'text', text: 'I cannot help with that.', citations: null }]);
  });

  it.each([
    [
      'choices[0].message.tool_calls[0].function.arguments',
      completion(
        { tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{' } }] },
        'tool_calls',
      ),
    ],
    ['choices[0].finish_reason', completion({ function_call: null, content: 'x' }, 'function_call')],
    ['choices', { ...completion({ content: 'x' }, 'stop'), choices: [] }],
  ])('refuses %s', (field, value) => {
    expectTranslationError(() => openaiToAnthropicResponse(value as OpenAI.Chat.ChatCompletion, { model: 'm' }), field);
  });
});
