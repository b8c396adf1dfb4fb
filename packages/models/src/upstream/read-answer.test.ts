import OpenAI from 'openai';
import { afterAll, beforeEach, expect, test } from 'vitest';
import { createProviderServer, type ProviderServer, reply } from '../testing/index.js';
import { readAnswer, type SentRequest } from './index.js';

const server: ProviderServer = await createProviderServer();
afterAll(() => server.close());
beforeEach(() => server.reset());

const messages = [{ role: 'user' as const, content: 'hi' }];
const pair = (data: any, response: Response) => ({ content: data.choices?.[0]?.message?.content, response });

test('the answer and the upstream response of a real request, which others may await too', async () => {
  server.script(reply.text('hello'));
  const client = new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'key' });
  const sent = client.chat.completions.create({ model: 'gpt-4o', messages }) as unknown as SentRequest;
  const [answer, awaited] = await Promise.all([readAnswer(sent, client, pair, undefined), sent]);
  expect(answer.content).toBe('hello');
  expect(answer.response.status).toBe(200);
  expect(answer.response.headers.get('content-type')).toMatch(/json/);
  // The same parsed answer, read once: no "body has already been read".
  expect(awaited.choices[0].message.content).toBe('hello');
});
