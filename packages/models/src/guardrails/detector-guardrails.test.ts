import { redact } from '@gatehouse/core';
import { describe, expect, test } from 'vitest';
import { reply } from '../testing/index.js';
import { serverAndSpans } from '../testing/lifecycle.test-helpers.js';
import { apiKey, card, expectBlocked, setup, user } from './guardrails.test.helpers.js';
import { piiGuardrail, regexGuardrail, secretGuardrail } from './index.js';

const { server, recorder } = await serverAndSpans();

describe('input', () => {
  test('redaction reaches the server redacted in every place text lives; the caller’s objects are untouched', async () => {
    const { openai, anthropic, trips } = setup(server, [piiGuardrail({ phase: 'input', action: 'redact' })]);
    const messages = [
      { role: 'system' as const, content: 'Reply to ana@example.com' },
      { role: 'user' as const, content: [{ type: 'text' as const, text: `pay with ${card}` }] },
    ];
    await openai.chat.completions.create({ model: 'gpt-4o', messages });
    expect(server.requests[0]!.body.messages).toEqual([
      { role: 'system', content: 'Reply to [REDACTED:email]' },
      { role: 'user', content: [{ type: 'text', text: 'pay with [REDACTED:card]' }] },
    ]);
    expect(messages[0]!.content).toBe('Reply to ana@example.com');

    await openai.responses.create({
      model: 'gpt-4o',
      instructions: 'mail bob@example.org',
      input: [{ role: 'user', content: [{ type: 'input_text', text: `card ${card}` }] }],
    });
    expect(server.requests[1]!.body.instructions).toBe('mail [REDACTED:email]');
    expect(server.requests[1]!.body.input[0].content[0].text).toBe('card [REDACTED:card]');

    await anthropic.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 50,
      system: [{ type: 'text', text: 'cc ana@example.com' }],
      messages: [{ role: 'user', content: `card ${card}` }],
    });
    expect(server.requests[2]!.body.system).toEqual([{ type: 'text', text: 'cc [REDACTED:email]' }]);
    expect(server.requests[2]!.body.messages[0].content).toBe('card [REDACTED:card]');
    expect(trips().map((event) => [event.phase, event.action, event.detectors])).toEqual([
      ['input', 'redact', ['email', 'card']],
      ['input', 'redact', ['email', 'card']],
      ['input', 'redact', ['email', 'card']],
    ]);
  });

  test('a block sends nothing upstream and says which guardrail, phase and detector, never the secret', async () => {
    const { gateway, openai, events } = setup(server, [secretGuardrail({ phase: 'input' })]);
    const error = await expectBlocked(
      () =>
        gateway.run({ principal: { team: 'risk' } }, () =>
          openai.chat.completions.create({ model: 'gpt-4o', messages: user(`use key ${apiKey} please`) }),
        ),
      'secrets',
      'input',
    );
    expect(server.requests).toHaveLength(0);
    expect(error.message).toContain('openai-key');
    expect(error.message).not.toContain(apiKey);
    const [span] = recorder.named('chat gpt-4o');
    const spanEvent = span!.events.find((event) => event.name === 'gatehouse.guardrail.triggered');
    expect(spanEvent?.attributes).toEqual({
      'gatehouse.guardrail.name': 'secrets',
      'gatehouse.guardrail.phase': 'input',
      'gatehouse.guardrail.action': 'block',
      'gatehouse.guardrail.detectors': ['openai-key'],
    });
    expect(events.events.find((event) => event.type === ('guardrail-triggered' as string))).toMatchObject({
      guardrail: 'secrets',
      phase: 'input',
      action: 'block',
      detectors: ['openai-key'],
      principal: { team: 'risk' },
      traceId: span!.spanContext().traceId,
    });
    expect(JSON.stringify([events.events, recorder.spans().map((s) => [s.attributes, s.events])])).not.toContain(
      apiKey.slice(8),
    );
  });
});

describe('output, complete answers', () => {
  test('OpenAI chat: redact the content, keep the shape', async () => {
    const { openai } = setup(server, [piiGuardrail({ detectors: ['email', 'card'], phase: 'output' })]);
    server.script(reply.text(`Your card ${card} is on file for ana@example.com.`));
    const completion = await openai.chat.completions.create({ model: 'gpt-4o', messages: user('x') });
    expect(completion.choices[0]!.message).toMatchObject({
      role: 'assistant',
      content: 'Your card [REDACTED:card] is on file for [REDACTED:email].',
    });
    expect(completion.object).toBe('chat.completion');
    // asResponse() is built from the redacted answer too.
    server.script(reply.text(`card ${card}`));
    const response = await openai.chat.completions.create({ model: 'gpt-4o', messages: user('x') }).asResponse();
    expect(await response.text()).not.toContain('4111');
  });

  test('OpenAI chat: a secret in tool call arguments blocks the answer', async () => {
    const { openai } = setup(server, [secretGuardrail({ phase: 'output' })]);
    server.script(reply.toolCalls([{ name: 'deploy', arguments: { token: apiKey } }]));
    await expectBlocked(
      () => openai.chat.completions.create({ model: 'gpt-4o', messages: user('x') }),
      'secrets',
      'output',
    );
  });

  test('responses: redact output items and output_text; flag leaves the text and reports', async () => {
    const { openai, trips } = setup(server, [
      piiGuardrail({ name: 'pii-flag', detectors: ['phone'], action: 'flag', phase: 'output' }),
      piiGuardrail({ detectors: ['card'], phase: 'output' }),
    ]);
    server.script(reply.text(`Card ${card}, call +44 20 7946 0958`));
    const response = await openai.responses.create({ model: 'gpt-4o', input: 'x' });
    expect(response.output_text).toBe('Card [REDACTED:card], call +44 20 7946 0958');
    expect((response.output[0] as any).content[0].text).toBe(response.output_text);
    expect(trips().map((event) => [event.guardrail, event.action, event.detectors])).toEqual([
      ['pii', 'redact', ['card']],
      ['pii-flag', 'flag', ['phone']],
    ]);
  });

  test('Anthropic: redact text blocks; block on a key in tool_use input', async () => {
    const { anthropic } = setup(server, [piiGuardrail({ phase: 'output' }), secretGuardrail({ phase: 'output' })]);
    server.script(reply.text(`IBAN DE89 3704 0044 0532 0130 00 and ${card}`));
    const message = await anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 50, messages: user('x') });
    expect(message.content).toEqual([{ type: 'text', text: 'IBAN [REDACTED:iban] and [REDACTED:card]' }]);

    server.script(reply.toolCalls([{ name: 'deploy', arguments: { env: 'prod', auth: { key: apiKey } } }]));
    await expectBlocked(
      () => anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 50, messages: user('x') }),
      'secrets',
      'output',
    );
  });

  test('a redacted answer equals core redact() of the text', async () => {
    const { openai } = setup(server, [piiGuardrail(), secretGuardrail({ action: 'redact' })]);
    const text = `mail ana@example.com, key ${apiKey}, card ${card}`;
    server.script(reply.text(text));
    const completion = await openai.chat.completions.create({ model: 'gpt-4o', messages: user('x') });
    expect(completion.choices[0]!.message.content).toBe(redact(text).text);
  });
});

describe('regexGuardrail', () => {
  test('deny blocks; allow lets an exception through; redact names the rule', async () => {
    const deny = [{ id: 'internal-host', pattern: /\b[a-z0-9-]+\.corp\.example\.com\b/ }];
    const { openai } = setup(server, [regexGuardrail({ deny, allow: [/^www\./], phase: 'input' })]);
    await expectBlocked(
      () => openai.chat.completions.create({ model: 'gpt-4o', messages: user('see build.corp.example.com') }),
      'regex',
      'input',
    );
    expect(server.requests).toHaveLength(0);
    await openai.chat.completions.create({ model: 'gpt-4o', messages: user('see www.corp.example.com') });
    expect(server.requests).toHaveLength(1);

    const redacting = setup(server, [regexGuardrail({ deny: [/project \w+/i], action: 'redact', phase: 'output' })]);
    server.script(reply.text('This is Project Falcon.'));
    const completion = await redacting.openai.chat.completions.create({ model: 'gpt-4o', messages: user('x') });
    expect(completion.choices[0]!.message.content).toBe('This is [REDACTED:deny-0].');
  });

  test('bad options fail at set-up with a ConfigError naming the path', () => {
    expect(() => regexGuardrail({ deny: [/a*/] })).toThrow(/regexGuardrail\.deny\.0.*empty string/);
    expect(() => regexGuardrail({ deny: [] })).toThrow(/regexGuardrail\.deny/);
    expect(() => piiGuardrail({ detectors: ['emails'] })).toThrow(
      /piiGuardrail\.detectors\.0: no built-in detector "emails"/,
    );
    expect(() => piiGuardrail({ action: 'erase' as never })).toThrow(/piiGuardrail\.action/);
  });
});
