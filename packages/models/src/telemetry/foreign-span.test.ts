import { createGateway } from '@gatehouse/core';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import OpenAI from 'openai';
import { afterAll, expect, test, vi } from 'vitest';
import { models } from '../layer/index.js';
import { createProviderServer, reply } from '../testing/index.js';

// A context manager and no tracer provider: the app's own span is in force, and the gateway starts none.
const manager = new AsyncLocalStorageContextManager().enable();
context.setGlobalContextManager(manager);
const server = await createProviderServer();
afterAll(async () => {
  context.disable();
  await server.close();
});

test("a call under the app's span (no tracer provider) leaves that span alone: the gateway ends only its own", async () => {
  const parent = trace.wrapSpanContext({
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: 0,
  });
  const end = vi.spyOn(parent, 'end');
  const gateway = createGateway({
    models: models({
      providers: { openai: new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'key' }) },
      routes: { main: { targets: [{ provider: 'openai', model: 'gpt-4o' }] } },
    }),
  });
  const openai = gateway.wrap(new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'key' }));
  server.script([reply.text('routed'), reply.text('direct')]);
  const answers = await context.with(trace.setSpan(context.active(), parent), () =>
    Promise.all([
      openai.chat.completions.create({ model: 'main', messages: [{ role: 'user', content: 'hi' }] }),
      openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
    ]),
  );
  expect(answers.map((answer) => answer.choices[0]!.message.content).sort()).toEqual(['direct', 'routed']);
  expect(end).not.toHaveBeenCalled();
});
