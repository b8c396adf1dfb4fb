import type { ToolCallEventBase } from '../audit/events.js';
import type { ToolCallContext } from '../context.js';

/** The fields every tool-call event shares, from the context. */
export function toolEventFields(context: ToolCallContext): ToolCallEventBase {
  const span = context.span;
  return {
    time: Date.now(),
    principal: context.principal,
    sessionId: context.sessionId,
    traceId: span.isRecording() ? span.spanContext().traceId : undefined,
    server: context.server,
    tool: context.tool,
    name: context.name,
    callId: context.callId,
  };
}
