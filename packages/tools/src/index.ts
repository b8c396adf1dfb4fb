export type { ToolCallContext, ToolMiddleware, ToolSubject } from './context.js';
export type { ServerStatusEvent, ToolListChangedEvent, ToolNameConflictEvent } from './layer/events.js';
export type { CallOptions, ServerStatus, ToolsApi } from './layer/index.js';
export { tools } from './layer/index.js';
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
export { type ServeOptions, type ServeRequestExtra, toMcpError } from './serve/index.js';
export { executeToolSpanMiddleware } from './telemetry/index.js';
