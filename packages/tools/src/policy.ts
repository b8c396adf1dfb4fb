// The tools layer's policy pieces: access rules, pinning, audit and the middleware that enforce them.
// Chain order (first sees the call first): audit → access → pinning → approval → rate limit → timeout →
// result secret scan → upstream.
export {
  type AccessDecision,
  type AccessOptions,
  type AccessPolicy,
  type AccessRule,
  type ArgumentCheck,
  type ArgumentSchema,
  compileAccess,
  describePrincipal,
  type OneOrMany,
  type PrincipalMatch,
  type ToolRateLimit,
  type VirtualServer,
} from './access/index.js';
export type {
  ApprovalDecidedEvent,
  ApprovalRequestedEvent,
  PolicyDecisionEvent,
  ToolCallEvent,
  ToolCallEventBase,
  ToolChangedEvent,
  ToolPolicyEvents,
  ToolResultRedactedEvent,
} from './audit/events.js';
export { redactArguments } from './audit/secrets.js';
export { type ToolCallContextOptions, toolCallContext } from './middleware/call-context.js';
export {
  type ResultSecretScanOptions,
  resultSecretScanMiddleware,
} from './middleware/result-secret-scan-middleware.js';
export { toolAccessMiddleware } from './middleware/tool-access-middleware.js';
export {
  type ApprovalAnswer,
  type ApprovalRequest,
  type ToolApprovalOptions,
  toolApprovalMiddleware,
} from './middleware/tool-approval-middleware.js';
export { type ToolAuditOptions, toolAuditMiddleware } from './middleware/tool-audit-middleware.js';
export { toolPinningMiddleware } from './middleware/tool-pinning-middleware.js';
export { type ToolRateLimitOptions, toolRateLimitMiddleware } from './middleware/tool-rate-limit-middleware.js';
export { type ToolTimeoutOptions, toolTimeoutMiddleware } from './middleware/tool-timeout-middleware.js';
export {
  canonicalJson,
  hashToolDefinition,
  type PinnedDefinition,
  type PinVerdict,
  ToolPins,
  type ToolPinsOptions,
} from './pinning/index.js';
