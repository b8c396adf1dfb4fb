import type { EventBase, EventBus } from '@gatehouse/core';

/** Fields of every event about one tool call. */
export interface ToolCallEventBase extends EventBase {
  /** The configured server name. */
  server: string;
  /** The tool's name on its own server. */
  tool: string;
  /** The name the caller used (`server__tool`). */
  name: string;
  callId?: string | undefined;
}

/** An access decision at call time (`toolAccessMiddleware`). */
export interface PolicyDecisionEvent extends ToolCallEventBase {
  layer: 'tools';
  allowed: boolean;
  /** The rule that decided; absent for the open policy and for a default deny. */
  rule?: string | undefined;
  reason: string;
}

/** A call waits for an approver (`toolApprovalMiddleware`). */
export interface ApprovalRequestedEvent extends ToolCallEventBase {
  approvalId: string;
  rule?: string | undefined;
  /** The arguments with credentials and detected secrets redacted. */
  arguments: Record<string, unknown>;
  timeoutMs: number;
}

/** The approver answered, or the wait timed out (a timeout denies). */
export interface ApprovalDecidedEvent extends ToolCallEventBase {
  approvalId: string;
  rule?: string | undefined;
  decision: 'approve' | 'deny' | 'timeout';
  reason?: string | undefined;
  waitedMs: number;
}

/** The audit record of one tool call, denied calls included (`toolAuditMiddleware`). */
export interface ToolCallEvent extends ToolCallEventBase {
  /** The arguments with credentials and detected secrets redacted. */
  arguments: Record<string, unknown>;
  /** `allowed`: the call reached the server and answered; `denied`: a policy refused it; `error`: it failed. */
  outcome: 'allowed' | 'denied' | 'error';
  /** The Gatehouse error code (or `error.type`) when the outcome is not `allowed`. */
  errorCode?: string | undefined;
  /** The rule that refused a denied call, when one did. */
  rule?: string | undefined;
  /** Whether the server answered with a tool error (`isError: true`). */
  isError?: boolean | undefined;
  durationMs: number;
}

/** A tool's definition differs from its pin (`ToolPins`); calls to it are refused until accepted. */
export interface ToolChangedEvent extends EventBase {
  server: string;
  tool: string;
  /** SHA-256 of the pinned definition. */
  pinnedHash: string;
  /** SHA-256 of the definition the server lists now. */
  hash: string;
}

/** Secrets were found in a tool's result and redacted before the caller saw them. */
export interface ToolResultRedactedEvent extends ToolCallEventBase {
  /** The kinds of secret found, e.g. `github-token`. Never the secrets themselves. */
  kinds: string[];
  count: number;
}

declare module '@gatehouse/core' {
  interface GatehouseEventMap {
    'policy-decision': PolicyDecisionEvent;
    'approval-requested': ApprovalRequestedEvent;
    'approval-decided': ApprovalDecidedEvent;
    'tool-call': ToolCallEvent;
    'tool-changed': ToolChangedEvent;
    'tool-result-redacted': ToolResultRedactedEvent;
  }
}

/** The events the policy middleware and pins emit, by name. */
export interface ToolPolicyEvents {
  'policy-decision': PolicyDecisionEvent;
  'approval-requested': ApprovalRequestedEvent;
  'approval-decided': ApprovalDecidedEvent;
  'tool-call': ToolCallEvent;
  'tool-changed': ToolChangedEvent;
  'tool-result-redacted': ToolResultRedactedEvent;
}

type LooseBus = { emit(type: string, payload: unknown): void; has(type: string): boolean };

/**
 * Emits one of these events, typed by `ToolPolicyEvents`. Goes through a loosely typed view of the bus because
 * TypeScript merges `declare module '@gatehouse/core'` augmentations into core's named re-export rather than
 * into `GatehouseEventMap` itself, so `EventName` does not list them yet (reported to core).
 */
export function emitToolEvent<K extends keyof ToolPolicyEvents>(
  events: EventBus,
  type: K,
  payload: ToolPolicyEvents[K],
): void {
  (events as unknown as LooseBus).emit(type, payload);
}

/** Whether anyone listens to one of these events (check before building an expensive payload). */
export function hasToolEventListeners(events: EventBus, type: keyof ToolPolicyEvents): boolean {
  return (events as unknown as LooseBus).has(type);
}
