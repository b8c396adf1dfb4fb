import { Attr, PolicyDeniedError } from '@gatehouse/core';
import { describePrincipal } from '../access/index.js';
import { emitToolEvent, hasToolEventListeners } from '../audit/events.js';
import { toolEventFields } from './event-fields.js';
/**
 * Decides each call against the access rules (arguments included) before anything reaches the server. A refusal
 * throws `PolicyDeniedError` (with the rule in `rule`); an allowed call carries the decision on `context.decision`
 * for the approval, rate-limit and timeout middleware after it. Emits `policy-decision` and a span event.
 *
 * @example
 * const policy = compileAccess([{ principal: { team: 'risk' }, servers: 'github', tools: 'get_*' }]);
 * const chain = compose([toolAuditMiddleware(), toolAccessMiddleware(policy)], callUpstream);
 */
export function toolAccessMiddleware(policy) {
  return async (context, next) => {
    const decision = policy.decide(context, context.arguments);
    context.decision = decision;
    if (hasToolEventListeners(context.events, 'policy-decision')) {
      emitToolEvent(context.events, 'policy-decision', {
        ...toolEventFields(context),
        layer: 'tools',
        allowed: decision.allowed,
        rule: decision.rule,
        reason: decision.reason,
      });
    }
    const span = context.span;
    if (span.isRecording()) {
      const verdict = decision.allowed ? 'allow' : 'deny';
      span.setAttribute(Attr.decision, verdict);
      span.addEvent('gatehouse.policy.decision', {
        [Attr.decision]: verdict,
        'gatehouse.policy.rule': decision.rule ?? '',
        'gatehouse.policy.reason': decision.reason,
      });
    }
    if (!decision.allowed) {
      throw new PolicyDeniedError({
        rule: decision.rule,
        message: `Access denied: ${describePrincipal(context.principal)} may not call ${context.name}: ${decision.reason}`,
      });
    }
    return next();
  };
}
