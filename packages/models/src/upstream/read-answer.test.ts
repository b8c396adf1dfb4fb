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

/** A request shaped like an SDK's, whose `parse()` answers without its `parseResponse`. */
function request(options: { frozenParser?: boolean } = {}): SentRequest {
  const response = new Response('{}', { status: 201 });
  const sent = {
    responsePromise: Promise.resolve({ response }),
    parse: () => Promise.resolve({ choices: [{ message: { content: 'own parse' } }] }),
    asResponse: () => Promise.resolve(response),
    then: () => Promise.resolve(),
  } as unknown as SentRequest;
  Object.defineProperty(sent, 'parseResponse', {
    value: () => ({}),
    writable: !options.frozenParser,
    enumerable: true,
  });
  return sent;
}

test.each([
  ['a parse() that does not call parseResponse', {}],
  ['a parseResponse that cannot be replaced', { frozenParser: true }],
])('%s: the response still comes from the response promise', async (_, options) => {
  const answer = await readAnswer(request(options), {}, pair, undefined);
  expect(answer).toEqual({ content: 'own parse', response: expect.any(Response) });
  expect(answer.response.status).toBe(201);
});
