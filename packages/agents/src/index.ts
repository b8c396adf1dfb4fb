export {
  type Agent,
  type AgentLimits,
  type AgentOptions,
  defineAgent,
  type Handoff,
  type StepSummary,
} from './agent/index.js';
export { OutputValidationError } from './errors/index.js';
export { type AgentsApi, type AgentsOptions, agents } from './layer/index.js';
export { type ReplayResult, replay } from './replay/index.js';
export type { Decision } from './runner/index.js';
export type { ChatClient } from './runner/model.js';
export { mcpToolSource, type SourceTool, type SourceToolResult, type ToolSource } from './runner/tool-source.js';
export type {
  AgentEvent,
  CostFunction,
  RunOptions,
  RunResult,
  StepContext,
  StepMiddleware,
  StepResult,
} from './runner/types.js';
export { fileSessions } from './session/file-sessions.js';
export {
  type LimitReason,
  type PendingCall,
  type RecordedRun,
  type RunRecord,
  type RunRecordV1,
  type SessionState,
  type SessionStatus,
  type SessionStore,
  type StepRecord,
  storeSessions,
  type Usage,
} from './session/index.js';
export { asTool, type LocalTool, type ToolExecution, type ToolOptions, tool } from './tool/index.js';
