import { AsyncLocalStorage } from 'node:async_hooks';
import type { Principal, ResolvedScope, Scope } from '../context/index.js';

const empty: ResolvedScope = Object.freeze({
  principal: Object.freeze({}),
  sessionId: undefined,
  metadata: Object.freeze({}),
  signal: undefined,
});

function mergePrincipal(outer: Principal, inner: Principal | undefined): Principal {
  if (!inner) return outer;
  const merged: Principal = { ...outer, ...inner };
  if (outer.tags && inner.tags) merged.tags = [...new Set([...outer.tags, ...inner.tags])];
  return Object.freeze(merged);
}

function mergeSignals(outer: AbortSignal | undefined, inner: AbortSignal | undefined): AbortSignal | undefined {
  if (!outer) return inner;
  if (!inner || inner === outer) return outer;
  return AbortSignal.any([outer, inner]);
}

/**
 * Merges an inner scope into an outer one: principal fields and metadata keys of the inner win, tags are
 * unioned, signals combine (either aborts).
 */
export function mergeScope(outer: ResolvedScope, inner: Scope): ResolvedScope {
  return Object.freeze({
    principal: mergePrincipal(outer.principal, inner.principal),
    sessionId: inner.sessionId ?? outer.sessionId,
    metadata: inner.metadata ? Object.freeze({ ...outer.metadata, ...inner.metadata }) : outer.metadata,
    signal: mergeSignals(outer.signal, inner.signal),
  });
}

/** Holds the current scope across `await`, timers and callbacks. One per gateway. */
export class ScopeManager {
  readonly #storage = new AsyncLocalStorage<ResolvedScope>();
  readonly #base: ResolvedScope;

  /** `base` is the scope in force outside any `run()` (the gateway's `defaultScope`). */
  constructor(base?: Scope) {
    this.#base = base ? mergeScope(empty, base) : empty;
  }

  /** The scope in force here; the base scope outside any `run()`. */
  current(): ResolvedScope {
    return this.#storage.getStore() ?? this.#base;
  }

  /** Runs `fn` inside `scope`, merged into the scope already in force. */
  run<T>(scope: Scope, fn: () => T): T {
    return this.#storage.run(mergeScope(this.current(), scope), fn);
  }
}
