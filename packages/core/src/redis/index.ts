import { Redis, type RedisOptions } from 'ioredis';
import { z } from 'zod';
import { ConfigError, InvalidInputError, UpstreamError } from '../errors/index.js';
import { parseOptions } from '../gateway/index.js';
import type { ConsumeResult, SetOptions, Store } from '../store/index.js';
import { consumeScript, incrementFieldsScript, incrementScript, type LuaScript } from './scripts.js';

/** Options of `new RedisStore()`: a client the app owns, or a URL the store connects to itself. */
export type RedisStoreOptions =
  | {
      /** An ioredis client the app owns; `close()` leaves it open. */
      client: Redis;
      /** Put before every key; default `gatehouse:`. */
      prefix?: string;
    }
  | {
      /** `redis://[:password@]host[:port][/db]` or `rediss://…`; the store creates and closes its client. */
      url: string;
      /** Extra ioredis options for the client the store creates. */
      redisOptions?: RedisOptions;
      prefix?: string;
    };

const optionsSchema = z.union([
  z.strictObject({
    client: z.custom<Redis>(
      (value) =>
        typeof value === 'object' &&
        value !== null &&
        typeof (value as Redis).evalsha === 'function' &&
        typeof (value as Redis).get === 'function',
      'expected an ioredis client (new Redis(url))',
    ),
    prefix: z.string().optional(),
  }),
  z.strictObject({
    url: z.string().regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL'),
    redisOptions: z.record(z.string(), z.unknown()).optional(),
    prefix: z.string().optional(),
  }),
]);

/**
 * A `Store` in Redis, so budgets, rate limits, caches, pins and sessions hold across every instance of an
 * app. Values are JSON; `consume` and `increment` are Lua scripts (atomic in Redis, timed by the Redis
 * server's clock). Needs Redis 6 or later and `ioredis` 5 or later; import it from `@gatehouse/core/redis`.
 * A single Redis (or a primary with replicas) is supported, not Redis Cluster.
 *
 * @example
 * import { Redis } from 'ioredis';
 * import { RedisStore } from '@gatehouse/core/redis';
 * const store = new RedisStore({ client: new Redis(process.env.REDIS_URL), prefix: 'gatehouse:' });
 * const gateway = createGateway({ store, models: models({ … }) });
 */
export class RedisStore implements Store {
  readonly #client: Redis;
  readonly #ownsClient: boolean;
  readonly #prefix: string;
  /** Where the server is, for error messages; never with a password. */
  readonly #where: string;
  readonly #password: string | undefined;
  /** The last connection failure of a client the store owns; ioredis reports only "max retries" per command. */
  #connectionError: string | undefined;

  constructor(options: RedisStoreOptions) {
    const parsed = parseOptions(optionsSchema, options, 'options') as RedisStoreOptions;
    this.#prefix = parsed.prefix ?? 'gatehouse:';
    if ('client' in parsed) {
      this.#client = parsed.client;
      this.#ownsClient = false;
      const { host, port, path, password } = parsed.client.options ?? {};
      this.#where = path ? String(path) : `${host ?? 'localhost'}:${port ?? 6379}`;
      this.#password = password || undefined;
    } else {
      const url = parseUrl(parsed.url);
      this.#where = url.safe;
      this.#password = url.password;
      // Fail a command after a few reconnect attempts (about 0.3 s) rather than ioredis's default 20, so a
      // down Redis surfaces as an error instead of a hung request.
      this.#client = new Redis(parsed.url, { maxRetriesPerRequest: 3, ...parsed.redisOptions });
      this.#ownsClient = true;
      // Errors are reported per command; without a listener ioredis would log each reconnect failure.
      this.#client.on('error', (error: Error) => {
        this.#connectionError = error.message;
      });
      this.#client.on('ready', () => {
        this.#connectionError = undefined;
      });
    }
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    const raw = await this.#call('get', key, () => this.#client.get(this.#valueKey(key)));
    if (raw === null) return undefined;
    try {
      return JSON.parse(raw) as T;
    } catch (error) {
      throw new UpstreamError({
        message: `Redis store: the value at "${this.#valueKey(key)}" is not JSON, so Gatehouse did not write it. Check that no other program writes under the prefix "${this.#prefix}".`,
        target: 'redis',
        cause: error,
      });
    }
  }

  async set<T = unknown>(key: string, value: T, options?: SetOptions): Promise<void> {
    const serialised = serialise(key, value);
    const ttlMs = checkTtl(options?.ttlMs);
    const valueKey = this.#valueKey(key);
    // A TTL of 0 or less means already expired, as in the memory store: the old value goes too.
    if (ttlMs !== undefined && ttlMs <= 0) {
      await this.#call('set', key, () => this.#client.del(valueKey));
      return;
    }
    await this.#call('set', key, () =>
      ttlMs === undefined || ttlMs === Infinity
        ? this.#client.set(valueKey, serialised)
        : this.#client.set(valueKey, serialised, 'PX', Math.ceil(ttlMs)),
    );
  }

  async delete(key: string): Promise<boolean> {
    const removed = await this.#call('delete', key, () =>
      this.#client.del(this.#valueKey(key), this.#counterKey(key), this.#fieldsKey(key)),
    );
    return removed > 0;
  }

  async consume(key: string, amount: number, limit: number, windowMs: number): Promise<ConsumeResult> {
    checkNumber('amount', amount, { finite: true });
    checkNumber('limit', limit, { nonNegative: true });
    checkNumber('windowMs', windowMs, { nonNegative: true });
    const reply = (await this.#script('consume', key, consumeScript, this.#counterKey(key), [
      String(amount),
      limit === Infinity ? 'inf' : String(limit),
      Number.isFinite(windowMs) ? String(windowMs) : '0',
    ])) as [number, string, string];
    const resetAt = Number(reply[2]);
    return {
      allowed: reply[0] === 1,
      remaining: reply[1] === 'inf' ? Infinity : Number(reply[1]),
      resetAt: resetAt === 0 ? Infinity : resetAt,
    };
  }

  async increment(key: string, amount: number, options?: SetOptions): Promise<number> {
    checkNumber('amount', amount, { finite: true });
    const ttlMs = checkTtl(options?.ttlMs);
    const ttl = ttlMs === undefined || ttlMs === Infinity ? '0' : String(Math.max(1, Math.ceil(ttlMs)));
    const reply = await this.#script('increment', key, incrementScript, this.#valueKey(key), [String(amount), ttl]);
    return Number(reply);
  }

  async incrementFields(key: string, amounts: Readonly<Record<string, number>>, options?: SetOptions): Promise<void> {
    const ttlMs = checkTtl(options?.ttlMs);
    const args = [ttlMs === undefined || ttlMs === Infinity ? '0' : String(Math.max(1, Math.ceil(ttlMs)))];
    for (const field in amounts) {
      const amount = amounts[field]!;
      checkNumber(`amount of "${field}"`, amount, { finite: true });
      args.push(field, String(amount));
    }
    if (args.length === 1) return;
    await this.#script('incrementFields', key, incrementFieldsScript, this.#fieldsKey(key), args);
  }

  async getFields(key: string): Promise<Record<string, number>> {
    const raw = await this.#call('getFields', key, () => this.#client.hgetall(this.#fieldsKey(key)));
    const result: Record<string, number> = {};
    for (const field in raw) result[field] = Number(raw[field]);
    return result;
  }

  /** Quits the client when the store created it from a URL; a client the app passed in stays open. */
  async close(): Promise<void> {
    if (!this.#ownsClient) return;
    if (this.#client.status === 'end') return;
    // QUIT waits for the server's reply; on a connection that is going away that reply may never come, and a
    // promise with nothing behind it would leave the caller hanging. Disconnect after a second either way.
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 1_000);
      timer.unref();
    });
    try {
      await Promise.race([this.#client.quit(), gaveUp]);
    } catch {
      // Already disconnected: nothing to release.
    } finally {
      clearTimeout(timer);
      if ((this.#client.status as string) !== 'end') this.#client.disconnect();
    }
  }

  #valueKey(key: string): string {
    return `${this.#prefix}value:${key}`;
  }

  /** Maps of fields (`incrementFields`) live apart from values and counters, as in memory. */
  #fieldsKey(key: string): string {
    return `${this.#prefix}fields:${key}`;
  }

  /** Counters live apart from values, so `get`/`set` and `consume` on one key never collide (as in memory). */
  #counterKey(key: string): string {
    return `${this.#prefix}counter:${key}`;
  }

  /** `EVALSHA`, falling back to `EVAL` (which also caches the script) when the server has not seen it. */
  #script(operation: string, key: string, script: LuaScript, redisKey: string, args: string[]): Promise<unknown> {
    return this.#call(operation, key, async () => {
      try {
        return await this.#client.evalsha(script.sha, 1, redisKey, ...args);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return await this.#client.eval(script.source, 1, redisKey, ...args);
      }
    });
  }

  async #call<T>(operation: string, key: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw this.#error(operation, key, error);
    }
  }

  #error(operation: string, key: string, error: unknown): UpstreamError {
    let reason = (error instanceof Error ? error.message : String(error)).replace(/\.$/, '');
    if (this.#connectionError !== undefined && /max retries/i.test(reason))
      reason += ` (last connection error: ${this.#connectionError.replace(/\.$/, '')})`;
    if (this.#password) reason = reason.split(this.#password).join('***');
    const { hint, isRetryable } = explain(reason, this.#where, this.#prefix);
    return new UpstreamError({
      message: `Redis store: ${operation} of "${key}" failed: ${reason}. ${hint}`,
      target: 'redis',
      isRetryable,
      cause: error,
    });
  }
}

function explain(reason: string, where: string, prefix: string): { hint: string; isRetryable: boolean } {
  if (/NOAUTH|WRONGPASS|invalid password|invalid username-password/i.test(reason))
    return {
      hint: `Check the password (or ACL user) in the Redis URL or client options for ${where}.`,
      isRetryable: false,
    };
  if (/NOPERM/.test(reason))
    return {
      hint: `Check the ACL of the Redis user at ${where}: the store needs GET, SET, DEL, HGETALL, EVAL, EVALSHA and TIME.`,
      isRetryable: false,
    };
  if (/WRONGTYPE/.test(reason))
    return {
      hint: `The key holds data Gatehouse did not write; check that no other program writes under the prefix "${prefix}".`,
      isRetryable: false,
    };
  if (/READONLY|LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN/.test(reason))
    return {
      hint: `Redis at ${where} is not accepting writes right now; check its state and failover.`,
      isRetryable: true,
    };
  return {
    hint: `Check that Redis is running and reachable at ${where}, and that the store has not been closed.`,
    isRetryable: true,
  };
}

function parseUrl(raw: string): { safe: string; password: string | undefined } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError({ message: 'Invalid options: options.url: not a valid URL', path: 'options.url' });
  }
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  if (url.password) url.password = '***';
  return { safe: url.toString(), password };
}

function serialise(key: string, value: unknown): string {
  let serialised: string | undefined;
  try {
    serialised = JSON.stringify(value);
  } catch (error) {
    throw new InvalidInputError({
      message: `Redis store: the value for "${key}" cannot be stored as JSON (${(error as Error).message}); store plain data.`,
      cause: error,
    });
  }
  if (serialised === undefined)
    throw new InvalidInputError({
      message: `Redis store: the value for "${key}" is ${typeof value}, which JSON cannot carry; store plain data or delete the key.`,
    });
  return serialised;
}

function checkTtl(ttlMs: number | undefined): number | undefined {
  if (ttlMs !== undefined) checkNumber('ttlMs', ttlMs, {});
  return ttlMs;
}

function checkNumber(name: string, value: number, rules: { finite?: boolean; nonNegative?: boolean }): void {
  const bad =
    typeof value !== 'number' ||
    Number.isNaN(value) ||
    (rules.finite && !Number.isFinite(value)) ||
    (rules.nonNegative && value < 0);
  if (!bad) return;
  const expected = rules.finite ? 'a finite number' : rules.nonNegative ? 'a number ≥ 0 (or Infinity)' : 'a number';
  throw new InvalidInputError({ message: `Redis store: ${name} must be ${expected}, got ${String(value)}` });
}
