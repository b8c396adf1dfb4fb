import { readdirSync, readFileSync } from 'node:fs';
import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { anthropicMessage } from './fixtures.test.helpers.js';
import {
  anthropicToOpenAIRequest,
  anthropicToOpenAIResponse,
  openaiToAnthropicRequest,
  openaiToAnthropicResponse,
} from './index.js';

const pngDataUrl = 'data:image/png;base64,iVBORw0KGgo=';

const request: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming = {
  model: 'contracts',
  messages: [
    { role: 'system', content: 'You are a weather assistant.' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'Where was this taken, and what is the weather there and in Rome?' },
        { type: 'image_url', image_url: { url: pngDataUrl } },
      ],
    },
    {
      role: 'assistant',
      content: 'Paris. Checking both.',
      tool_calls: [
        { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
        { id: 'call_2', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
      ],
    },
    { role: 'tool', tool_call_id: 'call_1', content: '18C' },
    { role: 'tool', tool_call_id: 'call_2', content: '24C' },
    { role: 'user', content: [{ type: 'text', text: 'Which is warmer?' }] },
  ],
  tools: [
    {
      type: 'function',
      function: {
        name: 'weather',
        description: 'Current weather for a city',
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
    },
  ],
  tool_choice: 'auto',
  parallel_tool_calls: false,
  max_completion_tokens: 300,
  temperature: 0.5,
  top_p: 0.9,
  stop: ['END'],
  user: 'ana',
};

describe('round trips', () => {
  it('OpenAI -> Anthropic -> OpenAI keeps a multi-turn tool conversation with images', () => {
    const anthropic = openaiToAnthropicRequest(request, { model: 'claude-sonnet-4-5' });
    const back = anthropicToOpenAIRequest(anthropic, { model: 'contracts' });
    expect(back).toEqual(request);
  });

  it('OpenAI -> Anthropic -> OpenAI keeps a streaming request and asks for usage', () => {
    const anthropic = openaiToAnthropicRequest({ ...request, stream: true }, { model: 'claude-sonnet-4-5' });
    expect(anthropic.stream).toBe(true);
    expect(anthropicToOpenAIRequest(anthropic, { model: 'contracts' })).toEqual({
      ...request,
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('Anthropic message -> OpenAI completion -> Anthropic message keeps content, stop reason and usage', () => {
    const original = anthropicMessage({
      content: [
        { type: 'text', text: 'Checking.', citations: null },
        { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Paris' }, caller: { type: 'direct' } },
      ],
      stop_reason: 'tool_use',
    });
    original.usage = {
      ...original.usage,
      cache_read_input_tokens: 50,
      cache_creation_input_tokens: 5,
      service_tier: null,
    };
    const back = openaiToAnthropicResponse(anthropicToOpenAIResponse(original, { model: 'contracts' }), {
      model: original.model,
    });
    expect(back).toEqual(original);
  });

  it.each([
    ['end_turn', 'end_turn'],
    ['max_tokens', 'max_tokens'],
    ['tool_use', 'tool_use'],
    ['refusal', 'refusal'],
    ['stop_sequence', 'end_turn'],
  ] as const)('stop reason %s comes back as %s', (reason, expected) => {
    const completion = anthropicToOpenAIResponse(anthropicMessage({ stop_reason: reason }), { model: 'm' });
    expect(openaiToAnthropicResponse(completion, { model: 'm' }).stop_reason).toBe(expected);
  });
});

describe('package boundary', () => {
  it('imports the SDKs for types only, so neither is needed at run time', () => {
    const folder = new URL('.', import.meta.url);
    const sources = readdirSync(folder).filter((name) => name.endsWith('.ts') && !name.includes('.test.'));
    expect(sources.length).toBeGreaterThan(5);
    for (const name of sources) {
      const text = readFileSync(new URL(name, folder), 'utf8');
      const valueImports = text
        .split('\n')
        .filter((line) => /^import (?!type ).*from '(openai|@anthropic-ai\/sdk)/.test(line));
      expect(valueImports, name).toEqual([]);
    }
  });
});
