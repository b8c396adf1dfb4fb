import { compose, type Middleware } from '@gatehouse/core';
import { measure, type Sample } from './measure.js';

/** Compose of 8 no-op middleware against the bare handler: ns per call. */
export async function composeBench(): Promise<Sample[]> {
  const noop: Middleware<{ n: number }, number> = (_ctx, next) => next();
  const handler = async (ctx: { n: number }) => ctx.n;
  const eight = compose(
    Array.from({ length: 8 }, () => noop),
    handler,
  );
  const one = compose([noop], handler);
  const ctx = { n: 1 };
  return [
    await measure('handler alone (baseline)', () => handler(ctx)),
    await measure('compose: 1 no-op middleware', () => one(ctx)),
    await measure('compose: 8 no-op middleware', () => eight(ctx)),
  ];
}
