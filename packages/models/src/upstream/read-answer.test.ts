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

test('with a sink: the answer, or the failure as `fail` makes it, goes to the sink and nothing is returned', async () => {
  server.script([reply.text('to the sink'), reply.error(400, { message: 'bad request' })]);
  const client = new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'key', maxRetries: 0 });
  const outcomes: unknown[] = [];
  const settled = () =>
    new Promise<void>((resolve) => {
      const sink = {
        value: (value: unknown) => {
          outcomes.push(value);
          resolve();
        },
        error: (error: unknown) => {
          outcomes.push(error);
          resolve();
        },
      };
      const sent = client.chat.completions.create({ model: 'gpt-4o', messages }) as unknown as SentRequest;
      const fail = (error: unknown): never => {
        throw new Error(`failed: ${(error as Error).message}`);
      };
      expect(readAnswer(sent, client, pair, fail, sink)).toBeUndefined();
    });
  await settled();
  await settled();
  expect(outcomes[0]).toMatchObject({ content: 'to the sink' });
  expect((outcomes[0] as { response: Response }).response.status).toBe(200);
  expect((outcomes[1] as Error).message).toMatch(/^failed: 400/);
});
