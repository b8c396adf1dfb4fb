import { createGateway } from '@gatehouse/core';
import OpenAI from 'openai';
import { afterAll, expect, test } from 'vitest';
import type { ModelMiddleware } from '../context/index.js';
import { createProviderServer, type ProviderServer, reply } from '../testing/index.js';
import { models } from './index.js';

const server: ProviderServer = await createProviderServer();
afterAll(() => server.close());

test("each call gets its own metadata: the scope's keys, and what middleware add stays with the call", async () => {
  const seen: Record<string, unknown>[] = [];
  const middleware: ModelMiddleware = (context, next) => {
    seen.push({ ...context.metadata });
    context.metadata.written = seen.length;
    return next();
  };
  const gateway = createGateway({
    defaultScope: { metadata: {} },
    models: models({
      providers: { openai: new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'key' }) },
      routes: { main: { targets: [{ provider: 'openai', model: 'gpt-4o' }] } },
      middleware: [middleware],
    }),
  });
  const openai = gateway.wrap(new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'key' }));
  server.script(Array.from({ length: 5 }, () => reply.text('ok')));
  const ask = () => openai.chat.completions.create({ model: 'main', messages: [{ role: 'user', content: 'hi' }] });

  await ask();
  await ask();
  await gateway.run({ metadata: { feature: 'help' } }, async () => {
    await ask();
    await ask();
  });
  await ask();
  expect(seen).toEqual([{}, {}, { feature: 'help' }, { feature: 'help' }, {}]);
});
