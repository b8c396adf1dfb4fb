import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, InvalidInputError, UpstreamError } from '../errors/index.js';
import { storeContract } from '../store/store-contract.js';
import { type RedisServer, startRedisServer } from '../testing/redis-server.js';
import { RedisStore } from './index.js';
import type { ConsumeJobInput, ConsumeJobOutput } from './multi-process/consume-job.js';
import { runInProcesses } from './multi-process/index.js';

let server: RedisServer;
let client: Redis;
let prefixes = 0;
/** Each test gets its own prefix on the one server, so tests start empty. */
const freshPrefix = () => `test${++prefixes}:`;

beforeAll(async () => {
  server = await startRedisServer();
  client = new Redis(server.url);
});

afterAll(async () => {
  await client?.quit();
  await server?.stop();
});

storeContract('RedisStore', () => new RedisStore({ client, prefix: freshPrefix() }));

describe('RedisStore', () => {
  const opened: RedisStore[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });
  const open = (store: RedisStore) => {
    opened.push(store);
    return store;
  };

  it('shares state between stores on separate connections, under the prefix', async () => {
    const prefix = freshPrefix();
    const first = open(new RedisStore({ url: server.url, prefix }));
    const second = open(new RedisStore({ url: server.url, prefix }));
    await first.set('session', { step: 3 });
    expect(await second.get('session')).toEqual({ step: 3 });
    await first.consume('rate', 4, 5, 60_000);
    expect(await second.consume('rate', 2, 5, 60_000)).toMatchObject({ allowed: false, remaining: 1 });
    await second.increment('spent', 1.25);
    expect(await first.increment('spent', 1.25)).toBe(2.5);
    expect((await client.keys(`${prefix}*`)).sort()).toEqual(
      [`${prefix}counter:rate`, `${prefix}value:session`, `${prefix}value:spent`].sort(),
    );
    expect(await client.get(`${prefix}value:session`)).toBe('{"step":3}');
  });

  it('defaults the prefix to gatehouse:', async () => {
    const store = new RedisStore({ client });
    await store.set('default-prefix-check', 1);
    expect(await client.get('gatehouse:value:default-prefix-check')).toBe('1');
    await store.delete('default-prefix-check');
  });

  it('times windows by the Redis server clock, not the app clock', async () => {
    const store = new RedisStore({ client, prefix: freshPrefix() });
    const [seconds] = await client.time();
    const serverNow = Number(seconds) * 1000;
    vi.useFakeTimers({ toFake: ['Date'], now: serverNow + 3_600_000 });
    try {
      const { resetAt } = await store.consume('skewed', 1, 5, 10_000);
      expect(resetAt).toBeGreaterThanOrEqual(serverNow + 10_000);
      expect(resetAt).toBeLessThan(serverNow + 10_000 + 60_000);
    } finally {
      vi.useRealTimers();
    }
  });

  it('runs its scripts again after the server forgot them (NOSCRIPT)', async () => {
    const store = new RedisStore({ client, prefix: freshPrefix() });
    expect((await store.consume('k', 1, 5, 0)).remaining).toBe(4);
    await client.script('FLUSH');
    expect((await store.consume('k', 1, 5, 0)).remaining).toBe(3);
    expect(await store.increment('n', 2)).toBe(2);
    await client.script('FLUSH');
    expect(await store.increment('n', 2)).toBe(4);
  });

  it('close() quits a client it created and leaves the app’s client open', async () => {
    const own = new RedisStore({ url: server.url, prefix: freshPrefix() });
    await own.set('a', 1);
    await own.close();
    await own.close();
    const error = await own.get('a').catch((caught: unknown) => caught);
    expect(UpstreamError.isInstance(error)).toBe(true);
    expect((error as UpstreamError).message).toMatch(/has not been closed/);

    const appClient = new Redis(server.url);
    const borrowed = new RedisStore({ client: appClient, prefix: freshPrefix() });
    await borrowed.close();
    expect(await appClient.ping()).toBe('PONG');
    await appClient.quit();
  });

  it('rejects bad options with a ConfigError naming the path', () => {
    const attempt = (options: unknown) => {
      try {
        new RedisStore(options as ConstructorParameters<typeof RedisStore>[0]);
      } catch (error) {
        return error;
      }
      throw new Error('expected a ConfigError');
    };
    const notUrl = attempt({ url: 'http://localhost:6379' });
    expect(ConfigError.isInstance(notUrl)).toBe(true);
    expect((notUrl as ConfigError).message).toMatch(/options\.url.*redis:\/\//);
    expect(ConfigError.isInstance(attempt({ client: {} }))).toBe(true);
    expect(ConfigError.isInstance(attempt({ url: 'redis://localhost', prefx: 'typo' }))).toBe(true);
  });

  it('rejects values and numbers Redis cannot hold with an InvalidInputError, writing nothing', async () => {
    const prefix = freshPrefix();
    const store = new RedisStore({ client, prefix });
    await expect(store.set('u', undefined)).rejects.toSatisfy(InvalidInputError.isInstance);
    await expect(store.set('b', { big: 1n })).rejects.toThrow(/cannot be stored as JSON/);
    await expect(store.consume('c', Number.NaN, 5, 0)).rejects.toThrow(/amount must be a finite number/);
    await expect(store.consume('c', 1, -1, 0)).rejects.toThrow(/limit must be a number ≥ 0/);
    await expect(store.increment('i', Infinity)).rejects.toSatisfy(InvalidInputError.isInstance);
    expect(await client.keys(`${prefix}*`)).toEqual([]);
  });

  it('a TTL of 0 removes the value, as an already expired one', async () => {
    const store = new RedisStore({ client, prefix: freshPrefix() });
    await store.set('k', 'old');
    await store.set('k', 'new', { ttlMs: 0 });
    expect(await store.get('k')).toBeUndefined();
  });

  it('reports data it did not write as an UpstreamError that points at the prefix', async () => {
    const prefix = freshPrefix();
    const store = new RedisStore({ client, prefix });
    await client.set(`${prefix}value:raw`, 'not json');
    await expect(store.get('raw')).rejects.toThrow(/is not JSON.*prefix "test\d+:"/);
    await client.lpush(`${prefix}value:list`, 'x');
    const error = await store.increment('list', 1).catch((caught: unknown) => caught);
    expect(UpstreamError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'GATEHOUSE_UPSTREAM', target: 'redis', isRetryable: false });
    expect((error as Error).message).toMatch(/WRONGTYPE.*prefix/);
  });

  it('an unreachable server fails each call with a retryable UpstreamError that hides the password', async () => {
    const down = await startRedisServer();
    const url = `redis://:s3cret-pass@127.0.0.1:${down.port}`;
    await down.stop();
    const store = open(new RedisStore({ url, prefix: freshPrefix() }));
    const error = await store.consume('k', 1, 5, 0).catch((caught: unknown) => caught);
    expect(UpstreamError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ target: 'redis', isRetryable: true });
    const message = (error as Error).message;
    expect(message).toMatch(/consume of "k" failed: .*ECONNREFUSED/);
    expect(message).toContain(`Check that Redis is running and reachable at redis://:***@127.0.0.1:${down.port}`);
    expect(message).not.toContain('s3cret-pass');
    expect(JSON.stringify(error)).not.toContain('s3cret-pass');
  });

  it('a wrong password fails with an UpstreamError that says to check it, without the password', async () => {
    const guarded = await startRedisServer({ password: 'right-pass' });
    try {
      const store = open(
        new RedisStore({ url: `redis://:wrong-pass@127.0.0.1:${guarded.port}`, prefix: freshPrefix() }),
      );
      const error = await store.get('k').catch((caught: unknown) => caught);
      expect(UpstreamError.isInstance(error)).toBe(true);
      expect((error as Error).message).toMatch(/Check the password/);
      expect((error as Error).message).not.toContain('wrong-pass');
      const good = open(new RedisStore({ url: guarded.url, prefix: freshPrefix() }));
      await good.set('k', 'v');
      expect(await good.get('k')).toBe('v');
    } finally {
      await guarded.stop();
    }
  });

  it('startRedisServer fails (never skips) with an install hint when redis-server is missing', async () => {
    await expect(startRedisServer({ command: 'redis-server-not-installed' })).rejects.toThrow(
      /redis-server-not-installed` was not found on PATH.*apt-get install -y redis-server/,
    );
  });

  it('4 processes × 250 concurrent consumes against one limit grant exactly the limit', async () => {
    const input: ConsumeJobInput = {
      url: server.url,
      prefix: freshPrefix(),
      key: 'shared-limit',
      limit: 300,
      windowMs: 60_000,
      amounts: Array.from({ length: 250 }, () => 1),
    };
    const outputs = await runInProcesses<ConsumeJobInput, ConsumeJobOutput>({
      module: new URL('./multi-process/consume-job.ts', import.meta.url).href,
      name: 'consumeJob',
      inputs: [input, input, input, input],
    });
    const granted = outputs.reduce((sum, output) => sum + output.granted.length, 0);
    const refused = outputs.reduce((sum, output) => sum + output.refused, 0);
    expect(granted).toBe(300);
    expect(refused).toBe(700);
    const store = new RedisStore({ client, prefix: input.prefix });
    expect(await store.consume('shared-limit', 1, 300, 60_000)).toMatchObject({ allowed: false, remaining: 0 });
  });
});
