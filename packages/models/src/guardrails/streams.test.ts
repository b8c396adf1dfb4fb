import { redact } from '@gatehouse/core';
import { describe, expect, test } from 'vitest';
import { reply } from '../testing/index.js';
import { serverAndSpans } from '../testing/lifecycle.test-helpers.js';
import { apiKey, card, drain, expectBlocked, setup, user } from './guardrails.test.helpers.js';
import { piiGuardrail, secretGuardrail } from './index.js';

const { server, recorder } = await serverAndSpans();

const chatText = (chunk: any) => chunk.choices[0]?.delta?.content ?? '';
const anthropicText = (event: any) =>
  event.type === 'content_block_delta' && event.delta.type === 'text_delta' ? event.delta.text : '';
const responsesText = (event: any) => (event.type === 'response.output_text.delta' ? event.delta : '');

describe('OpenAI chat streams', () => {
  test('a card split across two chunks is cut before any digit of it reaches the caller; upstream is aborted', async () => {
    const { openai, trips } = setup(server, [piiGuardrail({ detectors: ['card'], action: 'block', phase: 'output' })]);
    server.script(reply.text(`Your card is ${card} ok`, { chunks: ['Your card is 4111 1111', ' 1111 1111 ok'] }));
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages: user('x'), stream: true });
    const { received, error } = await drain(stream, chatText);
    expect(received).toBe('Your card is ');
    await expectBlocked(() => Promise.reject(error), 'pii', 'output');
    expect(stream.controller.signal.aborted).toBe(true);
    expect(trips()).toMatchObject([
      { guardrail: 'pii', phase: 'output', action: 'block', detectors: ['card'], stream: true },
    ]);
    // The call's span ends with the guardrail's error and carries the decision as a span event.
    const [span] = recorder.named('chat gpt-4o').filter((s) => s.events.length > 0);
    expect(span!.attributes['error.type']).toBe('GATEHOUSE_GUARDRAIL');
    expect(span!.events.map((event) => event.attributes?.['gatehouse.guardrail.detectors'])).toEqual([['card']]);
  });

  test('an API key in 1-character chunks is redacted whole; every other character arrives in order', async () => {
    const { openai, trips } = setup(server, [secretGuardrail({ action: 'redact', phase: 'output' })]);
    const text = `Set OPENAI_API_KEY=${apiKey} then run it.`;
    server.script(reply.text(text, { chunks: [...text] }));
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages: user('x'), stream: true });
    const chunks: string[] = [];
    for await (const chunk of stream) chunks.push(chatText(chunk));
    expect(chunks.join('')).toBe('Set OPENAI_API_KEY=[REDACTED:openai-key] then run it.');
    expect(chunks.join('')).toBe(redact(text).text);
    expect(chunks.some((piece) => piece.includes('sk-'))).toBe(false);
    // One event for the whole stream, when it ends.
    expect(trips()).toMatchObject([{ action: 'redact', detectors: ['openai-key'], stream: true }]);
  });

  test('the chat.completions.stream() helper’s final completion sees the redacted text', async () => {
    const { openai } = setup(server, [piiGuardrail({ phase: 'output' })]);
    server.script(reply.text(`mail ana@example.com now`, { chunks: ['mail ana@exa', 'mple.com', ' now'] }));
    const stream = openai.chat.completions.stream({ model: 'gpt-4o', messages: user('x') });
    const completion = await stream.finalChatCompletion();
    expect(completion.choices[0]!.message.content).toBe('mail [REDACTED:email] now');
  });

  test('flag passes every chunk through unchanged and at once, and reports once', async () => {
    const { openai, trips } = setup(server, [piiGuardrail({ action: 'flag', phase: 'output' })]);
    const pieces = ['call ana', '@example.com', ' today'];
    server.script(reply.text(pieces.join(''), { chunks: pieces }));
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages: user('x'), stream: true });
    const received: string[] = [];
    for await (const chunk of stream) if (chatText(chunk)) received.push(chatText(chunk));
    expect(received).toEqual(pieces);
    expect(trips()).toMatchObject([{ action: 'flag', detectors: ['email'] }]);
    expect(JSON.stringify(trips())).not.toContain('ana@');
  });

  test('a secret in streamed tool call arguments is blocked', async () => {
    const { openai } = setup(server, [secretGuardrail({ phase: 'output' })]);
    server.script(reply.toolCalls([{ name: 'deploy', arguments: { token: apiKey } }]));
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages: user('x'), stream: true });
    const { received, error } = await drain(
      stream,
      (chunk: any) => chunk.choices[0]?.delta?.tool_calls?.[0]?.function?.arguments ?? '',
    );
    expect(received).not.toContain('sk-proj');
    await expectBlocked(() => Promise.reject(error), 'secrets', 'output');
  });
});

describe('responses streams', () => {
  test('redacted deltas, done events and the helper’s final response agree', async () => {
    const { openai } = setup(server, [piiGuardrail({ phase: 'output' })]);
    const text = `Card ${card} for ana@example.com`;
    server.script(reply.text(text, { chunks: ['Card 4111 11', '11 1111 1111 for ana@', 'example.com'] }));
    const stream = await openai.responses.create({ model: 'gpt-4o', input: 'x', stream: true });
    const events: any[] = [];
    for await (const event of stream) events.push(event);
    const expected = 'Card [REDACTED:card] for [REDACTED:email]';
    expect(events.map(responsesText).join('')).toBe(expected);
    expect(events.find((event) => event.type === 'response.output_text.done').text).toBe(expected);
    expect(events.find((event) => event.type === 'response.content_part.done').part.text).toBe(expected);
    expect(events.find((event) => event.type === 'response.output_item.done').item.content[0].text).toBe(expected);
    expect(events.at(-1).response.output[0].content[0].text).toBe(expected);

    server.script(reply.text(text, { chunks: ['Card 4111 1', '111 1111 1111 for ', 'ana@example.com'] }));
    const helper = openai.responses.stream({ model: 'gpt-4o', input: 'x' });
    expect((await helper.finalResponse()).output_text).toBe(expected);
  });

  test('a block cuts the stream before the card', async () => {
    const { openai } = setup(server, [piiGuardrail({ action: 'block', phase: 'output' })]);
    server.script(reply.text(`ok ${card}`, { chunks: ['ok 4111', ' 1111 1111 1111'] }));
    const stream = await openai.responses.create({ model: 'gpt-4o', input: 'x', stream: true });
    const { received, error } = await drain(stream, responsesText);
    expect(received).toBe('ok ');
    await expectBlocked(() => Promise.reject(error), 'pii', 'output');
  });
});

describe('Anthropic streams', () => {
  test('messages.stream() and finalMessage() see the redacted text; text events carry no part of the card', async () => {
    const { anthropic } = setup(server, [piiGuardrail({ phase: 'output' })]);
    server.script(reply.text(`pay ${card} today`, { chunks: ['pay 41', '11 1111 11', '11 1111 to', 'day'] }));
    const stream = anthropic.messages.stream({ model: 'claude-haiku-4-5', max_tokens: 50, messages: user('x') });
    const deltas: string[] = [];
    stream.on('text', (delta) => deltas.push(delta));
    const message = await stream.finalMessage();
    expect(message.content).toEqual([{ type: 'text', text: 'pay [REDACTED:card] today' }]);
    expect(deltas.join('')).toBe('pay [REDACTED:card] today');
    expect(deltas.some((delta) => /\d/.test(delta))).toBe(false);
  });

  test('a block on an Anthropic stream: text before the secret, then the error', async () => {
    const { anthropic } = setup(server, [secretGuardrail()]);
    const text = `token ${apiKey} end`;
    server.script(reply.text(text, { chunks: [...text] }));
    const stream = await anthropic.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 50,
      messages: user('x'),
      stream: true,
    });
    const { received, error } = await drain(stream, anthropicText);
    expect(received).toBe('token ');
    await expectBlocked(() => Promise.reject(error), 'secrets', 'output');
    expect(stream.controller.signal.aborted).toBe(true);
  });

  test('text held at the end of a block is released before content_block_stop', async () => {
    const { anthropic } = setup(server, [piiGuardrail({ phase: 'output' })]);
    // A phone-like tail stays held until the block closes.
    server.script(reply.text('call 020 7946 0958', { chunks: ['call 020', ' 7946 0958'] }));
    const stream = await anthropic.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 50,
      messages: user('x'),
      stream: true,
    });
    const order: string[] = [];
    for await (const event of stream)
      order.push(event.type === 'content_block_delta' ? `delta:${anthropicText(event)}` : event.type);
    const stop = order.indexOf('content_block_stop');
    expect(
      order
        .slice(0, stop)
        .filter((entry) => entry.startsWith('delta:'))
        .map((entry) => entry.slice(6))
        .join(''),
    ).toBe('call [REDACTED:phone]');
  });
});
