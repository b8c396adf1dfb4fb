// @gatehouse/tools: many MCP servers behind one, under one chain of policies.

// The layer and what it offers.
export type { ToolCallContext, ToolMiddleware, ToolSubject } from './context.js';
export type { ServerStatusEvent, ToolListChangedEvent, ToolNameConflictEvent } from './layer/events.js';
export { type CallOptions, type ServerStatus, type ToolsApi, tools } from './layer/index.js';
export { exposedName } from './naming/index.js';
export type {
  ClientServerDefinition,
  Credentials,
  HttpServerDefinition,
  ServerDefinition,
  StdioServerDefinition,
  ToolsOptions,
  TransportServerDefinition,
  UpstreamRequestContext,
} from './options/index.js';
// Access rules, approvals, limits, audit, secret scanning and pinning, each usable on its own.
export {
  type AccessDecision,
  type AccessPolicy,
  type AccessRule,
  type ApprovalAnswer,
  type ApprovalRequest,
  type ArgumentCheck,
  compileAccess,
  type PolicyDecisionEvent,
  type PrincipalMatch,
  type ResultSecretScanOptions,
  resultSecretScanMiddleware,
  type ToolApprovalOptions,
  type ToolAuditOptions,
  type ToolCallEvent,
  type ToolChangedEvent,
  ToolPins,
  type ToolRateLimit,
  toolAccessMiddleware,
  toolApprovalMiddleware,
  toolAuditMiddleware,
  toolPinningMiddleware,
  toolRateLimitMiddleware,
  toolTimeoutMiddleware,
  type VirtualServer,
} from './policy.js';
// Serving the aggregate and the span.
export { type ServeOptions, type ServeRequestExtra, toMcpError } from './serve/index.js';
export { executeToolSpanMiddleware } from './telemetry/index.js';
