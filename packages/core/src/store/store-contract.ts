import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from './index.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The behaviour every `Store` must share, as vitest suites: call it from a test file with a factory that
 * answers a fresh, empty store (for a shared server, a store with its own prefix). Each test closes its store.
 * TTLs here are tens of milliseconds; the checks wait well past them, so a slow machine only makes them slower.
 *
 * @example
 * storeContract('MemoryStore', () => new MemoryStore());
 */
export function storeContract(name: string, makeStore: () => Store | Promise<Store>): void {
  describe(`${name} (store contract)`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close?.();
    });

    it('gets, sets and deletes JSON values', async () => {
      const value = { team: 'risk', limits: [1, 2.5, null], nested: { ok: true, text: 'é "quoted"' } };
      await store.set('a', value);
      await store.set('n', 0);
      await store.set('s', '');
      expect(await store.get('a')).toEqual(value);
      expect(await store.get('n')).toBe(0);
      expect(await store.get('s')).toBe('');
      expect(await store.get('missing')).toBeUndefined();
      await store.set('a', 'replaced');
      expect(await store.get('a')).toBe('replaced');
      expect(await store.delete('a')).toBe(true);
      expect(await store.delete('a')).toBe(false);
      expect(await store.get('a')).toBeUndefined();
    });

    it('expires a value after its TTL and keeps one without', async () => {
      await store.set('short', 'gone soon', { ttlMs: 30 });
      await store.set('long', 'kept', { ttlMs: 60_000 });
      await store.set('forever', 'kept');
      await sleep(120);
      expect(await store.get('short')).toBeUndefined();
      expect(await store.get('long')).toBe('kept');
      expect(await store.get('forever')).toBe('kept');
      // Setting again without a TTL replaces the value and its expiry.
      await store.set('again', 1, { ttlMs: 30 });
      await store.set('again', 2);
      await sleep(120);
      expect(await store.get('again')).toBe(2);
    });

    it('consume grants within the limit, refuses past it without counting, and reports the window end', async () => {
      const before = Date.now();
      const first = await store.consume('k', 3, 5, 60_000);
      const after = Date.now();
      expect(first).toMatchObject({ allowed: true, remaining: 2 });
      expect(first.resetAt).toBeGreaterThanOrEqual(before + 60_000);
      expect(first.resetAt).toBeLessThanOrEqual(after + 60_000);
      expect(await store.consume('k', 3, 5, 60_000)).toEqual({ allowed: false, remaining: 2, resetAt: first.resetAt });
      expect(await store.consume('k', 2, 5, 60_000)).toEqual({ allowed: true, remaining: 0, resetAt: first.resetAt });
      expect(await store.consume('k', 1, 5, 60_000)).toEqual({ allowed: false, remaining: 0, resetAt: first.resetAt });
      expect(await store.consume('other', 1, 5, 60_000)).toMatchObject({ allowed: true, remaining: 4 });
    });

    it('consume starts a new window at the first call after the last one ended', async () => {
      const first = await store.consume('w', 5, 5, 40);
      expect(first.allowed).toBe(true);
      await sleep(120);
      const next = await store.consume('w', 5, 5, 40);
      expect(next).toMatchObject({ allowed: true, remaining: 0 });
      // The new window began at this call, after the first one had ended (timers may fire a millisecond early).
      expect(next.resetAt - 40).toBeGreaterThanOrEqual(first.resetAt);
    });

    it('consume keeps the window a refused first call started', async () => {
      const refused = await store.consume('big', 10, 5, 60_000);
      expect(refused).toMatchObject({ allowed: false, remaining: 5 });
      expect(await store.consume('big', 5, 5, 60_000)).toEqual({
        allowed: true,
        remaining: 0,
        resetAt: refused.resetAt,
      });
    });

    it('consume with no window (0 or Infinity) keeps a running total with resetAt Infinity', async () => {
      expect(await store.consume('total', 8, 10, 0)).toEqual({ allowed: true, remaining: 2, resetAt: Infinity });
      expect(await store.consume('total', 5, 10, 0)).toEqual({ allowed: false, remaining: 2, resetAt: Infinity });
      expect(await store.consume('forever', 1, 10, Infinity)).toEqual({
        allowed: true,
        remaining: 9,
        resetAt: Infinity,
      });
      expect(await store.consume('unlimited', 1e9, Infinity, 0)).toEqual({
        allowed: true,
        remaining: Infinity,
        resetAt: Infinity,
      });
    });

    it('a negative amount refunds, never below 0, even past the limit', async () => {
      await store.consume('budget', 8, 10, 60_000);
      expect(await store.consume('budget', -6, 10, 60_000)).toMatchObject({ allowed: true, remaining: 8 });
      expect((await store.consume('budget', 5, 10, 60_000)).allowed).toBe(true);
      expect(await store.consume('budget', -100, 10, 60_000)).toMatchObject({ allowed: true, remaining: 10 });
      expect(await store.consume('budget', 10, 10, 60_000)).toMatchObject({ allowed: true, remaining: 0 });
      expect(await store.consume('fresh', -3, 10, 0)).toEqual({ allowed: true, remaining: 10, resetAt: Infinity });
    });

    it('consume adds fractional amounts exactly as JavaScript does', async () => {
      await store.consume('dollars', 0.1, 1, 0);
      const result = await store.consume('dollars', 0.2, 1, 0);
      expect(result.remaining).toBe(1 - (0.1 + 0.2));
      expect((await store.consume('dollars', 0.71, 1, 0)).allowed).toBe(false);
      expect((await store.consume('dollars', 0.7, 1, 0)).allowed).toBe(0.1 + 0.2 + 0.7 <= 1);
    });

    it('counters and values under one key are separate, and delete removes both', async () => {
      await store.set('shared', 'value');
      await store.consume('shared', 4, 5, 0);
      expect(await store.get('shared')).toBe('value');
      expect(await store.delete('shared')).toBe(true);
      expect(await store.get('shared')).toBeUndefined();
      expect(await store.consume('shared', 5, 5, 0)).toMatchObject({ allowed: true, remaining: 0 });
    });

    it('consume under 1,000 concurrent calls never grants more than the limit', async () => {
      const results = await Promise.all(Array.from({ length: 1000 }, () => store.consume('hot', 1, 250, 60_000)));
      expect(results.filter((result) => result.allowed)).toHaveLength(250);
      expect(results.filter((result) => !result.allowed)).toHaveLength(750);
      const amounts = Array.from({ length: 1000 }, (_, i) => (i % 3) + 1);
      const mixed = await Promise.all(amounts.map((amount) => store.consume('mixed', amount, 500, 0)));
      const granted = mixed.reduce((sum, result, i) => sum + (result.allowed ? amounts[i]! : 0), 0);
      expect(granted).toBeLessThanOrEqual(500);
      // Once fewer than 3 units are left, only a smaller amount can still fit.
      expect(granted).toBeGreaterThanOrEqual(498);
    });

    it('increment adds atomically, with fractions, and answers the new value', async () => {
      const values = await Promise.all(Array.from({ length: 200 }, () => store.increment('cost', 0.5)));
      expect(Math.max(...values)).toBe(100);
      expect(new Set(values).size).toBe(200);
      expect(await store.get('cost')).toBe(100);
      expect(await store.increment('fraction', 0.1)).toBe(0.1);
      expect(await store.increment('fraction', 0.2)).toBe(0.1 + 0.2);
      expect(await store.increment('fraction', -0.3)).toBe(0.1 + 0.2 - 0.3);
    });

    it('increment sets the TTL when it creates the key, and a later increment does not extend it', async () => {
      expect(await store.increment('daily', 1, { ttlMs: 40 })).toBe(1);
      expect(await store.increment('daily', 2, { ttlMs: 60_000 })).toBe(3);
      await sleep(120);
      expect(await store.get('daily')).toBeUndefined();
      expect(await store.increment('daily', 1)).toBe(1);
    });

    it('increment builds on a number written by set, and counts anything else as 0', async () => {
      await store.set('spent', 2.5);
      expect(await store.increment('spent', 1)).toBe(3.5);
      await store.set('label', 'text');
      expect(await store.increment('label', 2)).toBe(2);
    });
    it('incrementFields adds to many fields at once, atomically, and getFields lists them', async () => {
      expect(await store.getFields('day')).toEqual({});
      await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          store.incrementFields('day', { total: 0.5, [`team:${i % 2 === 0 ? 'risk' : 'ops'}`]: 0.5 }),
        ),
      );
      expect(await store.getFields('day')).toEqual({ total: 100, 'team:risk': 50, 'team:ops': 50 });
      await store.incrementFields('fraction', { a: 0.1 });
      await store.incrementFields('fraction', { a: 0.2, b: -1 });
      expect(await store.getFields('fraction')).toEqual({ a: 0.1 + 0.2, b: -1 });
      // Nothing to add creates nothing.
      await store.incrementFields('empty', {});
      expect(await store.getFields('empty')).toEqual({});
    });

    it('incrementFields sets the TTL when it creates the map; maps, values and counters are separate', async () => {
      await store.incrementFields('month', { total: 1 }, { ttlMs: 40 });
      await store.incrementFields('month', { total: 2 }, { ttlMs: 60_000 });
      expect(await store.getFields('month')).toEqual({ total: 3 });
      await sleep(120);
      expect(await store.getFields('month')).toEqual({});
      await store.incrementFields('shared', { x: 1 });
      await store.set('shared', 'value');
      await store.consume('shared', 2, 5, 0);
      expect(await store.getFields('shared')).toEqual({ x: 1 });
      expect(await store.get('shared')).toBe('value');
      expect(await store.delete('shared')).toBe(true);
      expect(await store.getFields('shared')).toEqual({});
      expect(await store.get('shared')).toBeUndefined();
    });
  });
}
