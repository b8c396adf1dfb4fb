import type { EventBase } from '@gatehouse/core';

/** A server's connection state as the gateway last saw it. */
export interface ServerStatus {
  /** The configured server name. */
  readonly server: string;
  /** `idle`: never used yet; `ready`: connected and listed; `failed`: could not connect, list or answer. */
  readonly state: 'idle' | 'ready' | 'failed';
  /** Why it failed (no credentials, no request content). */
  readonly error?: string;
  /** Epoch milliseconds of the last change. */
  readonly since: number;
}

/** A server came up, failed, or came back. Only changes are emitted. */
export interface ServerStatusEvent extends EventBase {
  server: string;
  state: ServerStatus['state'];
  error?: string | undefined;
}

/** A server said its tools, resources or prompts changed; the gateway re-listed and told its clients. */
export interface ToolListChangedEvent extends EventBase {
  server: string;
  kind: 'tools' | 'resources' | 'resourceTemplates' | 'prompts';
}

/**
 * Two servers expose the same name (a server with `namespace: false`, or a shortened name): the first server in
 * configuration order keeps it and the other's item is left out of the aggregate.
 */
export interface ToolNameConflictEvent extends EventBase {
  kind: 'tools' | 'resources' | 'resourceTemplates' | 'prompts';
  name: string;
  kept: string;
  dropped: string;
}

declare module '@gatehouse/core' {
  interface GatehouseEventMap {
    'server-status': ServerStatusEvent;
    'tool-list-changed': ToolListChangedEvent;
    'tool-name-conflict': ToolNameConflictEvent;
  }
}
