import { describe, expect, it } from 'vitest';
import { MiddlewareError } from '../errors/index.js';
import { compose, type Middleware } from './index.js';

type Ctx = { trail: string[]; value: number };

describe('compose', () => {
  it('runs middleware in order around the handler, before and after next()', async () => {
    const mark =
      (name: string): Middleware<Ctx, string> =>
      async (ctx, next) => {
        ctx.trail.push(`${name}:before`);
        const result = await next();
        ctx.trail.push(`${name}:after`);
        return `${name}(${result})`;
      };
    const run = compose([mark('a'), mark('b'), mark('c')], async (ctx) => {
      ctx.trail.push('handler');
      return String(ctx.value);
    });
    const ctx: Ctx = { trail: [], value: 7 };
    await expect(run(ctx)).resolves.toBe('a(b(c(7)))');
    expect(ctx.trail).toEqual(['a:before', 'b:before', 'c:before', 'handler', 'c:after', 'b:after', 'a:after']);
  });

  it('lets a middleware answer without calling next (short-circuit)', async () => {
    let reached = false;
    const run = compose<Ctx, string>([async () => 'cached', async (_ctx, next) => next()], async () => {
      reached = true;
      return 'upstream';
    });
    await expect(run({ trail: [], value: 0 })).resolves.toBe('cached');
    expect(reached).toBe(false);
  });

  it('passes a replaced context to the rest of the chain', async () => {
    const run = compose<Ctx, number>(
      [
        async (ctx, next) => next({ ...ctx, value: ctx.value * 10 }),
        async (ctx, next) => next({ ...ctx, value: ctx.value + 1 }),
      ],
      async (ctx) => ctx.value,
    );
    await expect(run({ trail: [], value: 4 })).resolves.toBe(41);
  });

  it('rejects next() called twice with a MiddlewareError, for one and for many middleware', async () => {
    const twice: Middleware<Ctx, number> = async (_ctx, next) => {
      await next();
      return next();
    };
    for (const chain of [[twice], [async (_c: Ctx, next: () => Promise<number>) => next(), twice]]) {
      const run = compose(chain, async () => 1);
      const error = await run({ trail: [], value: 0 }).catch((e: unknown) => e);
      expect(MiddlewareError.isInstance(error)).toBe(true);
      expect((error as MiddlewareError).code).toBe('GATEHOUSE_MIDDLEWARE');
      expect((error as Error).message).toMatch(/next\(\) was called more than once/);
    }
  });

  it('lets an error thrown mid-chain reach the caller with its stack, and outer middleware see it', async () => {
    const seen: unknown[] = [];
    function failingMiddleware(): Promise<number> {
      throw new Error('boom in the middle');
    }
    const run = compose<Ctx, number>(
      [
        async (_ctx, next) => {
          try {
            return await next();
          } catch (error) {
            seen.push(error);
            throw error;
          }
        },
        async () => failingMiddleware(),
        async (_ctx, next) => next(),
      ],
      async () => 1,
    );
    const error = (await run({ trail: [], value: 0 }).catch((e: unknown) => e)) as Error;
    expect(error.message).toBe('boom in the middle');
    expect(error.stack).toContain('failingMiddleware');
    expect(seen).toEqual([error]);
  });

  it('turns a synchronous throw from a non-async middleware into a rejection', async () => {
    const sync = (() => {
      throw new TypeError('sync');
    }) as unknown as Middleware<Ctx, number>;
    await expect(compose([sync], async () => 1)({ trail: [], value: 0 })).rejects.toThrow('sync');
    await expect(compose([sync, sync], async () => 1)({ trail: [], value: 0 })).rejects.toThrow('sync');
  });

  it('takes the fast path with no middleware: the handler itself', () => {
    const handler = async () => 1;
    expect(compose([], handler)).toBe(handler);
  });

  it('refuses a middleware that is not a function', () => {
    expect(() => compose([42 as never], async () => 1)).toThrow(/middleware #0 is number/);
  });

  it('runs the chain independently for concurrent calls', async () => {
    const run = compose<Ctx, number>(
      [
        async (ctx, next) => {
          await new Promise((resolve) => setTimeout(resolve, ctx.value));
          return next();
        },
      ],
      async (ctx) => ctx.value,
    );
    const results = await Promise.all([5, 1, 3].map((value) => run({ trail: [], value })));
    expect(results).toEqual([5, 1, 3]);
  });
});
