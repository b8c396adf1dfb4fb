/** What `consume()` answers. */
export interface ConsumeResult {
  /** Whether the amount was granted (and counted). A refused amount is not counted. */
  allowed: boolean;
  /** What is left in the current window after this call (never below 0). */
  remaining: number;
  /** Epoch milliseconds when the current window ends; `Infinity` for a limit with no window. */
  resetAt: number;
}

export interface SetOptions {
  /** Time to live in milliseconds; absent: kept until deleted. */
  ttlMs?: number;
}

/**
 * Shared state for limits, budgets, caches, pins and sessions. Values are JSON-serialisable.
 * The memory store keeps state in this process; a Redis store (same interface, atomic scripts) shares it
 * across instances. Every method is atomic for its key.
 */
export interface Store {
  get<T = unknown>(key: string): Promise<T | undefined>;
  set<T = unknown>(key: string, value: T, options?: SetOptions): Promise<void>;
  /** Deletes a key; answers whether it existed. */
  delete(key: string): Promise<boolean>;
  /**
   * Atomically adds `amount` to a counter if the total stays within `limit` in a fixed window of `windowMs`
   * (0 or `Infinity`: no window, a running total). The window starts at the first consume after it ended.
   * A negative amount (a refund when settling a reservation) is always applied, never below 0.
   */
  consume(key: string, amount: number, limit: number, windowMs: number): Promise<ConsumeResult>;
  /**
   * Atomically adds `amount` to a number (created at 0) and answers the new value; for totals such as cost.
   * `ttlMs` is set when the key is created.
   */
  increment(key: string, amount: number, options?: SetOptions): Promise<number>;
  /**
   * Atomically adds each amount to its field of a numeric map (fields created at 0), all fields in one step;
   * for totals that must also be listed, such as cost per team (the field names are the index). `ttlMs` is set
   * when the map is created.
   */
  incrementFields(key: string, amounts: Readonly<Record<string, number>>, options?: SetOptions): Promise<void>;
  /** Every field of a map written by `incrementFields`, with its value; `{}` when there is none. */
  getFields(key: string): Promise<Record<string, number>>;
  /** Releases connections and timers. */
  close?(): Promise<void>;
}

interface Entry {
  value: unknown;
  expiresAt: number;
}

interface Fields {
  values: Map<string, number>;
  expiresAt: number;
}

interface Counter {
  used: number;
  resetAt: number;
}

/** Sweep expired keys once every this many writes, so memory stays bounded without a timer. */
const sweepEvery = 1024;

/**
 * The in-memory store: the default. Atomic within one process because each method runs synchronously
 * before answering.
 */
export class MemoryStore implements Store {
  readonly #entries = new Map<string, Entry>();
  readonly #counters = new Map<string, Counter>();
  readonly #fields = new Map<string, Fields>();
  #writes = 0;
  readonly #now: () => number;
  /** Whether the store reads `Date.now` (no `now` of its own): a caller on the same clock may hand it the time. */
  readonly systemClock: boolean;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
    this.systemClock = options.now === undefined || options.now === Date.now;
  }

  /** How many keys are held (values and counters), expired ones included until swept. */
  get size(): number {
    return this.#entries.size + this.#counters.size + this.#fields.size;
  }

  get<T = unknown>(key: string): Promise<T | undefined> {
    return Promise.resolve(this.getSync<T>(key));
  }

  /** Synchronous read, for hot paths inside this process. */
  getSync<T = unknown>(key: string): T | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value as T;
  }

  set<T = unknown>(key: string, value: T, options?: SetOptions): Promise<void> {
    this.#entries.set(key, { value, expiresAt: expiry(this.#now(), options?.ttlMs) });
    this.#wrote();
    return Promise.resolve();
  }

  delete(key: string): Promise<boolean> {
    const had = this.#entries.delete(key);
    const hadCounter = this.#counters.delete(key);
    const hadFields = this.#fields.delete(key);
    return Promise.resolve(had || hadCounter || hadFields);
  }

  consume(key: string, amount: number, limit: number, windowMs: number): Promise<ConsumeResult> {
    return Promise.resolve(this.consumeSync(key, amount, limit, windowMs));
  }

  /**
   * Synchronous `consume`, for hot paths inside this process. `now`: the time, when the caller has just read
   * `Date.now()` itself and the store is on that clock (`systemClock`).
   */
  consumeSync(key: string, amount: number, limit: number, windowMs: number, now = this.#now()): ConsumeResult {
    let counter = this.#counters.get(key);
    if (counter === undefined || counter.resetAt <= now) {
      counter = { used: 0, resetAt: windowMs > 0 && Number.isFinite(windowMs) ? now + windowMs : Infinity };
      this.#counters.set(key, counter);
      this.#wrote();
    }
    if (amount < 0) {
      counter.used = Math.max(0, counter.used + amount);
      return { allowed: true, remaining: Math.max(0, limit - counter.used), resetAt: counter.resetAt };
    }
    if (counter.used + amount > limit) {
      return { allowed: false, remaining: Math.max(0, limit - counter.used), resetAt: counter.resetAt };
    }
    counter.used += amount;
    return { allowed: true, remaining: limit - counter.used, resetAt: counter.resetAt };
  }

  increment(key: string, amount: number, options?: SetOptions): Promise<number> {
    const now = this.#now();
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.expiresAt <= now) {
      this.#entries.set(key, { value: amount, expiresAt: expiry(now, options?.ttlMs) });
      this.#wrote();
      return Promise.resolve(amount);
    }
    const value = (typeof entry.value === 'number' ? entry.value : 0) + amount;
    entry.value = value;
    return Promise.resolve(value);
  }

  incrementFields(key: string, amounts: Readonly<Record<string, number>>, options?: SetOptions): Promise<void> {
    this.incrementFieldsSync(key, amounts, options);
    return Promise.resolve();
  }

  /** Synchronous `incrementFields`, for hot paths inside this process. */
  incrementFieldsSync(key: string, amounts: Readonly<Record<string, number>>, options?: SetOptions): void {
    let any = false;
    for (const _ in amounts) {
      any = true;
      break;
    }
    // As in Redis, nothing to add creates nothing.
    if (!any) return;
    const now = this.#now();
    let fields = this.#fields.get(key);
    if (fields === undefined || fields.expiresAt <= now) {
      fields = { values: new Map(), expiresAt: expiry(now, options?.ttlMs) };
      this.#fields.set(key, fields);
      this.#wrote();
    }
    const values = fields.values;
    for (const field in amounts) values.set(field, (values.get(field) ?? 0) + amounts[field]!);
  }

  getFields(key: string): Promise<Record<string, number>> {
    const fields = this.#fields.get(key);
    const result: Record<string, number> = {};
    if (fields === undefined) return Promise.resolve(result);
    if (fields.expiresAt <= this.#now()) {
      this.#fields.delete(key);
      return Promise.resolve(result);
    }
    for (const [field, value] of fields.values) result[field] = value;
    return Promise.resolve(result);
  }

  close(): Promise<void> {
    this.#entries.clear();
    this.#counters.clear();
    this.#fields.clear();
    return Promise.resolve();
  }

  #wrote(): void {
    if (++this.#writes % sweepEvery !== 0) return;
    const now = this.#now();
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
    for (const [key, counter] of this.#counters) if (counter.resetAt <= now) this.#counters.delete(key);
    for (const [key, fields] of this.#fields) if (fields.expiresAt <= now) this.#fields.delete(key);
  }
}

function expiry(now: number, ttlMs: number | undefined): number {
  return ttlMs === undefined ? Infinity : now + ttlMs;
}

/** Whether a value has the shape of a `Store`; used to validate options. */
export function isStore(value: unknown): value is Store {
  if (typeof value !== 'object' || value === null) return false;
  const store = value as Record<string, unknown>;
  return ['get', 'set', 'delete', 'consume', 'increment', 'incrementFields', 'getFields'].every(
    (name) => typeof store[name] === 'function',
  );
}
