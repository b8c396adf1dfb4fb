import type { Span } from '@opentelemetry/api';
import type { EventBus } from '../events/index.js';
import type { Store } from '../store/index.js';
import type { Telemetry } from '../telemetry/index.js';

/** Who is calling. Every field is optional; policies match on what is there. */
export interface Principal {
  team?: string;
  user?: string;
  agent?: string;
  tags?: readonly string[];
}

/** What `gateway.run(scope, fn)` sets for everything `fn` does, through `AsyncLocalStorage`. */
export interface Scope {
  principal?: Principal;
  /** A session (conversation) id; the agents layer sets it, the app may too. */
  sessionId?: string;
  /** Free-form facts for routing rules, budgets and events (e.g. `{ feature: 'contracts' }`). */
  metadata?: Record<string, unknown>;
  /** Cancels everything inside the scope that honours it. */
  signal?: AbortSignal;
}

/** The resolved scope: principal and metadata always present (possibly empty). */
export interface ResolvedScope {
  readonly principal: Principal;
  readonly sessionId: string | undefined;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly signal: AbortSignal | undefined;
}

/**
 * What every layer's middleware receives. Layers extend it with their own request and fields
 * (`ModelContext`, `ToolContext`, `StepContext`).
 */
export interface BaseContext {
  readonly principal: Principal;
  readonly sessionId: string | undefined;
  /** Per-call metadata: the scope's, merged with the call's own. Middleware may add to it. */
  readonly metadata: Record<string, unknown>;
  readonly signal: AbortSignal | undefined;
  /** The active span of this call (a non-recording span when the app registered no OpenTelemetry SDK). */
  span: Span;
  readonly events: EventBus;
  readonly store: Store;
  readonly telemetry: Telemetry;
}
