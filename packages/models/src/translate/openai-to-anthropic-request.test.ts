import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { expectTranslationError } from './fixtures.test.helpers.js';
import { openaiToAnthropicRequest } from './index.js';

const target = { model: 'claude-sonnet-4-5' };
const pngDataUrl = 'data:image/png;base64,iVBORw0KGgo=';

function translate(params: Partial<OpenAI.Chat.ChatCompletionCreateParams>) {
  return openaiToAnthropicRequest(
    {
      model: 'contracts',
      messages: [{ role: 'user', content: 'hi' }],
      ...params,
    } as OpenAI.Chat.ChatCompletionCreateParams,
    target,
  );
}

describe('openaiToAnthropicRequest', () => {
  it('sends the target model, the default max_tokens and the conversation', () => {
    expect(translate({})).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 4096,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(
      openaiToAnthropicRequest({ model: 'x', messages: [] }, { model: 'm', defaultMaxTokens: 100 }).max_tokens,
    ).toBe(100);
  });

  it('prefers max_completion_tokens over max_tokens', () => {
    expect(translate({ max_tokens: 50 }).max_tokens).toBe(50);
    expect(translate({ max_tokens: 50, max_completion_tokens: 70 }).max_tokens).toBe(70);
  });

  it('joins leading system and developer messages into system', () => {
    const request = translate({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
        { role: 'user', content: 'hi' },
      ],
    });
    expect(request.system).toBe('Be brief.\n\nAnswer in French.');
    expect(request.messages).toEqual([{ role: 'user', content: 'hi' }]);
  });

  it('keeps system blocks when a prompt cache breakpoint marks a position', () => {
    const request = translate({
      messages: [
        {
          role: 'system',
          content: [{ type: 'text', text: 'Long rules', prompt_cache_breakpoint: { mode: 'explicit' } }],
        },
        { role: 'user', content: 'hi' },
      ],
    });
    expect(request.system).toEqual([{ type: 'text', text: 'Long rules', cache_control: { type: 'ephemeral' } }]);
  });

  it('merges consecutive same-role turns and groups tool results in one user turn, in order', () => {
    const request = translate({
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        { role: 'user', content: 'Be quick.' },
        {
          role: 'assistant',
          content: 'Checking.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '18C' },
        { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '24C' }] },
        { role: 'user', content: 'Thanks, which is warmer?' },
      ],
    });
    expect(request.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Weather in Paris and Rome?' },
          { type: 'text', text: 'Be quick.' },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'call_2', name: 'weather', input: { city: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_1', content: '18C' },
          { type: 'tool_result', tool_use_id: 'call_2', content: [{ type: 'text', text: '24C' }] },
          { type: 'text', text: 'Thanks, which is warmer?' },
        ],
      },
    ]);
  });

  it('turns data URLs into base64 images and http(s) URLs into url images', () => {
    const request = translate({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare' },
            { type: 'image_url', image_url: { url: pngDataUrl } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } },
          ],
        },
      ],
    });
    expect(request.messages[0]!.content).toEqual([
      { type: 'text', text: 'Compare' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
    ]);
  });

  it('translates tools, tool_choice and parallel_tool_calls', () => {
    const tools: OpenAI.Chat.ChatCompletionTool[] = [
      {
        type: 'function',
        function: {
          name: 'weather',
          description: 'Current weather',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          strict: true,
        },
      },
      { type: 'function', function: { name: 'now' } },
    ];
    const request = translate({ tools, tool_choice: 'required', parallel_tool_calls: false });
    expect(request.tools).toEqual([
      {
        name: 'weather',
        description: 'Current weather',
        input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        strict: true,
      },
      { name: 'now', input_schema: { type: 'object', properties: {} } },
    ]);
    expect(request.tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: true });
    expect(translate({ tools, tool_choice: 'auto' }).tool_choice).toEqual({ type: 'auto' });
    expect(translate({ tools, tool_choice: 'none' }).tool_choice).toEqual({ type: 'none' });
    expect(translate({ tools, tool_choice: { type: 'function', function: { name: 'now' } } }).tool_choice).toEqual({
      type: 'tool',
      name: 'now',
    });
    expect(translate({ tools, parallel_tool_calls: false }).tool_choice).toEqual({
      type: 'auto',
      disable_parallel_tool_use: true,
    });
    expect(translate({ tools }).tool_choice).toBeUndefined();
  });

  it('translates sampling, stop sequences, user, stream and structured output', () => {
    const request = translate({
      temperature: 0.3,
      top_p: 0.9,
      stop: 'END',
      user: 'ana',
      stream: true,
      stream_options: { include_usage: true },
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'answer', schema: { type: 'object' }, strict: true },
      },
      reasoning_effort: 'high',
    });
    expect(request).toMatchObject({
      temperature: 0.3,
      top_p: 0.9,
      stop_sequences: ['END'],
      metadata: { user_id: 'ana' },
      stream: true,
      output_config: { format: { type: 'json_schema', schema: { type: 'object' } }, effort: 'high' },
    });
    expect(translate({ stop: ['a', 'b'] }).stop_sequences).toEqual(['a', 'b']);
  });

  it('accepts the keys it documents as ignored, and neutral values of refused ones', () => {
    const request = translate({
      store: true,
      metadata: { project: 'x' },
      service_tier: 'auto',
      n: 1,
      frequency_penalty: 0,
      presence_penalty: 0,
      logprobs: false,
      seed: null,
      modalities: ['text'],
    });
    expect(request.messages).toEqual([{ role: 'user', content: 'hi' }]);
    expect(request.metadata).toBeUndefined();
  });

  it.each([
    ['n', { n: 2 }],
    ['logprobs', { logprobs: true }],
    ['top_logprobs', { top_logprobs: 3 }],
    ['audio', { audio: { voice: 'alloy', format: 'mp3' } }],
    ['modalities', { modalities: ['text', 'audio'] }],
    ['seed', { seed: 42 }],
    ['frequency_penalty', { frequency_penalty: 0.5 }],
    ['presence_penalty', { presence_penalty: -1 }],
    ['logit_bias', { logit_bias: { '50256': -100 } }],
    ['response_format.type', { response_format: { type: 'json_object' } }],
    ['temperature', { temperature: 1.5 }],
    ['functions', { functions: [{ name: 'f' }] }],
    ['reasoning_effort', { reasoning_effort: 'minimal' }],
    ['tools[0].type', { tools: [{ type: 'custom', custom: { name: 'grammar' } }] }],
    [
      'tool_choice.type',
      { tools: [], tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [] } } },
    ],
    ['surprise_option', { surprise_option: true }],
  ])('refuses %s with the field named', (field, params) => {
    expectTranslationError(() => translate(params as Partial<OpenAI.Chat.ChatCompletionCreateParams>), field);
  });

  it.each([
    [
      'messages[0].content[0].type',
      [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: '', format: 'wav' } }] }],
    ],
    ['messages[0].content[0].type', [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file_1' } }] }]],
    [
      'messages[0].content[0].image_url.url',
      [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/bmp;base64,AA==' } }] }],
    ],
    [
      'messages[0].content[0].image_url.url',
      [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }] }],
    ],
    ['messages[0].name', [{ role: 'user', content: 'hi', name: 'ana' }]],
    ['messages[0].role', [{ role: 'function', name: 'f', content: 'x' }]],
    [
      'messages[0].tool_calls[0].function.arguments',
      [{ role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{oops' } }] }],
    ],
  ])('refuses %s in messages', (field, messages) => {
    expectTranslationError(() => translate({ messages } as Partial<OpenAI.Chat.ChatCompletionCreateParams>), field);
  });

  it('keeps a system message that comes mid-conversation in place', () => {
    const request = translate({
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'system', content: 'Switch to formal tone.' },
      ],
    });
    expect(request.messages).toEqual([
      { role: 'user', content: 'hi' },
      { role: 'system', content: [{ type: 'text', text: 'Switch to formal tone.' }] },
    ]);
  });
});
