/** The fields every tool-call event shares, from the context. */
export function toolEventFields(context) {
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
