import { EventBus, MemoryStore, Telemetry } from '@gatehouse/core';
import { INVALID_SPAN_CONTEXT, trace } from '@opentelemetry/api';
/**
 * A `ToolCallContext` outside a gateway, for unit-testing tool middleware (yours or Gatehouse's) with `compose`.
 * Everything not given is fresh: an event bus, a memory store, telemetry, a non-recording span.
 *
 * @example
 * const run = compose([toolAccessMiddleware(policy)], handler);
 * await run(toolCallContext({ server: 'github', tool: 'create_issue', principal: { team: 'risk' } }));
 */
export function toolCallContext(options) {
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
