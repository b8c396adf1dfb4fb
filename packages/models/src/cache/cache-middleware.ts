import { Attr, type EventBase, type EventName, isStore, parseOptions, type Store } from '@gatehouse/core';
import { z } from 'zod';
import {
  type ModelApi,
  type ModelContext,
  type ModelMiddleware,
  type ModelRequest,
  type ModelResult,
  type ProviderKind,
  pull,
  type ResultSummary,
  relaying,
  stopUnlessOver,
  type TargetInfo,
} from '../context/index.js';
import { assemble, isUsageChunk, split } from './convert.js';
import { cacheKey, defaultIgnoredFields } from './key.js';
import { type CacheBackend, MemoryCache } from './memory-cache.js';

/** What the cache does for one call: `read` (and write on a miss), `refresh` (write only), `bypass` (neither). */
export type CacheMode = 'read' | 'refresh' | 'bypass';

/** Options of `cacheMiddleware()`. */
export interface CacheOptions {
  /**
   * Which calls are cached: the names of routes (`['faq']`), routes with their own TTL
   * (`{ faq: { ttlMs: 86_400_000 }, search: {} }`), or a function of the call's context. Default: every call
   * that reaches the middleware.
   */
  routes?: readonly string[] | Readonly<Record<string, RouteCacheOptions>> | ((context: ModelContext) => boolean);
  /** How long an answer is served, in milliseconds. Default one hour. */
  ttlMs?: number;
  /**
   * A shared store (e.g. a `RedisStore`, so every instance of the app shares the cache). Default: an
   * in-process LRU bounded by `maxEntries` and `maxBytes`.
   */
  store?: Store;
  /** In-process LRU only: the most entries kept. Default 1000. */
  maxEntries?: number;
  /** In-process LRU only: the most bytes (UTF-8 length of the entries' JSON) kept. Default 64 MiB. */
  maxBytes?: number;
  /** An answer larger than this (bytes of its JSON) is not cached. Default 1 MiB. */
  maxEntryBytes?: number;
  /** Top-level request fields left out of the key, added to `defaultIgnoredFields`. */
  ignoreFields?: readonly string[];
  /**
   * Splits the cache, e.g. per team: `(context) => context.principal.team`. Calls in different partitions never
   * share answers. Default: one cache for everyone (an exact-match request gets the same answer).
   */
  partition?: (context: ModelContext) => string | undefined;
  /** Put before every key in `store`. Default `cache:`. */
  prefix?: string;
  /** The clock of the in-process LRU (epoch milliseconds), for tests. Default `Date.now`. */
  now?: () => number;
}

/** The cache settings of one route in `routes`. */
export interface RouteCacheOptions {
  /** Overrides `ttlMs` for this route. */
  ttlMs?: number;
}

/** A cached answer served: the upstream was not called. */
export interface CacheHitEvent extends EventBase {
  /** The SHA-256 key of the request (base64url), not the request itself. */
  key: string;
  api: ModelApi;
  model: string;
  route: string | undefined;
  stream: boolean;
  /** The target that gave the cached answer, e.g. `openai:gpt-4o`. */
  target: string;
  /** How long ago the answer was cached, in milliseconds. */
  ageMs: number;
}

/** A call the cache did not answer; it went upstream. */
export interface CacheMissEvent extends EventBase {
  key: string;
  api: ModelApi;
  model: string;
  route: string | undefined;
  stream: boolean;
  /**
   * `absent`: nothing cached (or expired). `refresh` / `bypass`: asked for by the call. `unservable`: the cached
   * answer cannot be replayed in this call's form (e.g. a stream without its usage chunk, for a call that wants
   * usage). `error`: the store failed, or held something that is not a cached answer; the call went upstream.
   */
  reason: 'absent' | 'refresh' | 'bypass' | 'unservable' | 'error';
}

declare module '@gatehouse/core' {
  interface GatehouseEventMap {
    'cache-hit': CacheHitEvent;
    'cache-miss': CacheMissEvent;
  }
}

// Typed loosely, as in telemetry: core's `EventName` does not pick up augmentations through its re-export.
const cacheHit = 'cache-hit' as EventName;
const cacheMiss = 'cache-miss' as EventName;

/**
 * The metadata key the cache sets on every call it covers: `hit` (answered from the cache), `miss` (went
 * upstream, answer written if cacheable), `refresh` or `bypass`. A cost or budget middleware reads
 * `context.metadata[cacheMetadataKey] === 'hit'` to charge nothing.
 */
export const cacheMetadataKey = 'gatehouse.cache';

/** The request header (in the SDK call's options) that sets the cache mode of one call; never sent upstream. */
export const cacheHeader = 'x-gatehouse-cache';

/** One cached answer, as stored (JSON). */
interface CacheEntry {
  /** Epoch milliseconds when written. */
  time: number;
  target: { id: string; provider: string; kind: ProviderKind; model: string };
  responseModel: string | undefined;
  responseId: string | undefined;
  finishReasons: string[] | undefined;
  /** A complete answer … */
  data?: unknown;
  /** … or the chunks of a streamed one. */
  chunks?: unknown[];
}

const modes = new Set<string>(['read', 'refresh', 'bypass']);

const optionsSchema = z.strictObject({
  routes: z
    .union([
      z.array(z.string().min(1)),
      z.record(z.string().min(1), z.strictObject({ ttlMs: z.number().int().positive().optional() })),
      z.custom<(context: ModelContext) => boolean>((value) => typeof value === 'function', 'expected a function'),
    ])
    .optional(),
  ttlMs: z.number().int().positive().optional(),
  store: z.custom<Store>(isStore, 'expected a Store (get, set, delete, consume, increment)').optional(),
  maxEntries: z.number().int().positive().optional(),
  maxBytes: z.number().int().positive().optional(),
  maxEntryBytes: z.number().int().positive().optional(),
  ignoreFields: z.array(z.string().min(1)).optional(),
  partition: z.custom<(context: ModelContext) => string | undefined>((value) => typeof value === 'function').optional(),
  prefix: z.string().optional(),
  now: z.custom<() => number>((value) => typeof value === 'function', 'expected a function').optional(),
});

/** Serves a store as a cache backend: entries under `prefix`, each with its TTL. */
function storeBackend(store: Store, prefix: string): CacheBackend {
  return {
    get: (key) => store.get<string>(prefix + key),
    set: (key, value, ttlMs) => store.set(prefix + key, value, { ttlMs }),
  };
}

/** The mode a call asks for: the request header first, then the scope's `metadata.cache`. */
function requestedMode(context: ModelContext, header: string | undefined): CacheMode {
  if (header !== undefined && modes.has(header)) return header as CacheMode;
  const fromScope = context.metadata.cache;
  return typeof fromScope === 'string' && modes.has(fromScope) ? (fromScope as CacheMode) : 'read';
}

/**
 * Takes the `x-gatehouse-cache` header out of the SDK call's options (any of the SDKs' header shapes), so it
 * never goes upstream. Answers its value, and leaves the options untouched when it is absent.
 */
function takeHeader(request: ModelRequest): string | undefined {
  const headers = request.options?.headers;
  if (headers === undefined || headers === null || typeof headers !== 'object') return undefined;
  let value: string | undefined;
  let rest: unknown;
  if (headers instanceof Headers) {
    value = headers.get(cacheHeader) ?? undefined;
    if (!headers.has(cacheHeader)) return undefined;
    rest = new Headers(headers);
    (rest as Headers).delete(cacheHeader);
  } else if (Array.isArray(headers)) {
    const index = headers.findIndex((pair) => String(pair?.[0]).toLowerCase() === cacheHeader);
    if (index < 0) return undefined;
    value = headers[index][1] ?? undefined;
    rest = headers.filter((pair) => String(pair?.[0]).toLowerCase() !== cacheHeader);
  } else {
    let found = false;
    const copy: Record<string, unknown> = {};
    for (const name in headers) {
      if (name.toLowerCase() === cacheHeader) {
        found = true;
        const raw = (headers as Record<string, unknown>)[name];
        if (typeof raw === 'string') value = raw;
      } else copy[name] = (headers as Record<string, unknown>)[name];
    }
    if (!found) return undefined;
    rest = copy;
  }
  request.options = { ...request.options, headers: rest };
  return value?.trim().toLowerCase();
}

/** Whether a complete answer may be cached: a Responses answer that is queued, running or failed is not. */
function cacheableAnswer(api: ModelApi, data: any): boolean {
  if (api !== 'responses') return true;
  return data?.status === 'completed' || data?.status === 'incomplete';
}

const zeroUsage = Object.freeze({
  inputTokens: 0,
  outputTokens: 0,
  cacheReadInputTokens: undefined,
  cacheCreationInputTokens: undefined,
});

/**
 * An exact-match response cache. A call whose request (API, client kind, route or model, and body with keys
 * sorted, without `stream`, `stream_options`, `user`, `metadata` and the other `defaultIgnoredFields`) matches a
 * cached answer is answered from the cache: the upstream is not called, usage is reported as zero tokens,
 * `context.metadata['gatehouse.cache']` is `hit` (read it in a cost middleware to charge nothing), the call's
 * span gets `gatehouse.cache.hit`, a `cache-hit` event is emitted, and `.withResponse()` gives a response with
 * the header `x-gatehouse-cache: hit`. A streamed answer is recorded chunk by chunk and replayed as it came; a
 * streamed call can be served from a complete answer and the reverse (chat, Responses, Anthropic messages).
 * Only successful, complete answers are written: a stream that fails, is cut, ends without its end marker or is
 * stopped by the caller is not.
 *
 * Per call: `gateway.run({ metadata: { cache: 'bypass' } }, …)` or the request header
 * `{ headers: { 'x-gatehouse-cache': 'bypass' } }` skips the cache; `refresh` skips the read and writes the new
 * answer. The header is removed before the call goes upstream.
 *
 * `models({ cache })` places it after the guardrails (input checks still apply, output checks see the cached
 * answer) and before budgets and cost: a hit spends nothing, so it is neither counted nor charged.
 *
 * @example
 * models({
 *   providers: { openai: new OpenAI() },
 *   routes: { faq: { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }], cache: true } },
 *   cache: { ttlMs: 10 * 60_000, store: new RedisStore({ url }) },
 * });
 */
export function cacheMiddleware(options: CacheOptions = {}): ModelMiddleware {
  const parsed = parseOptions(optionsSchema, options, 'cache') as CacheOptions;
  const ttlMs = parsed.ttlMs ?? 3_600_000;
  const maxEntryBytes = parsed.maxEntryBytes ?? 1_048_576;
  const ignored = new Set([...defaultIgnoredFields, ...(parsed.ignoreFields ?? [])]);
  const now = parsed.now ?? Date.now;
  const backend: CacheBackend = parsed.store
    ? storeBackend(parsed.store, parsed.prefix ?? 'cache:')
    : new MemoryCache({
        maxEntries: parsed.maxEntries ?? 1000,
        maxBytes: parsed.maxBytes ?? 64 * 1_048_576,
        now,
      });
  const partition = parsed.partition;
  // Compiled once: the TTL for a call, or undefined when the cache does not cover it.
  const routes = parsed.routes;
  let ttlFor: (context: ModelContext) => number | undefined;
  if (routes === undefined) ttlFor = () => ttlMs;
  else if (typeof routes === 'function') ttlFor = (context) => (routes(context) ? ttlMs : undefined);
  else {
    const byRoute = new Map<string, number>();
    if (Array.isArray(routes)) for (const name of routes) byRoute.set(name, ttlMs);
    else
      for (const [name, settings] of Object.entries(routes as Record<string, RouteCacheOptions>))
        byRoute.set(name, settings.ttlMs ?? ttlMs);
    ttlFor = (context) => (context.route ? byRoute.get(context.route.name) : undefined);
  }

  return async (context, next) => {
    // Taken out whether or not this call is cached: it must never reach the provider.
    const header = takeHeader(context.request);
    // An aborted call is left to fail upstream's way (the SDK's abort error), not answered.
    const entryTtlMs = ttlFor(context);
    if (entryTtlMs === undefined || context.signal?.aborted) return next();
    const { request, events } = context;
    const mode = requestedMode(context, header);
    context.metadata[cacheMetadataKey] = mode === 'read' ? 'miss' : mode;
    const routeName = context.route?.name ?? context.model;
    const key = cacheKey(request, routeName, partition?.(context), ignored);
    /** What a cache-hit and a cache-miss event say about the call. */
    const about = () => ({
      time: Date.now(),
      principal: context.principal,
      sessionId: context.sessionId,
      key,
      api: request.api,
      model: context.model,
      route: context.route?.name,
      stream: request.stream,
    });
    const missEvent = (reason: CacheMissEvent['reason']) => {
      if (events.has(cacheMiss)) events.emit(cacheMiss, { ...about(), reason } satisfies CacheMissEvent as never);
    };
    if (mode === 'bypass') {
      missEvent('bypass');
      return next();
    }

    if (mode === 'read') {
      let stored: string | undefined;
      let failed = false;
      try {
        stored = await backend.get(key);
      } catch {
        // A store that is down must not take the model calls down with it: the call goes upstream.
        failed = true;
      }
      if (stored !== undefined) {
        const entry = readEntry(stored);
        const result = entry && serve(entry, request);
        if (result) {
          context.metadata[cacheMetadataKey] = 'hit';
          if (context.span.isRecording()) context.span.setAttribute(Attr.cacheHit, true);
          if (events.has(cacheHit))
            events.emit(cacheHit, {
              ...about(),
              target: entry.target.id,
              ageMs: Math.max(0, now() - entry.time),
            } satisfies CacheHitEvent as never);
          return result(context.target, context.signal);
        }
        missEvent(entry ? 'unservable' : 'error');
      } else missEvent(failed ? 'error' : 'absent');
    } else missEvent('refresh');
    if (context.span.isRecording()) context.span.setAttribute(Attr.cacheHit, false);

    const result = await next();
    const write = async (answer: Pick<CacheEntry, 'data' | 'chunks'>, summary: ResultSummary) => {
      const target = result.target;
      const entry: CacheEntry = {
        time: now(),
        target: { id: target.id, provider: target.provider, kind: target.kind, model: target.model },
        responseModel: summary.responseModel,
        responseId: summary.responseId,
        finishReasons: summary.finishReasons,
        ...answer,
      };
      const text = JSON.stringify(entry);
      if (text.length > maxEntryBytes || Buffer.byteLength(text) > maxEntryBytes) return;
      try {
        await backend.set(key, text, entryTtlMs);
      } catch {
        // Not cached this time; the caller has its answer all the same.
      }
    };
    if (result.type === 'response') {
      if (cacheableAnswer(request.api, result.data)) await write({ data: result.data }, result.summary);
      return result;
    }
    return { ...result, chunks: recordStream(request.api, result, maxEntryBytes, write) };
  };
}

/**
 * Passes a stream's chunks on while keeping a copy (as JSON, so that a caller changing a chunk does not change
 * the cache), and writes the answer once the stream has ended with its end marker, before telling the caller it
 * ended. A stream that fails, or that the caller stops, is not written.
 */
function recordStream(
  api: ModelApi,
  result: Extract<ModelResult, { type: 'stream' }>,
  maxEntryBytes: number,
  write: (answer: Pick<CacheEntry, 'chunks'>, summary: ResultSummary) => Promise<void>,
): AsyncIterable<any> {
  const source = result.chunks;
  return {
    async *[Symbol.asyncIterator]() {
      const relayed = relaying(source[Symbol.asyncIterator]());
      const recorded: string[] = [];
      let bytes = 0;
      try {
        while (true) {
          const step = await pull(relayed);
          if (step.done) break;
          // Past the size bound the answer will not be cached: stop copying.
          if (bytes <= maxEntryBytes) {
            const text = JSON.stringify(step.value);
            bytes += text.length;
            recorded.push(text);
          }
          yield step.value;
        }
      } finally {
        await stopUnlessOver(relayed);
      }
      const { summary } = result;
      if (!summary.completed || bytes > maxEntryBytes || result.controller.signal.aborted) return;
      const chunks = JSON.parse(`[${recorded.join(',')}]`) as unknown[];
      // A Responses stream marks its end with `response.failed` too: only a completed (or incomplete) one is kept.
      if (api === 'responses' && assemble(api, chunks) === undefined) return;
      await write({ chunks }, summary);
    },
  };
}

/** Parses a stored entry; something else under the key (or a damaged value) is no entry. */
function readEntry(stored: unknown): CacheEntry | undefined {
  if (typeof stored !== 'string') return undefined;
  try {
    const entry = JSON.parse(stored) as CacheEntry;
    return typeof entry?.target?.id === 'string' && (entry.data !== undefined || Array.isArray(entry.chunks))
      ? entry
      : undefined;
  } catch {
    return undefined;
  }
}

/** Builds the result of a hit, or answers `undefined` when the entry cannot be served in the call's form. */
function serve(
  entry: CacheEntry,
  request: ModelRequest,
): ((callTarget: TargetInfo | undefined, signal: AbortSignal | undefined) => ModelResult) | undefined {
  const { api } = request;
  let data: unknown;
  let chunks: unknown[] | undefined;
  if (request.stream) {
    const includeUsage = request.body.stream_options?.include_usage === true;
    if (entry.chunks) {
      chunks = entry.chunks;
      if (api === 'chat') {
        const hasUsage = chunks.some(isUsageChunk);
        if (includeUsage && !hasUsage) return undefined;
        if (!includeUsage && hasUsage) chunks = chunks.filter((chunk) => !isUsageChunk(chunk));
      }
    } else chunks = split(api, entry.data, includeUsage);
    if (!chunks) return undefined;
  } else {
    data = entry.data ?? (entry.chunks ? assemble(api, entry.chunks) : undefined);
    if (data === undefined) return undefined;
  }
  const summary: ResultSummary = {
    usage: { ...zeroUsage },
    responseModel: entry.responseModel,
    responseId: entry.responseId,
    finishReasons: entry.finishReasons,
    completed: true,
  };
  const response = new Response(null, {
    status: 200,
    headers: { [cacheHeader]: 'hit', 'content-type': chunks ? 'text/event-stream' : 'application/json' },
  });
  return (callTarget, signal) => {
    // The call's own target when it named a model; for a route, the one that gave the answer (nothing was sent).
    const target: TargetInfo = callTarget ?? {
      ...entry.target,
      parameters: undefined,
      timeoutMs: undefined,
      client: cachedClient,
    };
    if (!chunks) return { type: 'response', data, response, target, summary };
    const replayed = chunks;
    const controller = new AbortController();
    return {
      type: 'stream',
      chunks: {
        async *[Symbol.asyncIterator]() {
          for (const chunk of replayed) {
            // Aborted, a replay ends where it is, as an aborted upstream stream does in the SDKs.
            if (controller.signal.aborted || signal?.aborted) return;
            yield chunk;
          }
        },
      },
      controller,
      response,
      target,
      summary,
    };
  };
}

/** Stands for the client of a target whose answer came from the cache: no client was called. */
const cachedClient = Object.freeze({ cached: true });
