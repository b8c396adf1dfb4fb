import {
  Attr,
  Operation,
  type RedactValueOptions,
  redactValue,
  type Span,
  SpanKind,
  secretDetectors,
} from '@gatehouse/core';
import type { ToolMiddleware } from '../context.js';

/**
 * Opens the `execute_tool {name}` span (CLIENT: the gateway calls an upstream server) around the rest of the chain,
 * with the GenAI and MCP attributes, and makes it the active span and `context.span`. It runs first, so policy
 * decisions and the upstream call are recorded inside it. No credential is ever an attribute.
 *
 * Arguments and results are recorded only with `createGateway({ telemetry: { recordContent: true } })` and a
 * recording span: `gen_ai.tool.call.arguments` (as the caller passed them) and `gen_ai.tool.call.result` (as the
 * caller gets it), JSON with secrets redacted and the values of secret-looking keys (`token`, `password`, …)
 * replaced.
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
    // Checked once, first: without it nothing below serialises or scans anything.
    const content = telemetry.recordContent && span.isRecording();
    if (content) setContent(span, Attr.toolCallArguments, context.arguments);
    try {
      const result = await telemetry.withSpan(span, () => next());
      if (result.isError === true && span.isRecording()) span.setAttribute(Attr.errorType, 'tool_error');
      if (content) setContent(span, Attr.toolCallResult, result);
      telemetry.endSpan(span);
      return result;
    } catch (error) {
      telemetry.endSpan(span, error);
      throw error;
    }
  };
}

/** Secrets only: the user asked for content, so personal data stays, but no credential reaches a span. */
const contentRedaction: RedactValueOptions = { detectors: secretDetectors };

function setContent(span: Span, attribute: string, value: unknown): void {
  if (value === undefined) return;
  span.setAttribute(attribute, JSON.stringify(redactValue(value, contentRedaction)));
}
