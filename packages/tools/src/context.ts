import type { BaseContext, Middleware, Principal } from '@gatehouse/core';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { AccessDecision } from './access/index.js';

/**
 * What each tool-call middleware receives. The tools layer builds one per `tools/call`, from the current
 * scope, and runs it through the chain (audit → access → approval → rate limit → timeout → upstream).
 */
export interface ToolCallContext extends BaseContext {
  /** The configured server name (the key in `tools({ servers })`). */
  readonly server: string;
  /** The tool's name on its own server. */
  readonly tool: string;
  /** The name the caller used: namespaced (`server__tool`) unless the server has `namespace: false`. */
  readonly name: string;
  /** The arguments; middleware may replace them (a redaction, a default) before `next()`. */
  arguments: Record<string, unknown>;
  /** The tool's definition as last listed (and pinned), when known. */
  readonly definition: Tool | undefined;
  /** The JSON-RPC request id / tool call id, when the caller gave one. */
  readonly callId: string | undefined;
  /**
   * The access decision for this call, set by `toolAccessMiddleware` for the middleware after it (approval,
   * rate limit and timeout read the rule's settings from it). Undefined before access ran or without it.
   */
  decision?: AccessDecision;
}

/** A middleware around one tool call. */
export type ToolMiddleware = Middleware<ToolCallContext, CallToolResult>;

/** What an access decision at list time or call time needs to know. */
export interface ToolSubject {
  readonly principal: Principal;
  readonly server: string;
  readonly tool: string;
}
