import { errorType, PolicyDeniedError, RateLimitedError, secretDetectors, ToolChangedError } from '@gatehouse/core';
import { emitToolEvent, hasToolEventListeners } from '../audit/events.js';
import { redactArguments } from '../audit/secrets.js';
import { toolEventFields } from './event-fields.js';

function isRefusal(error) {
  return (
    PolicyDeniedError.isInstance(error) || RateLimitedError.isInstance(error) || ToolChangedError.isInstance(error)
  );
}
/**
 * Emits a `tool-call` audit event for every call: who, which server and tool, the arguments with credentials and
 * detected secrets redacted, the outcome (`allowed`, `denied` by a policy, or `error`), the error code and the
 * duration. Put it first in the chain so that calls refused by the middleware after it are audited too.
 * Costs nothing when no one listens to `tool-call`.
 */
export function toolAuditMiddleware(options = {}) {
  const detectors = options.detectors ?? secretDetectors;
  return async (context, next) => {
    if (!hasToolEventListeners(context.events, 'tool-call')) return next();
    // Taken before the call: the record shows what the caller sent, not what middleware made of it.
    const args = redactArguments(context.arguments, detectors);
    const started = performance.now();
    try {
      const result = await next();
      emitToolEvent(context.events, 'tool-call', {
        ...toolEventFields(context),
        arguments: args,
        outcome: 'allowed',
        isError: result.isError === true,
        durationMs: performance.now() - started,
      });
      return result;
    } catch (error) {
      emitToolEvent(context.events, 'tool-call', {
        ...toolEventFields(context),
        arguments: args,
        outcome: isRefusal(error) ? 'denied' : 'error',
        errorCode: errorType(error),
        rule: PolicyDeniedError.isInstance(error) ? error.rule : undefined,
        durationMs: performance.now() - started,
      });
      throw error;
    }
  };
}
