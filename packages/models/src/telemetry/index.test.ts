import Anthropic from '@anthropic-ai/sdk';
import { Attr, createGateway, GuardrailError } from '@gatehouse/core';
import { captureEvents } from '@gatehouse/core/testing';
import OpenAI from 'openai';
import { describe, expect, test } from 'vitest';
import { type ModelMiddleware, mapStream } from '../context/index.js';
import { models } from '../layer/index.js';
import { reply } from '../testing/index.js';
import { serverAndSpans } from '../testing/lifecycle.test-helpers.js';

const { server, recorder } = await serverAndSpans();

const user = (content: string) => [{ role: 'user' as const, content }];

function setup(middleware: ModelMiddleware[] = [], recordContent?: boolean) {
  const openai = new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'sk-secret-key', maxRetries: 0 });
  const anthropic = new Anthropic({ baseURL: server.anthropicBaseURL, apiKey: 'sk-ant-secret', maxRetries: 0 });
  const gateway = createGateway({
    models: models({
      providers: { openai, anthropic },
      routes: {
        contracts: {
          targets: [
            { provider: 'openai', model: 'gpt-4o' },
            { provider: 'openai', model: 'gpt-4o-mini' },
          ],
        },
      },
      retry: { retries: 0 },
      middleware,
    }),
    ...(recordContent === undefined ? {} : { telemetry: { recordContent } }),
  });
  return { gateway, openai: gateway.wrap(openai), anthropic: gateway.wrap(anthropic) };
}

describe('spans, metrics and events', () => {
  test('a routed call: one chat span with GenAI attributes, a child span per attempt, one model-call event', async () => {
    const { gateway, openai } = setup();
    const events = captureEvents(gateway.events);
    server.script(reply.error(500), { model: 'gpt-4o' });
    server.script(reply.text('fine', { usage: { inputTokens: 7, outputTokens: 3 } }));
    await gateway.run({ principal: { team: 'risk', user: 'ana' } }, () =>
      openai.chat.completions.create({ model: 'contracts', messages: user('x') }),
    );
    const [call] = recorder.named('chat contracts');
    expect(call).toBeDefined();
    expect(call!.attributes).toMatchObject({
      [Attr.operationName]: 'chat',
      [Attr.providerName]: 'openai',
      [Attr.requestModel]: 'contracts',
      [Attr.responseModel]: 'gpt-4o-mini',
      [Attr.usageInputTokens]: 7,
      [Attr.usageOutputTokens]: 3,
      [Attr.responseFinishReasons]: ['stop'],
      [Attr.route]: 'contracts',
      [Attr.target]: 'openai:gpt-4o-mini',
      [Attr.attempt]: 2,
      [Attr.team]: 'risk',
    });
    const attempts = recorder.children(call!);
    expect(attempts.map((span) => [span.name, span.attributes[Attr.attempt], span.attributes[Attr.errorType]])).toEqual(
      [
        ['chat gpt-4o', 1, 'GATEHOUSE_UPSTREAM'],
        ['chat gpt-4o-mini', 2, undefined],
      ],
    );
    expect(events.events.filter((event) => event.type === ('model-call' as string))).toEqual([
      expect.objectContaining({
        principal: { team: 'risk', user: 'ana' },
        route: 'contracts',
        target: 'openai:gpt-4o-mini',
        usage: expect.objectContaining({ inputTokens: 7, outputTokens: 3 }),
        attempts: 2,
        outcome: 'success',
        traceId: call!.spanContext().traceId,
      }),
    ]);
    const everything = JSON.stringify([recorder.spans().map((s) => s.attributes), events.events]);
    expect(everything).not.toContain('sk-secret-key');
    expect(everything).not.toContain('authorization');
  });

  test('a stream closes its span when it ends, with the usage of its chunks; embeddings get their own name', async () => {
    const { openai, anthropic } = setup();
    const stream = await anthropic.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 20,
      messages: user('streamed'),
      stream: true,
    });
    // Only the attempt span has ended: the call's span stays open while the stream is read.
    expect(recorder.named('chat claude-haiku-4-5')).toHaveLength(1);
    for await (const _ of stream);
    const [attempt, span] = recorder.named('chat claude-haiku-4-5');
    expect(recorder.children(span!)).toContain(attempt);
    expect(span!.attributes[Attr.providerName]).toBe('anthropic');
    expect(span!.attributes[Attr.usageOutputTokens]).toBeGreaterThan(0);
    expect(span!.attributes[Attr.responseFinishReasons]).toEqual(['end_turn']);
    await openai.embeddings.create({ model: 'text-embedding-3-small', input: 'v' });
    expect(recorder.named('embeddings text-embedding-3-small')[0]!.attributes[Attr.operationName]).toBe('embeddings');
  });

  test('a failed call marks its span and event with error.type', async () => {
    const { gateway, openai } = setup();
    const events = captureEvents(gateway.events);
    server.script(reply.error(404));
    await openai.chat.completions.create({ model: 'gpt-4o', messages: user('x') }).catch(() => {});
    expect(recorder.named('chat gpt-4o')[0]!.attributes[Attr.errorType]).toBe('404');
    expect(events.events.filter((event) => event.type === ('model-call' as string))[0]).toMatchObject({
      outcome: 'error',
      errorType: '404',
    });
  });
});

describe('user middleware', () => {
  test('sees the normalised request and can rewrite it', async () => {
    const seen: unknown[] = [];
    const { openai } = setup([
      async (context, next) => {
        seen.push([
          context.request.api,
          context.request.kind,
          context.request.stream,
          context.model,
          context.route?.name,
        ]);
        context.request.body = { ...context.request.body, user: 'tagged' };
        return next();
      },
    ]);
    await openai.chat.completions.create({ model: 'contracts', messages: user('x') });
    expect(seen).toEqual([['chat', 'openai', false, 'contracts', 'contracts']]);
    expect(server.requests[0]!.body.user).toBe('tagged');
  });

  test('can cut a stream: the caller gets the chunks before the cut, then the error', async () => {
    const guard: ModelMiddleware = async (_context, next) =>
      mapStream(await next(), {
        chunk(chunk) {
          if (chunk.choices?.[0]?.delta?.content?.includes('secret'))
            throw new GuardrailError({ message: 'secret in output', guardrail: 'secrets', phase: 'output' });
          return chunk;
        },
      });
    const { openai } = setup([guard]);
    server.script(reply.text('public secret more', { chunks: ['public ', 'secret ', 'more'] }));
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages: user('x'), stream: true });
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((e) => e);
    expect(text).toBe('public ');
    expect(GuardrailError.isInstance(error)).toBe(true);
    expect(stream.controller.signal.aborted).toBe(true);
  });

  test('can answer without calling next (a cache hit)', async () => {
    const cached = { id: 'cached', object: 'chat.completion', created: 1, model: 'gpt-4o', choices: [] };
    const { openai } = setup([
      async (context) => ({
        type: 'response',
        data: cached,
        response: undefined,
        target: context.target!,
        summary: {
          usage: undefined,
          responseModel: 'gpt-4o',
          responseId: 'cached',
          finishReasons: [],
          completed: true,
        },
      }),
    ]);
    expect((await openai.chat.completions.create({ model: 'gpt-4o', messages: user('x') })).id).toBe('cached');
    expect(server.requests).toHaveLength(0);
  });
});

describe('content: inputs and outputs only when asked', () => {
  const contentAttributes = [Attr.inputMessages, Attr.outputMessages, Attr.systemInstructions];
  const json = (span: { attributes: Record<string, unknown> } | undefined, attribute: string) =>
    JSON.parse(span!.attributes[attribute] as string);

  test('a chat call records its messages and the answer as JSON', async () => {
    const { openai } = setup([], true);
    server.script(reply.text('hello back'));
    const messages = [
      { role: 'system' as const, content: 'be brief' },
      { role: 'user' as const, content: 'hello' },
    ];
    await openai.chat.completions.create({ model: 'contracts', messages });
    const [call] = recorder.named('chat contracts');
    expect(json(call, Attr.inputMessages)).toEqual(messages);
    expect(json(call, Attr.outputMessages)).toEqual([
      expect.objectContaining({ role: 'assistant', content: 'hello back' }),
    ]);
    // An OpenAI chat's system prompt is one of its messages, not separate instructions.
    expect(call!.attributes[Attr.systemInstructions]).toBeUndefined();
  });

  test('an Anthropic stream records the system prompt, and its text once it ends', async () => {
    const { anthropic } = setup([], true);
    server.script(reply.text('one two three', { chunks: ['one ', 'two ', 'three'] }));
    const stream = await anthropic.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 20,
      system: 'answer in words',
      messages: user('count'),
      stream: true,
    });
    let text = '';
    for await (const event of stream)
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    expect(text).toBe('one two three');
    const span = recorder.named('chat claude-haiku-4-5').find((s) => recorder.children(s).length > 0);
    expect(json(span, Attr.systemInstructions)).toBe('answer in words');
    expect(json(span, Attr.inputMessages)).toEqual(user('count'));
    expect(json(span, Attr.outputMessages)).toEqual([{ role: 'assistant', content: 'one two three' }]);
    // The per-attempt span carries no content: the call's span tells it once.
    const [attempt] = recorder.children(span!);
    for (const attribute of contentAttributes) expect(attempt!.attributes[attribute]).toBeUndefined();
  });

  test('an OpenAI chat stream and a responses call record what they carried', async () => {
    const { openai } = setup([], true);
    server.script(reply.text('streamed words', { chunks: ['streamed ', 'words'] }));
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages: user('go'), stream: true });
    for await (const _ of stream);
    expect(json(recorder.named('chat gpt-4o').at(-1), Attr.outputMessages)).toEqual([
      { role: 'assistant', content: 'streamed words' },
    ]);
    recorder.reset();
    server.script(reply.text('from responses'));
    await openai.responses.create({ model: 'gpt-4o', instructions: 'be kind', input: 'hi there' });
    const span = recorder.named('chat gpt-4o').at(-1);
    expect(json(span, Attr.inputMessages)).toBe('hi there');
    expect(json(span, Attr.systemInstructions)).toBe('be kind');
    expect(JSON.stringify(json(span, Attr.outputMessages))).toContain('from responses');
  });

  test('nothing is recorded by default, or when recordContent is false', async () => {
    for (const recordContent of [undefined, false]) {
      recorder.reset();
      const { openai, anthropic } = setup([], recordContent);
      await openai.chat.completions.create({ model: 'gpt-4o', messages: user('quiet') });
      const stream = await anthropic.messages.create({
        model: 'claude-haiku-4-5',
        max_tokens: 20,
        system: 'hidden',
        messages: user('quiet'),
        stream: true,
      });
      for await (const _ of stream);
      expect(recorder.spans().length).toBeGreaterThan(0);
      for (const span of recorder.spans())
        for (const attribute of contentAttributes) expect(span.attributes[attribute]).toBeUndefined();
      expect(JSON.stringify(recorder.spans().map((span) => span.attributes))).not.toContain('quiet');
    }
  });

  test('a secret in a prompt is redacted in the recorded messages, the rest is kept', async () => {
    const { openai } = setup([], true);
    const apiKey = `sk-proj-${'aB3dE5fG7hJ9kL2mN4pQ6rS8tU1vW3xY5zA7'.repeat(2)}`;
    const pemBody = 'MIIEowIBAAKCAQEA7bq9'.repeat(4);
    const privateKey = `-----BEGIN RSA PRIVATE KEY-----\n${pemBody}\n${pemBody}\n-----END RSA PRIVATE KEY-----`;
    // The provider server echoes the last user message, so the answer carries the secrets too.
    await openai.chat.completions.create({
      model: 'gpt-4o',
      messages: user(`deploy with ${apiKey} and\n${privateKey}\nplease`),
    });
    const span = recorder.named('chat gpt-4o').at(-1)!;
    const input = span.attributes[Attr.inputMessages] as string;
    const output = span.attributes[Attr.outputMessages] as string;
    for (const recorded of [input, output]) {
      expect(recorded).toContain('[REDACTED:openai-key]');
      expect(recorded).toContain('[REDACTED:private-key]');
      expect(recorded).toContain('please');
      expect(recorded).not.toContain(apiKey);
      expect(recorded).not.toContain(pemBody);
    }
    expect(json(span, Attr.inputMessages)).toEqual(
      user('deploy with [REDACTED:openai-key] and\n[REDACTED:private-key]\nplease'),
    );
  });
});
