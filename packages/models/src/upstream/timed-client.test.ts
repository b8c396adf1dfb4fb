import { createGateway, TimeoutError } from '@gatehouse/core';
import OpenAI, { AzureOpenAI } from 'openai';
import { afterAll, beforeEach, describe, expect, test, vi } from 'vitest';
import { models } from '../layer/index.js';
import { createProviderServer, type ProviderServer, reply } from '../testing/index.js';
import { timedCopy } from './timed-client.js';

const server: ProviderServer = await createProviderServer();
afterAll(() => server.close());
beforeEach(() => server.reset());

const messages = [{ role: 'user' as const, content: 'hi' }];

/** A gateway whose route `main` goes to `primary`, and the wrapped client to call it through. */
function routed(primary: OpenAI, timeoutMs = 30_000) {
  const gateway = createGateway({
    models: models({
      providers: { primary },
      routes: { main: { targets: [{ provider: 'primary', model: 'gpt-4o' }] } },
      timeout: { ms: timeoutMs },
      retry: { retries: 0 },
    }),
  });
  return gateway.wrap(new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'unused' }));
}

const client = (apiKey = 'key-1') => new OpenAI({ baseURL: server.openaiBaseURL, apiKey });
const header = (index: number, name: string) => server.requests[index]?.headers[name];

describe('routed OpenAI attempts go out through a copy of the client timed by the attempt', () => {
  test('no per-request timeout header, no retry by the SDK, and the request still times out', async () => {
    const openai = routed(client(), 200);
    await openai.chat.completions.create({ model: 'main', messages });
    expect(header(0, 'x-stainless-timeout')).toBeUndefined();
    expect(header(0, 'authorization')).toBe('Bearer key-1');

    server.script(reply.delay(3000));
    const error = await openai.chat.completions.create({ model: 'main', messages }).catch((e) => e);
    expect(TimeoutError.isInstance(error.errors[0])).toBe(true);
    expect(server.requests).toHaveLength(2);
  });

  test('a key rotated on the live client is the one sent', async () => {
    const primary = client('key-1');
    const openai = routed(primary);
    await openai.chat.completions.create({ model: 'main', messages });
    primary.apiKey = 'key-2';
    await openai.chat.completions.create({ model: 'main', messages });
    expect([header(0, 'authorization'), header(1, 'authorization')]).toEqual(['Bearer key-1', 'Bearer key-2']);
  });

  test('a spy put on the client after its first call sees the next ones', async () => {
    const primary = client();
    const openai = routed(primary);
    await openai.chat.completions.create({ model: 'main', messages });
    const spy = vi.spyOn(primary.chat.completions, 'create');
    await openai.chat.completions.create({ model: 'main', messages });
    expect(spy).toHaveBeenCalledTimes(1);
    expect(spy.mock.calls[0]![0]).toMatchObject({ model: 'gpt-4o' });
  });

  test('a Proxy around the client (another library instrumenting it) sees every call', async () => {
    let created = 0;
    const raw = client();
    const completions = new Proxy(raw.chat.completions, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver);
        if (key !== 'create') return value;
        return (...args: unknown[]) => {
          created++;
          return (value as Function).apply(target, args);
        };
      },
    });
    const chat = new Proxy(raw.chat, {
      get: (target, key, receiver) => (key === 'completions' ? completions : Reflect.get(target, key, receiver)),
    });
    const primary = new Proxy(raw, {
      get: (target, key, receiver) => (key === 'chat' ? chat : Reflect.get(target, key, receiver)),
    });
    const openai = routed(primary);
    await openai.chat.completions.create({ model: 'main', messages });
    await openai.chat.completions.create({ model: 'main', messages });
    expect(created).toBe(2);
  });

  test('an apiKey function keeps working: the client itself sends, with its per-request timeout', async () => {
    let calls = 0;
    const primary = new OpenAI({
      baseURL: server.openaiBaseURL,
      apiKey: async () => `token-${++calls}`,
    });
    const openai = routed(primary);
    await openai.chat.completions.create({ model: 'main', messages });
    await openai.chat.completions.create({ model: 'main', messages });
    expect(header(1, 'authorization')).toMatch(/^Bearer token-\d$/);
    expect(header(1, 'x-stainless-timeout')).toBe('30');
  });

  test("a caller's own per-request timeout is sent as it is", async () => {
    const openai = routed(client());
    await openai.chat.completions.create({ model: 'main', messages }, { timeout: 9000 });
    expect(header(0, 'x-stainless-timeout')).toBe('9');
  });
});

describe('timedCopy', () => {
  test('one copy per client and duration, with the timeout and no retries', () => {
    const primary = client();
    const copy = timedCopy(primary, 'chat', 1005) as OpenAI;
    expect(copy).toBeInstanceOf(OpenAI);
    expect(copy).not.toBe(primary);
    expect([copy.timeout, copy.maxRetries, copy.apiKey, copy.baseURL]).toEqual([1005, 0, 'key-1', primary.baseURL]);
    expect(timedCopy(primary, 'chat', 1005)).toBe(copy);
    expect(timedCopy(primary, 'chat', 2005)).not.toBe(copy);
  });

  test('none for a client whose copy would differ or cannot be made', () => {
    const patched = client();
    patched.post = patched.post.bind(patched);
    expect(timedCopy(patched, 'chat', 1005)).toBeUndefined();

    const azure = new AzureOpenAI({
      apiKey: 'key',
      endpoint: 'https://example.openai.azure.com',
      apiVersion: '2024-10-21',
      deployment: 'gpt-4o',
    });
    // An Azure client cannot copy itself without its API version in the environment.
    expect(timedCopy(azure, 'chat', 1005)).toBeUndefined();
  });
});
