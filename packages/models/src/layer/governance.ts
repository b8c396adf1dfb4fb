import { budgetMiddleware } from '../budget/index.js';
import { cacheMiddleware, type RouteCacheOptions } from '../cache/index.js';
import type { ModelMiddleware } from '../context/index.js';
import { costMiddleware, isCostMiddleware, PriceBook } from '../cost/index.js';
import type { ModelsOptions } from '../options/index.js';

/**
 * The governance middleware of `models({ guardrails, cache, budgets, costs, prices })`, in the order they run:
 * guardrails (input checks first, output checks on the final answer, cached or not) → cache (a hit is neither
 * counted nor charged) → budgets (reserve, then settle) → cost. One price book serves budgets and cost.
 */
export function governanceMiddleware(options: ModelsOptions): ModelMiddleware[] {
  const chain: ModelMiddleware[] = [...(options.guardrails ?? [])];
  const routeCache: Record<string, RouteCacheOptions> = {};
  for (const [name, route] of Object.entries(options.routes ?? {})) {
    if (route.cache) routeCache[name] = route.cache === true ? {} : route.cache;
  }
  const cachedRoutes = Object.keys(routeCache).length > 0;
  if (options.cache || cachedRoutes) {
    chain.push(
      cacheMiddleware({ ...options.cache, routes: options.cache?.routes ?? (cachedRoutes ? routeCache : undefined) }),
    );
  }
  // Costs are on by default, unless turned off or already in the user's own middleware (never counted twice).
  const costs = options.costs !== false && !(options.middleware ?? []).some(isCostMiddleware);
  const needPrices = options.budgets !== undefined || costs;
  const prices = needPrices ? new PriceBook(options.prices) : undefined;
  if (options.budgets !== undefined) {
    const budgets = Array.isArray(options.budgets) ? { limits: options.budgets } : options.budgets;
    chain.push(budgetMiddleware({ ...budgets, prices }));
  }
  if (costs) chain.push(costMiddleware({ ...(options.costs || undefined), prices }));
  return chain;
}
