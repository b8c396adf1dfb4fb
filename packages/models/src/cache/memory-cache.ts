/** Where cached answers are kept: serialised entries by key, with a time to live. */
export interface CacheBackend {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
}

interface MemoryEntry {
  value: string;
  bytes: number;
  expiresAt: number;
}

/** Bounds of the in-process cache. */
export interface MemoryCacheOptions {
  maxEntries: number;
  maxBytes: number;
  now: () => number;
}

/**
 * An in-process LRU of serialised entries, bounded by a number of entries and by approximate bytes (the UTF-8
 * length of each entry's JSON). A read moves an entry to the most recent end; a write over a bound evicts the
 * least recent ones first. Expired entries go when read, or when evicted.
 */
export class MemoryCache implements CacheBackend {
  // A Map iterates in insertion order: the first key is the least recently used.
  readonly #entries = new Map<string, MemoryEntry>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #now: () => number;
  #bytes = 0;

  constructor(options: MemoryCacheOptions) {
    this.#maxEntries = options.maxEntries;
    this.#maxBytes = options.maxBytes;
    this.#now = options.now;
  }

  /** How many entries are held (expired ones included until read or evicted). */
  get size(): number {
    return this.#entries.size;
  }

  /** The approximate bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  get(key: string): Promise<string | undefined> {
    const entry = this.#entries.get(key);
    if (entry === undefined) return Promise.resolve(undefined);
    this.#entries.delete(key);
    if (entry.expiresAt <= this.#now()) {
      this.#bytes -= entry.bytes;
      return Promise.resolve(undefined);
    }
    this.#entries.set(key, entry);
    return Promise.resolve(entry.value);
  }

  set(key: string, value: string, ttlMs: number): Promise<void> {
    const bytes = Buffer.byteLength(value);
    const previous = this.#entries.get(key);
    if (previous) {
      this.#entries.delete(key);
      this.#bytes -= previous.bytes;
    }
    // An entry that alone exceeds the byte bound would empty the cache and still not fit.
    if (bytes > this.#maxBytes) return Promise.resolve();
    this.#entries.set(key, { value, bytes, expiresAt: this.#now() + ttlMs });
    this.#bytes += bytes;
    for (const [oldest, entry] of this.#entries) {
      if (this.#entries.size <= this.#maxEntries && this.#bytes <= this.#maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= entry.bytes;
    }
    return Promise.resolve();
  }
}
