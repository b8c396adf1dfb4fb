import { parseOptions } from '@gatehouse/core';
import { z } from 'zod';
import type { BudgetOptions, LimitOptions } from '../budget/index.js';
import type { CacheOptions } from '../cache/index.js';
import type { ModelApi, ModelContext, ModelMiddleware, ProviderKind, RouteInfo, TargetInfo } from '../context/index.js';
import type { CostOptions, PriceOverrides } from '../cost/index.js';

/** Tells an OpenAI client from an Anthropic one by shape, so neither SDK has to be installed for the other. */
export function providerKind(client: unknown): ProviderKind | undefined {
  if (typeof client !== 'object' || client === null) return undefined;
  const candidate = client as { chat?: { completions?: { create?: unknown } }; messages?: { create?: unknown } };
  if (typeof candidate.chat?.completions?.create === 'function') return 'openai';
  if (typeof candidate.messages?.create === 'function') return 'anthropic';
  return undefined;
}

/** One target of a route. */
export interface TargetOptions {
  /** A key of `providers`. */
  provider: string;
  /** The provider's model name. */
  model: string;
  /** Request parameters that override the caller's for this target, e.g. `{ max_tokens: 1024 }`. */
  parameters?: Record<string, unknown>;
  /** For the `weighted` strategy: relative share of calls (> 0). Default 1. */
  weight?: number;
  /** Overrides the layer's `timeout.ms` (and first-token timeout) for this target. */
  timeoutMs?: number;
}

/** Who a `conditional` rule applies to: every field given must hold (tags: all present; metadata: equal). */
export interface RuleMatch {
  team?: string;
  user?: string;
  agent?: string;
  tags?: string[];
  metadata?: Record<string, string | number | boolean>;
}

export interface RuleOptions {
  /** A match on the scope's principal and metadata, or a function of the call's context. */
  when: RuleMatch | ((context: ModelContext) => boolean);
  targets: TargetOptions[];
}

/** A model alias: `model: '<route name>'` in a call goes through this route. */
export interface RouteOptions {
  /**
   * `fallback` (default): targets in order. `weighted`: one at random by weight, then the others.
   * `least-latency`: lowest moving average of successful latency first. `conditional`: the targets of the first
   * rule whose `when` holds, else `targets`.
   */
  strategy?: 'fallback' | 'weighted' | 'least-latency' | 'conditional';
  targets: TargetOptions[];
  /** For `conditional`: tried in order. */
  rules?: RuleOptions[];
  /** Serve exact repeats of a call from the response cache (`true`, or with this route's own TTL). */
  cache?: boolean | { ttlMs?: number };
}

export interface RetryOptions {
  /** Retries per target after the first attempt. Default 2. */
  retries?: number;
  /** Milliseconds before the first retry. Default 500. */
  minTimeout?: number;
  /** Upper bound of one backoff, in milliseconds. Default 8000. */
  maxTimeout?: number;
  /** Exponential factor. Default 2. */
  factor?: number;
  /** A `retry-after` longer than this moves on to the next target instead of waiting. Default 30000. */
  maxRetryAfterMs?: number;
}

export interface TimeoutOptions {
  /** Milliseconds an attempt may take (a complete answer). Default 60000. */
  ms?: number;
  /** For a stream: milliseconds until the first content arrives. Default: `ms`. */
  firstTokenMs?: number;
}

export interface CircuitBreakerOptions {
  /** Consecutive failures (retryable ones: 408, 409, 429, 5xx, connection, timeout) that open it. Default 5. */
  failureThreshold?: number;
  /** Milliseconds a target cools down before one probe call is let through. Default 30000. */
  cooldownMs?: number;
}

export interface ModelsOptions {
  /** The app's own SDK clients, by name: `{ openai: new OpenAI(), anthropic: new Anthropic() }`. */
  providers?: Record<string, object>;
  routes?: Record<string, RouteOptions>;
  /**
   * Retries of a route's target (routes only). The gateway then sends `maxRetries: 0` to the provider client, so
   * retries never multiply. `false` turns the gateway's retries off and leaves them to each SDK client.
   */
  retry?: RetryOptions | false;
  /** Timeout of each attempt at a route's target; `false` turns it off. */
  timeout?: TimeoutOptions | false;
  /** Cooldown of a route's target that keeps failing; `false` turns it off. */
  circuitBreaker?: CircuitBreakerOptions | false;
  /**
   * Guardrails (`piiGuardrail()`, `secretGuardrail()`, `regexGuardrail()`, `schemaGuardrail()`,
   * `customGuardrail()`, `judgeGuardrail()`), run in order right after telemetry: input checks before anything
   * else sees the request, output checks on the final answer (cached answers included).
   */
  guardrails?: ModelMiddleware[];
  /**
   * The response cache. Off unless given here or a route sets `cache`; with neither `cache.routes` nor per-route
   * settings, every call is cached.
   */
  cache?: CacheOptions;
  /** Budgets and rate limits, checked (and reserved) before a call and settled with its actual usage. */
  budgets?: LimitOptions[] | Omit<BudgetOptions, 'prices'>;
  /** Cost of every call from the price table, totals per team, user, agent, route and model. `false`: off. */
  costs?: Omit<CostOptions, 'prices'> | false;
  /** Your prices over the built-in table (a self-hosted model, a negotiated rate), shared by costs and budgets. */
  prices?: PriceOverrides;
  /** Your middleware, run for every call after the governance middleware and before routing, in order. */
  middleware?: ModelMiddleware[];
}

const client = z.custom<object>((value) => providerKind(value) !== undefined, {
  message: 'expected an OpenAI or Anthropic client, e.g. new OpenAI({ apiKey })',
});

const targetSchema = z.strictObject({
  provider: z.string().min(1),
  model: z.string().min(1),
  parameters: z.record(z.string(), z.unknown()).optional(),
  weight: z.number().positive().finite().optional(),
  timeoutMs: z.number().int().positive().optional(),
});

const targetsSchema = z.array(targetSchema).min(1, { message: 'a route needs at least one target' });

const matchSchema = z.strictObject({
  team: z.string().min(1).optional(),
  user: z.string().min(1).optional(),
  agent: z.string().min(1).optional(),
  tags: z.array(z.string()).optional(),
  metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});

const ruleSchema = z.strictObject({
  when: z.union([
    matchSchema,
    z.custom<(context: ModelContext) => boolean>((value) => typeof value === 'function', {
      message: 'expected a match object or a function (ctx) => boolean',
    }),
  ]),
  targets: targetsSchema,
});

const routeSchema = z
  .strictObject({
    strategy: z.enum(['fallback', 'weighted', 'least-latency', 'conditional']).optional(),
    targets: targetsSchema,
    rules: z.array(ruleSchema).optional(),
    cache: z.union([z.boolean(), z.strictObject({ ttlMs: z.number().int().positive().optional() })]).optional(),
  })
  .superRefine((route, context) => {
    if (route.strategy === 'conditional' && !route.rules?.length)
      context.addIssue({ code: 'custom', path: ['rules'], message: 'a conditional route needs at least one rule' });
    if (route.strategy !== 'conditional' && route.rules)
      context.addIssue({ code: 'custom', path: ['rules'], message: 'rules apply only to strategy "conditional"' });
  });

const middlewareList = z.array(
  z.custom<ModelMiddleware>((value) => typeof value === 'function', {
    message: 'expected a middleware function (ctx, next) => Promise<result>',
  }),
);

const optionsSchema = z
  .strictObject({
    providers: z.record(z.string().min(1), client).optional(),
    routes: z.record(z.string().min(1), routeSchema).optional(),
    retry: z
      .union([
        z.literal(false),
        z.strictObject({
          retries: z.number().int().min(0).optional(),
          minTimeout: z.number().min(0).optional(),
          maxTimeout: z.number().min(0).optional(),
          factor: z.number().min(1).optional(),
          maxRetryAfterMs: z.number().min(0).optional(),
        }),
      ])
      .optional(),
    timeout: z
      .union([
        z.literal(false),
        z.strictObject({
          ms: z.number().int().positive().optional(),
          firstTokenMs: z.number().int().positive().optional(),
        }),
      ])
      .optional(),
    circuitBreaker: z
      .union([
        z.literal(false),
        z.strictObject({
          failureThreshold: z.number().int().positive().optional(),
          cooldownMs: z.number().int().positive().optional(),
        }),
      ])
      .optional(),
    middleware: middlewareList.optional(),
    guardrails: z
      .array(
        z.custom<ModelMiddleware>((value) => typeof value === 'function', {
          message: 'expected a guardrail, e.g. piiGuardrail({ action: "redact" })',
        }),
      )
      .optional(),
    // The governance factories validate their own options (a ConfigError names the field there).
    cache: z.record(z.string(), z.unknown()).optional(),
    budgets: z.union([z.array(z.record(z.string(), z.unknown())), z.record(z.string(), z.unknown())]).optional(),
    costs: z
      .union([
        z.literal(false),
        z.strictObject({
          record: z.boolean().optional(),
          keepDays: z.number().positive().optional(),
          keepMonthsDays: z.number().positive().optional(),
          flushMs: z.number().int().min(0).optional(),
          now: z
            .custom<() => number>((value) => typeof value === 'function', { message: 'expected () => number' })
            .optional(),
        }),
      ])
      .optional(),
    prices: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((options, context) => {
    const providers = options.providers ?? {};
    for (const [name, route] of Object.entries(options.routes ?? {})) {
      const check = (targets: TargetOptions[], path: (string | number)[]) => {
        for (const [index, target] of targets.entries()) {
          if (!Object.hasOwn(providers, target.provider)) {
            const known = Object.keys(providers);
            context.addIssue({
              code: 'custom',
              path: ['routes', name, ...path, index, 'provider'],
              message: `unknown provider "${target.provider}"; ${known.length ? `known: ${known.join(', ')}` : 'pass it in models({ providers })'}`,
            });
          }
        }
      };
      check(route.targets, ['targets']);
      for (const [index, rule] of (route.rules ?? []).entries()) check(rule.targets, ['rules', index, 'targets']);
    }
  });

/** A route compiled once at set-up: targets resolved to clients, rules to predicates, per-API target lists. */
export interface CompiledRoute extends RouteInfo {
  readonly targets: readonly CompiledTarget[];
  readonly rules: readonly CompiledRule[];
}

export interface CompiledTarget extends TargetInfo {
  readonly weight: number;
}

export interface CompiledRule {
  readonly matches: (context: ModelContext) => boolean;
  readonly targets: readonly CompiledTarget[];
}

/** Which provider kinds can serve each API: chat and messages cross over by translation, the others cannot. */
export const servedBy: Record<ModelApi, readonly ProviderKind[]> = {
  chat: ['openai', 'anthropic'],
  messages: ['anthropic', 'openai'],
  responses: ['openai'],
  embeddings: ['openai'],
  'count-tokens': ['anthropic'],
};

export interface CompiledOptions {
  readonly providers: ReadonlyMap<string, { client: object; kind: ProviderKind }>;
  readonly routes: ReadonlyMap<string, CompiledRoute>;
  readonly retry: RetryOptions | false;
  readonly timeout: TimeoutOptions | false;
  readonly circuitBreaker: CircuitBreakerOptions | false;
  readonly middleware: readonly ModelMiddleware[];
  /** The options as validated, for the governance middleware built from them. */
  readonly options: ModelsOptions;
}

/** Validates `models()` options (a `ConfigError` names the path) and compiles routes once. */
export function compileOptions(options: ModelsOptions, unwrap: (client: object) => object): CompiledOptions {
  const parsed = parseOptions(optionsSchema, options ?? {}, 'models') as ModelsOptions;
  const providers = new Map<string, { client: object; kind: ProviderKind }>();
  for (const [name, provider] of Object.entries(parsed.providers ?? {})) {
    // A wrapped client given as a provider would send the route's calls through the chain again.
    const raw = unwrap(provider);
    providers.set(name, { client: raw, kind: providerKind(raw)! });
  }
  const compileTarget = (target: TargetOptions): CompiledTarget => {
    const provider = providers.get(target.provider)!;
    return Object.freeze({
      id: `${target.provider}:${target.model}`,
      provider: target.provider,
      kind: provider.kind,
      model: target.model,
      parameters: target.parameters ? Object.freeze({ ...target.parameters }) : undefined,
      timeoutMs: target.timeoutMs,
      client: provider.client,
      weight: target.weight ?? 1,
    });
  };
  const routes = new Map<string, CompiledRoute>();
  for (const [name, route] of Object.entries(parsed.routes ?? {})) {
    routes.set(name, {
      name,
      strategy: route.strategy ?? 'fallback',
      targets: route.targets.map(compileTarget),
      rules: (route.rules ?? []).map((rule) => ({
        matches: typeof rule.when === 'function' ? rule.when : compileMatch(rule.when),
        targets: rule.targets.map(compileTarget),
      })),
    });
  }
  return {
    providers,
    routes,
    retry: parsed.retry ?? {},
    timeout: parsed.timeout ?? {},
    circuitBreaker: parsed.circuitBreaker ?? {},
    middleware: parsed.middleware ?? [],
    options: parsed,
  };
}

function compileMatch(match: RuleMatch): (context: ModelContext) => boolean {
  const checks: ((context: ModelContext) => boolean)[] = [];
  for (const key of ['team', 'user', 'agent'] as const) {
    const expected = match[key];
    if (expected !== undefined) checks.push((context) => context.principal[key] === expected);
  }
  if (match.tags?.length) {
    const tags = match.tags;
    checks.push((context) => tags.every((tag) => context.principal.tags?.includes(tag) ?? false));
  }
  for (const [key, expected] of Object.entries(match.metadata ?? {}))
    checks.push((context) => context.metadata[key] === expected);
  return (context) => checks.every((check) => check(context));
}
