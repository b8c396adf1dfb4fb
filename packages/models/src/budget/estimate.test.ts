import { describe, expect, it } from 'vitest';
import { estimateInputTokens } from './estimate.js';

describe('estimateInputTokens', () => {
  it('counts string contents and names of chat messages, not roles', () => {
    const body = {
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'abcd' },
        { role: 'user', name: 'ana', content: 'efghijkl' },
      ],
    };
    // 4 + 3 + 8 characters at 4 a token.
    expect(estimateInputTokens(body, 4)).toBe(Math.ceil(15 / 4));
  });

  it('walks messages with tool calls or parts, skipping ids, types and image data', () => {
    const body = {
      messages: [
        {
          role: 'assistant',
          content: 'ok',
          tool_calls: [{ id: 'call_123456', type: 'function', function: { name: 'lookup', arguments: '{"q":1}' } }],
        },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
          ],
        },
      ],
    };
    // 'ok' + 'lookup' + '{"q":1}' + 'look' = 2 + 6 + 7 + 4.
    expect(estimateInputTokens(body, 1)).toBe(19);
  });

  it('adds Anthropic system, responses input and instructions, and tool definitions', () => {
    expect(estimateInputTokens({ system: 'be brief', messages: [{ role: 'user', content: 'hi' }] }, 1)).toBe(10);
    expect(estimateInputTokens({ instructions: 'abc', input: 'defg' }, 1)).toBe(7);
    expect(
      estimateInputTokens(
        { messages: [], tools: [{ type: 'function', function: { name: 'f', description: 'gets x' } }] },
        1,
      ),
    ).toBe(7);
  });
});
