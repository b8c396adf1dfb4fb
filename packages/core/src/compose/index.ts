import { MiddlewareError } from '../errors/index.js';

/**
 * Calls the rest of the chain. Pass a context to replace the current one for the middleware after this one;
 * call it at most once.
 */
export type Next<Context, Result> = (context?: Context) => Promise<Result>;

/**
 * A middleware: change the context before `next()`, the result after it, or answer without calling `next()`
 * (a cache hit, a denial). Returning `Promise<Result>` makes a forgotten `return next()` a type error.
 */
export type Middleware<Context, Result> = (context: Context, next: Next<Context, Result>) => Promise<Result>;

/** The innermost handler: what the chain wraps (the upstream call). */
export type Handler<Context, Result> = (context: Context) => Promise<Result>;

function twice(index: number): MiddlewareError {
  return new MiddlewareError({
    message: `next() was called more than once by middleware #${index}; call it once and return its result`,
  });
}

/**
 * Composes middleware around a handler. The first middleware sees the request first and the result last.
 * Zero middleware returns the handler itself; one middleware skips the dispatch machinery.
 *
 * @example
 * const run = compose([logMiddleware, retryMiddleware()], (ctx) => callUpstream(ctx));
 * await run(ctx);
 */
export function compose<Context, Result>(
  middleware: readonly Middleware<Context, Result>[],
  handler: Handler<Context, Result>,
): Handler<Context, Result> {
  const chain = middleware.slice();
  for (const [index, fn] of chain.entries()) {
    if (typeof fn !== 'function') {
      throw new MiddlewareError({ message: `middleware #${index} is ${typeof fn}, expected a function (ctx, next)` });
    }
  }
  if (chain.length === 0) return handler;
  if (chain.length === 1) {
    const only = chain[0]!;
    return (context) => {
      let called = false;
      try {
        return only(context, (next) => {
          if (called) return Promise.reject(twice(0));
          called = true;
          return handler(next ?? context);
        });
      } catch (error) {
        return Promise.reject(error);
      }
    };
  }
  const last = chain.length;
  // Made once per chain, not per call: a call only allocates its progress and one `next` per middleware.
  const dispatch = (progress: { reached: number }, index: number, current: Context): Promise<Result> => {
    progress.reached = index;
    if (index === last) return handler(current);
    const fn = chain[index]!;
    try {
      return fn(current, (next) => {
        if (progress.reached > index) return Promise.reject(twice(index));
        return dispatch(progress, index + 1, next ?? current);
      });
    } catch (error) {
      return Promise.reject(error);
    }
  };
  return (context) => dispatch({ reached: -1 }, 0, context);
}
