import { describe, expect, it } from 'vitest';
import { fakeTool, scriptedModel } from './index.js';

describe('scriptedModel', () => {
  it('answers texts and tool calls in order, records requests, and throws when unscripted', async () => {
    const model = scriptedModel([
      'hello',
      {
        text: 'calling',
        toolCalls: [
          { name: 'lookup', arguments: { id: 1 } },
          { id: 'fixed', name: 'raw', arguments: '{bad' },
        ],
      },
      (request) => `you said ${(request.messages.at(-1) as { content: string }).content}`,
    ]);
    const ask = (content: string) =>
      model.chat.completions.create({ model: 'm', messages: [{ role: 'user', content }] });
    const first = await ask('a');
    expect(first.choices[0].message).toMatchObject({ role: 'assistant', content: 'hello' });
    expect(first.choices[0].finish_reason).toBe('stop');
    const second = await ask('b');
    expect(second.choices[0].finish_reason).toBe('tool_calls');
    expect(second.choices[0].message.tool_calls).toEqual([
      { id: 'call_2_0', type: 'function', function: { name: 'lookup', arguments: '{"id":1}' } },
      { id: 'fixed', type: 'function', function: { name: 'raw', arguments: '{bad' } },
    ]);
    expect((await ask('c')).choices[0].message.content).toBe('you said c');
    expect(model.requests).toHaveLength(3);
    expect(model.remaining).toBe(0);
    await expect(ask('d')).rejects.toThrow(/request #4 has no scripted answer/);
  });

  it('streams OpenAI chunks that the openai SDK assembles', async () => {
    const model = scriptedModel([{ text: 'two words', toolCalls: [{ id: 'c', name: 'f', arguments: { x: 1 } }] }]);
    const chunks: unknown[] = [];
    const stream = await model.chat.completions.create({ model: 'm', messages: [], stream: true });
    for await (const chunk of stream) chunks.push(chunk);
    // The SDK's own accumulator accepts the chunks as a real stream's.
    const { ChatCompletionStream } = await import('openai/lib/ChatCompletionStream');
    const assembled = ChatCompletionStream.fromReadableStream(
      new ReadableStream({
        start(controller) {
          for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(`${JSON.stringify(chunk)}\n`));
          controller.close();
        },
      }),
    );
    const final = await assembled.finalChatCompletion();
    expect(final.choices[0]!.message.content).toBe('two words');
    expect(final.choices[0]!.message.tool_calls).toEqual([
      { id: 'c', type: 'function', function: { name: 'f', arguments: '{"x":1}' } },
    ]);
  });
});

describe('fakeTool', () => {
  it('records calls and answers a value or a function of the input', async () => {
    const fixed = fakeTool('fixed', { result: { ok: true } });
    const computed = fakeTool('computed', {
      result: (input) => `got ${input.n}`,
      idempotent: true,
      needsApproval: true,
    });
    const execution = {
      sessionId: 's',
      callId: 'c',
      agent: 'a',
      principal: {},
      signal: undefined,
      runAgent: async () => 0,
    };
    expect(await fixed.execute({}, execution)).toEqual({ ok: true });
    expect(await computed.execute({ n: 3 }, execution)).toBe('got 3');
    expect(computed.calls).toEqual([{ input: { n: 3 }, execution }]);
    expect(computed).toMatchObject({ idempotent: true, needsApproval: true, parameters: { type: 'object' } });
  });
});
