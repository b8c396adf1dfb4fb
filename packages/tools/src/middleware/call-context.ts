import { EventBus, MemoryStore, type Principal, type Store, Telemetry } from '@gatehouse/core';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { INVALID_SPAN_CONTEXT, type Span, trace } from '@opentelemetry/api';
import type { ToolCallContext } from '../context.js';

export interface ToolCallContextOptions {
  server: string;
  tool: string;
  arguments?: Record<string, unknown>;
  principal?: Principal;
  /** Default `server__tool`. */
  name?: string;
  definition?: Tool;
  callId?: string;
  sessionId?: string;
  metadata?: Record<string, unknown>;
  signal?: AbortSignal;
  span?: Span;
  events?: EventBus;
  store?: Store;
  telemetry?: Telemetry;
}

/**
 * A `ToolCallContext` outside a gateway, for unit-testing tool middleware (yours or Gatehouse's) with `compose`.
 * Everything not given is fresh: an event bus, a memory store, telemetry, a non-recording span.
 *
 * @example
 * const run = compose([toolAccessMiddleware(policy)], handler);
 * await run(toolCallContext({ server: 'github', tool: 'create_issue', principal: { team: 'risk' } }));
 */
export function toolCallContext(options: ToolCallContextOptions): ToolCallContext {
  const telemetry = options.telemetry ?? new Telemetry();
  return {
    server: options.server,
    tool: options.tool,
    name: options.name ?? `${options.server}__${options.tool}`,
    arguments: options.arguments ?? {},
    definition: options.definition,
    callId: options.callId,
    principal: options.principal ?? {},
    sessionId: options.sessionId,
    metadata: options.metadata ?? {},
    signal: options.signal,
    span: options.span ?? telemetry.activeSpan() ?? trace.wrapSpanContext(INVALID_SPAN_CONTEXT),
    events: options.events ?? new EventBus(),
    store: options.store ?? new MemoryStore(),
    telemetry,
  };
}
