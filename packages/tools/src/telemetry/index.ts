import { Attr, Operation, SpanKind } from '@gatehouse/core';
import type { ToolMiddleware } from '../context.js';

/**
 * Opens the `execute_tool {name}` span (CLIENT: the gateway calls an upstream server) around the rest of the chain,
 * with the GenAI and MCP attributes, and makes it the active span and `context.span`. It runs first, so policy
 * decisions and the upstream call are recorded inside it. Arguments and results are never recorded here; no
 * credential is ever an attribute.
 */
export function executeToolSpanMiddleware(): ToolMiddleware {
  return async (context, next) => {
    const { telemetry } = context;
    const span = telemetry.startSpan(`${Operation.executeTool} ${context.name}`, SpanKind.CLIENT, {
      [Attr.operationName]: Operation.executeTool,
      [Attr.toolName]: context.name,
      [Attr.mcpMethodName]: 'tools/call',
      [Attr.server]: context.server,
      ...(context.callId === undefined ? {} : { [Attr.toolCallId]: context.callId }),
    });
    context.span = span;
    try {
      const result = await telemetry.withSpan(span, () => next());
      if (result.isError === true && span.isRecording()) span.setAttribute(Attr.errorType, 'tool_error');
      telemetry.endSpan(span);
      return result;
    } catch (error) {
      telemetry.endSpan(span, error);
      throw error;
    }
  };
}
