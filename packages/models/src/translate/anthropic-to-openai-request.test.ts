import type Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { expectTranslationError } from './fixtures.test.helpers.js';
import { type AnthropicMessageCreateParams, anthropicToOpenAIRequest } from './index.js';

const target = { model: 'gpt-4.1' };

function translate(params: Partial<AnthropicMessageCreateParams>) {
  return anthropicToOpenAIRequest(
    {
      model: 'claude',
      max_tokens: 256,
      messages: [{ role: 'user', content: 'hi' }],
      ...params,
    } as AnthropicMessageCreateParams,
    target,
  );
}

describe('anthropicToOpenAIRequest', () => {
  it('sends the target model, max_completion_tokens and the conversation', () => {
    expect(translate({})).toEqual({
      model: 'gpt-4.1',
      max_completion_tokens: 256,
      messages: [{ role: 'user', content: 'hi' }],
    });
  });

  it('turns system (string or text blocks) into one leading system message', () => {
    expect(translate({ system: 'Be brief.' }).messages[0]).toEqual({ role: 'system', content: 'Be brief.' });
    expect(
      translate({
        system: [
          { type: 'text', text: 'Rules', cache_control: { type: 'ephemeral' } },
          { type: 'text', text: 'More' },
        ],
      }).messages[0],
    ).toEqual({
      role: 'system',
      content: [
        { type: 'text', text: 'Rules', prompt_cache_breakpoint: { mode: 'explicit' } },
        { type: 'text', text: 'More' },
      ],
    });
  });

  it('turns tool_use into tool_calls and tool_result blocks into tool messages right after them', () => {
    const request = translate({
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Paris' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: '18C' },
            { type: 'text', text: 'And tomorrow?' },
          ],
        },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'toolu_2', name: 'weather', input: { city: 'Paris', day: 1 } }],
        },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 'toolu_2', content: 'unknown city', is_error: true }],
        },
      ],
    });
    expect(request.messages).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: '18C' },
      { role: 'user', content: [{ type: 'text', text: 'And tomorrow?' }] },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'toolu_2', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris","day":1}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_2', content: 'Error: unknown city' },
    ]);
  });

  it('turns base64 images into data URLs and url images into URLs', () => {
    const request = translate({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } },
          ],
        },
      ],
    });
    expect(request.messages[0]).toEqual({
      role: 'user',
      content: [
        { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ' } },
        { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
      ],
    });
  });

  it('translates tools, tool_choice, sampling, stops, user and structured output', () => {
    const tool: Anthropic.Tool = {
      name: 'weather',
      description: 'Current weather',
      input_schema: { type: 'object', properties: { city: { type: 'string' } } },
      strict: true,
      cache_control: { type: 'ephemeral' },
    };
    const request = translate({
      tools: [tool],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      temperature: 0.2,
      top_p: 0.8,
      stop_sequences: ['END'],
      metadata: { user_id: 'ana' },
      output_config: { format: { type: 'json_schema', schema: { type: 'object' } }, effort: 'low' },
    });
    expect(request).toMatchObject({
      tools: [
        {
          type: 'function',
          function: {
            name: 'weather',
            description: 'Current weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } } },
            strict: true,
          },
        },
      ],
      tool_choice: 'required',
      parallel_tool_calls: false,
      temperature: 0.2,
      top_p: 0.8,
      stop: ['END'],
      user: 'ana',
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'response', schema: { type: 'object' }, strict: true },
      },
      reasoning_effort: 'low',
    });
    expect(translate({ tools: [tool], tool_choice: { type: 'auto' } }).tool_choice).toBe('auto');
    expect(translate({ tools: [tool], tool_choice: { type: 'none' } }).tool_choice).toBe('none');
    expect(translate({ tools: [tool], tool_choice: { type: 'tool', name: 'weather' } }).tool_choice).toEqual({
      type: 'function',
      function: { name: 'weather' },
    });
  });

  it('asks for usage when streaming', () => {
    expect(translate({ stream: true })).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it.each([
    ['top_k', { top_k: 40 }],
    ['thinking.type', { thinking: { type: 'enabled', budget_tokens: 1024 } }],
    ['inference_geo', { inference_geo: 'eu' }],
    ['container', { container: 'container_1' }],
    ['tools[0].type', { tools: [{ type: 'web_search_20250305', name: 'web_search' }] }],
    ['tools[0].input_examples', { tools: [{ name: 'f', input_schema: { type: 'object' }, input_examples: [{}] }] }],
    ['surprise_option', { surprise_option: 1 }],
  ])('refuses %s with the field named', (field, params) => {
    expectTranslationError(() => translate(params as Partial<AnthropicMessageCreateParams>), field);
  });

  it.each([
    [
      'messages[0].content[0].type',
      { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'x' } },
    ],
    ['messages[0].content[0].type', { type: 'thinking', thinking: 'hmm', signature: 's' }],
    ['messages[0].content[0].type', { type: 'redacted_thinking', data: 'x' }],
    ['messages[0].content[0].type', { type: 'server_tool_use', id: 's', name: 'web_search', input: {} }],
    ['messages[0].content[0].source.type', { type: 'image', source: { type: 'file', file_id: 'file_1' } }],
  ])('refuses %s in messages', (field, block) => {
    const role =
      block.type === 'thinking' || block.type === 'redacted_thinking' || block.type === 'server_tool_use'
        ? 'assistant'
        : 'user';
    expectTranslationError(
      () => translate({ messages: [{ role, content: [block] }] } as Partial<AnthropicMessageCreateParams>),
      field,
    );
  });
});
