import { types } from 'node:util';
import type { ModelApi } from '../context/index.js';

/**
 * Copies of OpenAI clients whose own `timeout` is an attempt's duration (plus the grace) and which do not retry.
 *
 * A per-request `timeout` makes the OpenAI SDK send an `X-Stainless-Timeout` header, and each header costs the
 * SDK and undici's `Headers` about as much work as the rest of the gateway's routing on a call. A client-level
 * timeout sends none, so a routed attempt whose deadline is a fixed duration goes through a copy of the target's
 * client made with `withOptions({ timeout, maxRetries: 0 })`, kept per client and duration.
 *
 * A copy stands in only where it behaves as the client itself would:
 * - it is never made of a Proxy (another wrapper's instrumentation would be bypassed), of a client that cannot
 *   make a copy of itself (an Azure client without its API version in the environment), or of one whose copy
 *   differs in anything but its timeout and retries (a method replaced on the instance, as a spy or a tracing
 *   library does, or state the copy would not share);
 * - on every call the settings an app may change on a live client (`apiKey`, `baseURL`, `organization`,
 *   `project`, `fetch`) and the resource method the call goes through are compared with what they were when the
 *   copy was made, and a difference makes a new copy (or none). Other changes to a live client after its first
 *   routed call (its `logger`, `fetchOptions`, a patched `post`) are not seen by the copy.
 * Anthropic clients send the header on every request anyway: they keep the per-request timeout.
 */

/** The fields of an OpenAI client the copies are checked against. */
interface OpenAILike {
  readonly apiKey?: unknown;
  readonly baseURL?: unknown;
  readonly organization?: unknown;
  readonly project?: unknown;
  readonly fetch?: unknown;
  readonly post?: unknown;
  readonly timeout?: unknown;
  readonly maxRetries?: unknown;
  readonly withOptions?: (options: Record<string, unknown>) => OpenAILike;
  readonly [key: string]: any;
}

/** How many durations of one client get a copy (a route's targets rarely have more than a few). */
const durationsPerClient = 8;

/**
 * A copy and what the client was when it was made: each call compares the client with this record (one small
 * object) instead of with the copy (a client as large as the original, so more memory touched per call).
 */
interface TimedCopy {
  readonly copy: OpenAILike;
  readonly apiKey: unknown;
  readonly baseURL: unknown;
  readonly fetch: unknown;
  readonly organization: unknown;
  readonly project: unknown;
  readonly chatCreate: unknown;
  readonly responsesCreate: unknown;
  readonly embeddingsCreate: unknown;
}

/** No copy can stand in for this client at this duration. */
const none = null;

const copies = new WeakMap<object, Map<number, TimedCopy | typeof none>>();

/** The last answer, in front of the map: a route's calls go to the same target and duration one after another. */
let lastClient: object | undefined;
let lastMs = 0;
let lastCopy: TimedCopy | typeof none = none;

/**
 * Whether `client` is still what it was when `made` was made, in what an app may change on a live client: its
 * credentials and where and how requests go (`apiKey`, `baseURL`, `fetch`, `organization`, `project`) and the
 * method the call goes through (a spy or a tracing patch put on it). Each is a property load on every call (on a
 * client with as many properties as an SDK client, a dictionary lookup), so the list stops there.
 */
function current(client: OpenAILike, made: TimedCopy, api: ModelApi): boolean {
  if (
    client.apiKey !== made.apiKey ||
    client.baseURL !== made.baseURL ||
    client.fetch !== made.fetch ||
    client.organization !== made.organization ||
    client.project !== made.project
  )
    return false;
  switch (api) {
    case 'chat':
      return client.chat?.completions?.create === made.chatCreate;
    case 'responses':
      return client.responses?.create === made.responsesCreate;
    case 'embeddings':
      return client.embeddings?.create === made.embeddingsCreate;
    default:
      return false;
  }
}

/** Resources hold their client as `_client`; what may differ between a client and its copy. */
const ownedByEach = new Set(['timeout', 'maxRetries', '_options']);

/**
 * Whether `copy` is `client` but for its timeout and retries: every own field the same value (resources compared
 * by their own methods, which a spy or a tracing library replaces on the instance).
 */
function sameButTimeout(client: OpenAILike, copy: OpenAILike, depth: number): boolean {
  // Every own name, enumerable or not: a spy or a patch may define its method as non-enumerable.
  for (const key of Object.getOwnPropertyNames(client)) {
    if (depth === 0 && ownedByEach.has(key)) continue;
    const value = client[key];
    const other = copy[key];
    if (typeof value === 'object' && value !== null && (value as { _client?: unknown })._client !== undefined) {
      // A resource: its own methods must be the prototype's in both, its sub-resources likewise.
      if (typeof other !== 'object' || other === null || depth > 4) return false;
      if (Object.getPrototypeOf(value) !== Object.getPrototypeOf(other)) return false;
      if (!sameButTimeout(value, other, depth + 1)) return false;
      continue;
    }
    if (key === '_client' && depth > 0) continue;
    if (value !== other) return false;
  }
  return true;
}

function makeCopy(client: OpenAILike, ms: number): TimedCopy | typeof none {
  // An `apiKey` function: the copy would call it on its own, and hold another key than the client's.
  if (
    types.isProxy(client) ||
    typeof client.withOptions !== 'function' ||
    typeof client._options?.apiKey === 'function'
  )
    return none;
  let copy: OpenAILike;
  try {
    copy = client.withOptions({ timeout: ms, maxRetries: 0 });
  } catch {
    return none;
  }
  if (
    typeof copy !== 'object' ||
    copy === null ||
    Object.getPrototypeOf(copy) !== Object.getPrototypeOf(client) ||
    copy.timeout !== ms ||
    copy.maxRetries !== 0 ||
    !sameButTimeout(client, copy, 0) ||
    // What each call compares: the copy must answer the same methods as the client does now.
    copy.post !== client.post ||
    copy.chat?.completions?.create !== client.chat?.completions?.create ||
    copy.responses?.create !== client.responses?.create ||
    copy.embeddings?.create !== client.embeddings?.create
  )
    return none;
  return {
    copy,
    apiKey: client.apiKey,
    baseURL: client.baseURL,
    fetch: client.fetch,
    organization: client.organization,
    project: client.project,
    chatCreate: client.chat?.completions?.create,
    responsesCreate: client.responses?.create,
    embeddingsCreate: client.embeddings?.create,
  };
}

/**
 * A copy of the OpenAI `client` that times each request out after `ms` and does not retry, to send a call of
 * `api` with instead of a per-request `timeout`; undefined when none can stand in for the client (see above).
 */
export function timedCopy(client: object, api: ModelApi, ms: number): object | undefined {
  const live = client as OpenAILike;
  let made: TimedCopy | typeof none;
  if (client === lastClient && ms === lastMs) made = lastCopy;
  else {
    let byMs = copies.get(client);
    if (byMs === undefined) copies.set(client, (byMs = new Map()));
    const known = byMs.get(ms);
    if (known === undefined) {
      if (byMs.size >= durationsPerClient) return undefined;
      made = remember(byMs, client, ms, makeCopy(live, ms));
    } else made = remember(undefined, client, ms, known);
  }
  if (made === none) return undefined;
  if (current(live, made, api)) return made.copy;
  // The client changed (a rotated key, a new fetch, a spy): a new copy, if one can stand in. A key assigned to the
  // live client is not in its options, which `withOptions` copies: that client gets none from now on.
  const fresh = remember(copies.get(client), client, ms, makeCopy(live, ms));
  return fresh === none ? undefined : fresh.copy;
}

/** Keeps `made` as the copy of `client` at `ms` (in `byMs` when given) and as the last answer. */
function remember(
  byMs: Map<number, TimedCopy | typeof none> | undefined,
  client: object,
  ms: number,
  made: TimedCopy | typeof none,
): TimedCopy | typeof none {
  byMs?.set(ms, made);
  lastClient = client;
  lastMs = ms;
  lastCopy = made;
  return made;
}
