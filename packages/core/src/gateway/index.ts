import { z } from 'zod';
import type { BaseContext, Principal, ResolvedScope, Scope } from '../context/index.js';
import { ConfigError } from '../errors/index.js';
import { EventBus } from '../events/index.js';
import { ScopeManager } from '../scope/index.js';
import { isStore, MemoryStore, type Store } from '../store/index.js';
import { Telemetry, type TelemetryOptions } from '../telemetry/index.js';

/** What a layer gets from the gateway it is attached to. */
export interface GatewayRuntime {
  readonly store: Store;
  readonly events: EventBus;
  readonly telemetry: Telemetry;
  /** The scope in force here. */
  scope(): ResolvedScope;
  /** Runs `fn` inside a scope merged into the current one. */
  run<T>(scope: Scope, fn: () => T): T;
  /** A context base for one call, from the current scope (plus per-call metadata). */
  context(metadata?: Record<string, unknown>): BaseContext;
  /** The other layers' instances, by kind, for layers that build on each other (agents on models and tools). */
  layer<K extends LayerKind>(kind: K): LayerInstance | undefined;
}

export type LayerKind = 'models' | 'tools' | 'agents';

/** A layer attached to a gateway. */
export interface LayerInstance<Api = unknown> {
  /** What the gateway exposes as `gateway.<kind>`. */
  readonly api: Api;
  /** Whether this layer knows how to wrap `client`. */
  wraps?(client: object): boolean;
  /** Wraps `client` so that its calls run through this layer's chain; keeps its type. */
  wrap?<T extends object>(client: T): T;
  /** Releases connections, child processes and timers. */
  close?(): Promise<void>;
}

/** What `models()`, `tools()` and `agents()` return: a layer, attached when the gateway is created. */
export interface Layer<Kind extends LayerKind = LayerKind, Api = unknown> {
  readonly kind: Kind;
  attach(runtime: GatewayRuntime): LayerInstance<Api>;
}

export interface GatewayOptions {
  models?: Layer<'models', any>;
  tools?: Layer<'tools', any>;
  agents?: Layer<'agents', any>;
  /** Shared state for limits, budgets, caches, pins and sessions. Default: an in-memory store. */
  store?: Store;
  telemetry?: TelemetryOptions;
  /** Receives errors thrown by event subscribers (which never break a call). */
  onListenerError?: (error: unknown, event: string) => void;
  /** A scope applied to every call, under whatever `run()` sets. */
  defaultScope?: Scope;
}

type ApiOf<L> = L extends Layer<any, infer Api> ? Api : never;

export type Gateway<O extends GatewayOptions = GatewayOptions> = {
  readonly store: Store;
  readonly events: EventBus;
  readonly telemetry: Telemetry;
  /**
   * Runs `fn` with a scope (who is calling, session, metadata, signal). Nested scopes merge; the scope
   * follows `await`, timers and callbacks.
   */
  run<T>(scope: Scope, fn: () => T): T;
  /** The scope in force here. */
  scope(): ResolvedScope;
  /**
   * Wraps an `OpenAI`, an `Anthropic` or an MCP `Client` so that its calls go through the layer that knows it.
   * The result keeps the client's type.
   */
  wrap<T extends object>(client: T): T;
  /** Closes every layer and the store. */
  close(): Promise<void>;
} & { readonly [K in LayerKind as O[K] extends Layer ? K : never]: ApiOf<O[K]> };

const layerSchema = (kind: LayerKind) =>
  z.custom<Layer>(
    (value) =>
      typeof value === 'object' &&
      value !== null &&
      (value as Layer).kind === kind &&
      typeof (value as Layer).attach === 'function',
    { message: `expected the result of ${kind}(…) from @gatehouse/${kind}` },
  );

const principalSchema = z.strictObject({
  team: z.string().min(1).optional(),
  user: z.string().min(1).optional(),
  agent: z.string().min(1).optional(),
  tags: z.array(z.string()).optional(),
});

const scopeSchema = z.strictObject({
  principal: principalSchema.optional(),
  sessionId: z.string().min(1).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  signal: z.instanceof(AbortSignal).optional(),
});

const optionsSchema = z.strictObject({
  models: layerSchema('models').optional(),
  tools: layerSchema('tools').optional(),
  agents: layerSchema('agents').optional(),
  store: z
    .custom<Store>(isStore, {
      message:
        'expected a Store (get, set, delete, consume, increment, incrementFields, getFields), e.g. new MemoryStore()',
    })
    .optional(),
  telemetry: z
    .strictObject({
      tracer: z.custom<object>((value) => typeof value === 'object' && value !== null).optional(),
      meter: z.custom<object>((value) => typeof value === 'object' && value !== null).optional(),
      recordContent: z.boolean().optional(),
    })
    .optional(),
  onListenerError: z
    .custom<(error: unknown, event: string) => void>((value) => typeof value === 'function', {
      message: 'expected a function (error, event) => void',
    })
    .optional(),
  defaultScope: scopeSchema.optional(),
});

/**
 * Turns a zod error into a `ConfigError` whose message names each path and what was expected.
 * Layers use it for their own options, with their own prefix (`models`, `tools.servers.github`).
 */
export function configError(error: z.ZodError, prefix: string): ConfigError {
  const problems = error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    return { path, message: `${path}: ${issue.message}` };
  });
  return new ConfigError({
    message: `Invalid options: ${problems.map((problem) => problem.message).join('; ')}`,
    path: problems[0]?.path,
  });
}

/** Validates `value` against `schema`, throwing a `ConfigError` that names the path. */
export function parseOptions<T>(schema: z.ZodType<T>, value: unknown, prefix: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw configError(result.error, prefix);
  return result.data;
}

const principalKeys = new Set(['team', 'user', 'agent', 'tags']);
const scopeKeys = new Set(['principal', 'sessionId', 'metadata', 'signal']);

/** A hand-written check (not zod): `run()` sits on the hot path of every request. */
function checkScope(scope: Scope): void {
  const fail = (path: string, expected: string) => {
    throw new ConfigError({ message: `Invalid scope: ${path}: expected ${expected}`, path });
  };
  if (typeof scope !== 'object' || scope === null) fail('scope', 'an object');
  for (const key in scope)
    if (!scopeKeys.has(key)) fail(`scope.${key}`, 'no such key (principal, sessionId, metadata, signal)');
  const { principal, sessionId, metadata, signal } = scope;
  if (principal !== undefined) {
    if (typeof principal !== 'object' || principal === null) fail('scope.principal', 'an object');
    for (const key in principal) {
      const value = (principal as Record<string, unknown>)[key];
      if (!principalKeys.has(key)) fail(`scope.principal.${key}`, 'no such key (team, user, agent, tags)');
      if (key === 'tags') {
        if (value !== undefined && (!Array.isArray(value) || value.some((tag) => typeof tag !== 'string')))
          fail('scope.principal.tags', 'an array of strings');
      } else if (value !== undefined && (typeof value !== 'string' || value === '')) {
        fail(`scope.principal.${key}`, 'a non-empty string');
      }
    }
  }
  if (sessionId !== undefined && (typeof sessionId !== 'string' || sessionId === ''))
    fail('scope.sessionId', 'a non-empty string');
  if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null))
    fail('scope.metadata', 'an object');
  if (signal !== undefined && !(signal instanceof AbortSignal)) fail('scope.signal', 'an AbortSignal');
}

function describe(client: object): string {
  const name = client.constructor?.name;
  return name && name !== 'Object' ? name : 'this object';
}

const hints: Record<string, LayerKind> = {
  OpenAI: 'models',
  AzureOpenAI: 'models',
  Anthropic: 'models',
  Client: 'tools',
};

/**
 * Creates a gateway: the layers you pass, one store, one telemetry pipeline and one event stream.
 *
 * @example
 * const gateway = createGateway({ models: models({ providers: { openai } }) });
 * const client = gateway.wrap(new OpenAI());
 * await gateway.run({ principal: { team: 'risk' } }, () => client.chat.completions.create({ … }));
 */
export function createGateway<const O extends GatewayOptions>(options: O = {} as O): Gateway<O> {
  const parsed = parseOptions(optionsSchema, options, 'options') as GatewayOptions;
  const store = parsed.store ?? new MemoryStore();
  const events = new EventBus(parsed.onListenerError ? { onListenerError: parsed.onListenerError } : {});
  const telemetry = new Telemetry(parsed.telemetry);
  const scopes = new ScopeManager(parsed.defaultScope);
  const instances = new Map<LayerKind, LayerInstance>();
  const scope = () => scopes.current();

  const runtime: GatewayRuntime = {
    store,
    events,
    telemetry,
    scope,
    run: (inner, fn) => scopes.run(inner, fn),
    context(metadata) {
      const current = scope();
      return {
        principal: current.principal,
        sessionId: current.sessionId,
        metadata: metadata ? { ...current.metadata, ...metadata } : { ...current.metadata },
        signal: current.signal,
        span: telemetry.currentSpan(),
        events,
        store,
        telemetry,
      };
    },
    layer: (kind) => instances.get(kind),
  };

  // Order matters: the agents layer builds on models and tools, so they are attached first.
  for (const kind of ['models', 'tools', 'agents'] as const) {
    const layer = parsed[kind];
    if (layer) instances.set(kind, layer.attach(runtime));
  }

  const gateway: Record<string, unknown> = {
    store,
    events,
    telemetry,
    scope,
    run<T>(inner: Scope, fn: () => T): T {
      if (typeof fn !== 'function') throw new ConfigError({ message: 'gateway.run(scope, fn): fn must be a function' });
      checkScope(inner);
      return scopes.run(inner, fn);
    },
    wrap<T extends object>(client: T): T {
      if (typeof client !== 'object' || client === null) {
        throw new ConfigError({ message: `gateway.wrap(client): expected a client object, got ${typeof client}` });
      }
      for (const instance of instances.values()) {
        if (instance.wraps?.(client) && instance.wrap) return instance.wrap(client);
      }
      const name = describe(client);
      const hint = hints[name];
      throw new ConfigError({
        message: hint
          ? `gateway.wrap(): ${name} is handled by the ${hint} layer, which this gateway does not have; pass \`${hint}: ${hint}({ … })\` from @gatehouse/${hint} to createGateway()`
          : `gateway.wrap(): no layer of this gateway knows ${name}; wrap an OpenAI or Anthropic client (models layer) or an MCP Client (tools layer)`,
      });
    },
    async close() {
      const errors: unknown[] = [];
      for (const kind of ['agents', 'tools', 'models'] as const) {
        try {
          await instances.get(kind)?.close?.();
        } catch (error) {
          errors.push(error);
        }
      }
      await store.close?.();
      if (errors.length > 0) throw errors[0];
    },
  };
  for (const [kind, instance] of instances) gateway[kind] = instance.api;
  return gateway as Gateway<O>;
}

export type { Principal };
