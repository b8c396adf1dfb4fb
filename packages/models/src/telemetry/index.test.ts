import Anthropic from '@anthropic-ai/sdk';
import { Attr, createGateway, GuardrailError } from '@gatehouse/core';
import { captureEvents, recordSpans } from '@gatehouse/core/testing';
import OpenAI from 'openai';
import { afterAll, beforeEach, describe, expect, test } from 'vitest';
import { type ModelMiddleware, mapStream } from '../context/index.js';
import { models } from '../layer/index.js';
import { createProviderServer, type ProviderServer, reply } from '../testing/index.js';

let server: ProviderServer;
server = await createProviderServer();
const recorder = recordSpans();
afterAll(async () => {
  await recorder.stop();
  await server.close();
});
beforeEach(() => {
  server.reset();
  recorder.reset();
});

const user = (content: string) => [{ role: 'user' as const, content }];

function setup(middleware: ModelMiddleware[] = []) {
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
