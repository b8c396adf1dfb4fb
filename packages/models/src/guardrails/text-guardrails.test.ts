import { createGateway, GuardrailError } from '@gatehouse/core';
import { captureEvents } from '@gatehouse/core/testing';
import OpenAI from 'openai';
import { afterAll, beforeEach, describe, expect, test } from 'vitest';
import { z } from 'zod';
import type { ModelMiddleware } from '../context/index.js';
import { models } from '../layer/index.js';
import { createProviderServer, reply } from '../testing/index.js';
import { drain, expectBlocked, setup, user } from './guardrails.test.helpers.js';
import { customGuardrail, judgeCallMetadataKey, judgeGuardrail, parseVerdict, schemaGuardrail } from './index.js';

const server = await createProviderServer();
afterAll(() => server.close());
beforeEach(() => server.reset());

const chatText = (chunk: any) => chunk.choices[0]?.delta?.content ?? '';
const invoice = z.object({ total: z.number(), items: z.array(z.object({ sku: z.string(), price: z.number() })) });

describe('schemaGuardrail', () => {
  test('valid JSON (fenced or not) passes untouched', async () => {
    const { openai, anthropic } = setup(server, [schemaGuardrail(invoice)]);
    const json = '{"total":3,"items":[{"sku":"a","price":3}]}';
    server.script(reply.text(json));
    const completion = await openai.chat.completions.create({ model: 'gpt-4o', messages: user('x') });
    expect(JSON.parse(completion.choices[0]!.message.content!)).toEqual({ total: 3, items: [{ sku: 'a', price: 3 }] });
    server.script(reply.text(`\`\`\`json\n${json}\n\`\`\``));
    await anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 50, messages: user('x') });
  });

  test('a schema failure names the path; invalid JSON is reported without the text', async () => {
    const { openai, trips } = setup(server, [schemaGuardrail(invoice)]);
    server.script(reply.text('{"total":3,"items":[{"sku":"a","price":"three"}]}'));
    const error = await expectBlocked(
      () => openai.responses.create({ model: 'gpt-4o', input: 'x' }),
      'schema',
      'output',
    );
    expect(error.message).toContain('$.items[0].price');
    expect(error.message).toMatch(/expected number/);
    server.script(reply.text('not json: secret-ish words'));
    const invalid = await expectBlocked(
      () => openai.chat.completions.create({ model: 'gpt-4o', messages: user('x') }),
      'schema',
      'output',
    );
    expect(invalid.message).toContain('not valid JSON');
    expect(invalid.message).not.toContain('secret-ish');
    expect(trips().map((event) => event.reason)).toEqual([
      expect.stringContaining('$.items[0].price'),
      'the output is not valid JSON',
    ]);
  });

  test('on a stream the JSON is held until complete: nothing of an invalid answer reaches the caller', async () => {
    const { openai } = setup(server, [schemaGuardrail(invoice)]);
    server.script(reply.text('{"total":"x","items":[]}', { chunks: ['{"total":', '"x","items":[]}'] }));
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages: user('x'), stream: true });
    const { received, error } = await drain(stream, chatText);
    expect(received).toBe('');
    await expectBlocked(() => Promise.reject(error), 'schema', 'output');

    server.script(reply.text('{"total":1,"items":[]}', { chunks: ['{"total":', '1,"items":[]}'] }));
    const good = await openai.chat.completions.create({ model: 'gpt-4o', messages: user('x'), stream: true });
    expect((await drain(good, chatText)).received).toBe('{"total":1,"items":[]}');
  });
});

describe('customGuardrail', () => {
  test('input and output checks with reasons; async checks; flag only reports', async () => {
    const seen: string[] = [];
    const { openai, trips } = setup(server, [
      customGuardrail({
        name: 'no-competitors',
        phase: 'both',
        check: async (text, context) => {
          seen.push(`${context.phase}:${context.model}`);
          return !/\bAcme\b/.test(text) || { pass: false, reason: 'mentions a competitor' };
        },
      }),
      customGuardrail({ name: 'short', action: 'flag', check: (text) => text.length < 10 }),
    ]);
    const error = await expectBlocked(
      () => openai.chat.completions.create({ model: 'gpt-4o', messages: user('compare with Acme') }),
      'no-competitors',
      'input',
    );
    expect(error.message).toContain('mentions a competitor');
    expect(server.requests).toHaveLength(0);

    server.script(reply.text('We beat Acme'));
    await expectBlocked(
      () => openai.chat.completions.create({ model: 'gpt-4o', messages: user('hi') }),
      'no-competitors',
      'output',
    );
    server.script(reply.text('A long and harmless answer'));
    const completion = await openai.chat.completions.create({ model: 'gpt-4o', messages: user('hi') });
    expect(completion.choices[0]!.message.content).toBe('A long and harmless answer');
    expect(seen).toEqual(['input:gpt-4o', 'input:gpt-4o', 'output:gpt-4o', 'input:gpt-4o', 'output:gpt-4o']);
    expect(trips().map((event) => [event.guardrail, event.phase, event.action])).toEqual([
      ['no-competitors', 'input', 'block'],
      // Inner middleware see the answer first: the flagging check reports before the blocking one.
      ['short', 'output', 'flag'],
      ['no-competitors', 'output', 'block'],
      ['short', 'output', 'flag'],
    ]);
  });
});

describe('judgeGuardrail', () => {
  /** A gateway whose judge runs on a route of the same gateway, through a client that gateway wraps. */
  function judged(options: Partial<Parameters<typeof judgeGuardrail>[0]> = {}) {
    const raw = new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'test', maxRetries: 0 });
    const judgeCalls: unknown[] = [];
    const spy: ModelMiddleware = async (context, next) => {
      const result = await next();
      if (context.model === 'judge') judgeCalls.push(context.metadata[judgeCallMetadataKey]);
      return result;
    };
    let judgeClient: OpenAI | undefined;
    const gateway = createGateway({
      models: models({
        providers: { openai: raw },
        routes: { judge: { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] } },
        retry: { retries: 0 },
        middleware: [
          spy,
          judgeGuardrail({
            client: () => judgeClient!,
            model: 'judge',
            instructions: 'Fail any text that gives medical dosage advice.',
            phase: 'both',
            ...options,
          }),
        ],
      }),
    });
    judgeClient = gateway.wrap(raw);
    return { gateway, openai: judgeClient, judgeCalls, events: captureEvents(gateway.events) };
  }

  test('a passing verdict lets the call through; the judge call is made once per phase and never judged', async () => {
    const { openai, judgeCalls } = judged();
    server.script(reply.text('{"verdict": "pass"}'), { model: 'gpt-4o-mini' });
    server.script(reply.text('```json\n{"verdict":"PASS","reason":"fine"}\n```'), { model: 'gpt-4o-mini' });
    server.script(reply.text('Drink water.'), { model: 'gpt-4o' });
    const completion = await openai.chat.completions.create({ model: 'gpt-4o', messages: user('thirsty') });
    expect(completion.choices[0]!.message.content).toBe('Drink water.');
    // Input judge, main call, output judge: three requests, no judge of a judge.
    expect(server.requests.map((request) => request.body.model)).toEqual(['gpt-4o-mini', 'gpt-4o', 'gpt-4o-mini']);
    expect(judgeCalls).toEqual(['judge', 'judge']);
    const judgeRequest = server.requests[2]!.body;
    expect(judgeRequest.messages[0].content).toContain('medical dosage');
    expect(judgeRequest.messages[1].content).toContain('<content>\nDrink water.\n</content>');
  });

  test('a failing verdict blocks; on a stream nothing of the text is released', async () => {
    const { openai, events } = judged({ phase: 'output' });
    server.script(reply.text('{"verdict":"fail","reason":"it quotes: take 3 pills"}'), { model: 'gpt-4o-mini' });
    server.script(reply.text('Take 3 pills.'), { model: 'gpt-4o' });
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages: user('x'), stream: true });
    const { received, error } = await drain(stream, chatText);
    expect(received).toBe('');
    const blocked = await expectBlocked(() => Promise.reject(error), 'judge', 'output');
    expect(blocked.message).not.toContain('pills');
    expect(JSON.stringify(events.events)).not.toContain('pills');
  });

  test('a malformed verdict or a failed judge call fails closed by default, open when asked', async () => {
    const closed = judged({ phase: 'output' });
    server.script(reply.text('I think it is probably fine?'), { model: 'gpt-4o-mini' });
    const error = await expectBlocked(
      () => closed.openai.chat.completions.create({ model: 'gpt-4o', messages: user('x') }),
      'judge',
      'output',
    );
    expect(error.message).toContain('no valid verdict');
    server.script(reply.error(500), { model: 'gpt-4o-mini' });
    const failed = await expectBlocked(
      () => closed.openai.chat.completions.create({ model: 'gpt-4o', messages: user('x') }),
      'judge',
      'output',
    );
    expect(failed.message).toContain('judge call failed');

    const open = judged({ phase: 'output', onMalformed: 'pass' });
    server.script(reply.text('{"verdict": 42}'), { model: 'gpt-4o-mini' });
    server.script(reply.text('answer'), { model: 'gpt-4o' });
    const completion = await open.openai.chat.completions.create({ model: 'gpt-4o', messages: user('x') });
    expect(completion.choices[0]!.message.content).toBe('answer');
  });

  test('verdict parsing', () => {
    expect(parseVerdict('{"verdict":"fail"}')).toEqual({ pass: false });
    expect(parseVerdict('Sure! {"pass": true} done')).toEqual({ pass: true });
    expect(parseVerdict('FAIL: dosage advice')).toEqual({ pass: false });
    expect(parseVerdict('**PASS**')).toEqual({ pass: true });
    expect(parseVerdict('{"verdict":"maybe"}')).toBeUndefined();
    expect(parseVerdict('{not json}')).toBeUndefined();
    expect(parseVerdict('')).toBeUndefined();
  });

  test('errors are GuardrailErrors across installs', () => {
    expect(GuardrailError.isInstance(new GuardrailError({ message: 'x', guardrail: 'g', phase: 'input' }))).toBe(true);
  });
});
