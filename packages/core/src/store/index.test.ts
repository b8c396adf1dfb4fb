import { describe, expect, it } from 'vitest';
import { MemoryStore } from './index.js';
import { storeContract } from './store-contract.js';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('MemoryStore', () => {
  it('gets, sets and deletes, and expires by TTL', async () => {
    const time = clock();
    const store = new MemoryStore({ now: time.now });
    await store.set('a', { n: 1 });
    await store.set('b', 'short', { ttlMs: 100 });
    expect(await store.get('a')).toEqual({ n: 1 });
    expect(await store.get('b')).toBe('short');
    time.advance(100);
    expect(await store.get('b')).toBeUndefined();
    expect(await store.delete('a')).toBe(true);
    expect(await store.delete('a')).toBe(false);
    expect(await store.get('a')).toBeUndefined();
  });

  it('consume grants within the limit, refuses past it without counting, and resets with the window', async () => {
    const time = clock();
    const store = new MemoryStore({ now: time.now });
    expect(await store.consume('k', 3, 5, 1000)).toEqual({ allowed: true, remaining: 2, resetAt: 1_001_000 });
    expect(await store.consume('k', 3, 5, 1000)).toEqual({ allowed: false, remaining: 2, resetAt: 1_001_000 });
    expect(await store.consume('k', 2, 5, 1000)).toEqual({ allowed: true, remaining: 0, resetAt: 1_001_000 });
    time.advance(1000);
    expect(await store.consume('k', 5, 5, 1000)).toEqual({ allowed: true, remaining: 0, resetAt: 1_002_000 });
  });

  it('consumeSync counts its window from the time it is handed, and tells whether it reads the system clock', () => {
    const time = clock();
    const store = new MemoryStore({ now: time.now });
    expect(store.systemClock).toBe(false);
    expect(new MemoryStore().systemClock).toBe(true);
    expect(store.consumeSync('k', 1, 5, 1000, 5_000_000)).toEqual({ allowed: true, remaining: 4, resetAt: 5_001_000 });
    // Without a time, the store's own clock: the window set above has not ended by it.
    expect(store.consumeSync('k', 1, 5, 1000).resetAt).toBe(5_001_000);
    expect(store.consumeSync('k', 1, 5, 1000, 5_001_000)).toEqual({ allowed: true, remaining: 4, resetAt: 5_002_000 });
  });

  it('consume with no window keeps a running total, and a negative amount refunds', async () => {
    const store = new MemoryStore();
    expect((await store.consume('total', 8, 10, 0)).resetAt).toBe(Infinity);
    expect((await store.consume('total', 5, 10, 0)).allowed).toBe(false);
    expect(await store.consume('total', -6, 10, 0)).toMatchObject({ allowed: true, remaining: 8 });
    expect((await store.consume('total', 5, 10, 0)).allowed).toBe(true);
    expect(await store.consume('total', -100, 10, 0)).toMatchObject({ remaining: 10 });
  });

  it('consume under 1,000 concurrent calls never grants more than the limit', async () => {
    const store = new MemoryStore();
    const results = await Promise.all(Array.from({ length: 1000 }, () => store.consume('hot', 1, 250, 60_000)));
    expect(results.filter((result) => result.allowed)).toHaveLength(250);
    expect(results.filter((result) => !result.allowed)).toHaveLength(750);
    const mixed = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => store.consume('mixed', (i % 3) + 1, 500, 0)),
    );
    const granted = mixed.reduce((sum, result, i) => sum + (result.allowed ? (i % 3) + 1 : 0), 0);
    expect(granted).toBeLessThanOrEqual(500);
    expect(granted).toBeGreaterThanOrEqual(498);
  });

  it('increment adds atomically and sets the TTL on creation', async () => {
    const time = clock();
    const store = new MemoryStore({ now: time.now });
    const values = await Promise.all(Array.from({ length: 100 }, () => store.increment('cost', 0.5, { ttlMs: 50 })));
    expect(Math.max(...values)).toBe(50);
    expect(await store.get('cost')).toBe(50);
    time.advance(50);
    expect(await store.get('cost')).toBeUndefined();
    expect(await store.increment('cost', 1)).toBe(1);
  });

  it('sweeps expired keys so memory stays bounded', async () => {
    const time = clock();
    const store = new MemoryStore({ now: time.now });
    for (let i = 0; i < 1000; i++) await store.set(`old:${i}`, i, { ttlMs: 10 });
    time.advance(10);
    for (let i = 0; i < 100; i++) await store.set(`new:${i}`, i);
    expect(store.size).toBe(100);
  });
});

storeContract('MemoryStore', () => new MemoryStore());
