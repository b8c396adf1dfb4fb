import { type Principal, TimeoutError, UpstreamError } from '@gatehouse/core';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  type ClientCapabilities,
  CreateMessageRequestSchema,
  type CreateMessageResult,
  ElicitRequestSchema,
  type ElicitResult,
  ErrorCode,
  ListRootsRequestSchema,
  type ListRootsResult,
  type LoggingMessageNotification,
  LoggingMessageNotificationSchema,
  McpError,
  type Progress,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { ResolvedOptions } from '../options/index.js';

export type ServerEntry = ResolvedOptions['servers'][number];

/** The lists an MCP server has. */
export type ListKind = 'tools' | 'resources' | 'resourceTemplates' | 'prompts';

/** A downstream caller with a call in flight on a connection: where a server's own requests can go back to. */
export interface Downstream {
  readonly principal: Principal;
  /** The downstream session (one MCP connection); requests go back only when it is the only one waiting. */
  readonly session: object;
  /** Forwards the server's progress to the caller (with the caller's own progress token). */
  readonly progress?: (progress: Progress) => void;
  /** Forwards a server's log message to the caller. */
  readonly log?: (params: LoggingMessageNotification['params']) => void;
  /** Sends a request to the downstream client, tied to its call (works over every transport). */
  sendRequest?: <T>(method: string, params: unknown, resultSchema: unknown, signal: AbortSignal) => Promise<T>;
  /** What the downstream client declared it can do. */
  capabilities?: () => ClientCapabilities | undefined;
}

/** What a connection tells the layer. */
export interface ConnectionHooks {
  listChanged(connection: Connection, kind: ListKind): void;
  log(connection: Connection, params: LoggingMessageNotification['params']): void;
  closed(connection: Connection): void;
  sampling(connection: Connection, params: unknown, signal: AbortSignal): Promise<CreateMessageResult>;
  elicitation(connection: Connection, params: unknown, signal: AbortSignal): Promise<ElicitResult>;
  roots: ((server: string) => Promise<ListRootsResult>) | undefined;
}

/**
 * One connection to one server (for one principal, when the server has per-principal credentials). It connects
 * on first use, with a timeout, and after the server went away (process exit, transport error) it is discarded
 * and the next use connects afresh.
 */
export class Connection {
  readonly server: ServerEntry;
  /** The principal whose credentials this connection carries; undefined for a shared connection. */
  readonly principal: Principal | undefined;
  /** Calls in flight, so a server's sampling or elicitation request can go back to its caller. */
  readonly inflight = new Set<Downstream>();
  /** Cached lists by kind; dropped when the server says its list changed or the connection is lost. */
  readonly lists = new Map<ListKind, Promise<Page[]>>();
  /** Bumped whenever a list is dropped, so indexes built from an older list are rebuilt. */
  generation = 0;
  lastUsed = Date.now();
  /** Credential values this connection sent, to scrub from error messages (a server may echo them back). */
  readonly #secrets = new Set<string>();
  #client: Client | undefined;
  #connecting: Promise<Client> | undefined;
  #closed = false;
  readonly #hooks: ConnectionHooks;
  readonly #capabilities: ClientCapabilities;

  constructor(server: ServerEntry, principal: Principal | undefined, hooks: ConnectionHooks) {
    this.server = server;
    this.principal = principal;
    this.#hooks = hooks;
    this.#capabilities = { sampling: {}, elicitation: {}, ...(hooks.roots ? { roots: { listChanged: false } } : {}) };
  }

  /** The connected client, connecting first when needed. */
  client(): Promise<Client> {
    this.lastUsed = Date.now();
    if (this.#client) return Promise.resolve(this.#client);
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  /** Whether the connection is up now (a later call may still find it gone). */
  get connected(): boolean {
    return this.#client !== undefined;
  }

  /** Drops the cached lists of `kind` (all kinds when undefined). */
  invalidate(kind?: ListKind): void {
    if (kind) this.lists.delete(kind);
    else this.lists.clear();
    this.generation++;
  }

  /**
   * Called when a request failed: a transport failure (not an MCP error answered by the server) or a closed
   * connection discards the client, so that the next use reconnects.
   */
  failed(error: unknown): void {
    if (error instanceof McpError && error.code !== ErrorCode.ConnectionClosed) return;
    if (TimeoutError.isInstance(error)) return;
    this.#drop();
  }

  /** `message` with every credential this connection sent replaced by `[REDACTED]`. */
  scrub(message: string): string {
    let scrubbed = message;
    for (const secret of this.#secrets) {
      scrubbed = scrubbed.replaceAll(secret, '[REDACTED]');
      // A bearer token may come back without its scheme.
      if (secret.startsWith('Bearer ')) scrubbed = scrubbed.replaceAll(secret.slice(7), '[REDACTED]');
    }
    return scrubbed;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client;
    this.#client = undefined;
    if (client && this.server.definition.kind !== 'client') await client.close().catch(() => {});
  }

  #drop(): void {
    const client = this.#client;
    if (!client) return;
    this.#client = undefined;
    this.invalidate();
    // A client the app gave us is the app's to close; ours are closed so a stdio child does not linger.
    if (this.server.definition.kind !== 'client') void client.close().catch(() => {});
    this.#hooks.closed(this);
  }

  async #connect(): Promise<Client> {
    if (this.#closed)
      throw new UpstreamError({
        message: `server ${this.server.name}: the gateway is closed`,
        target: this.server.name,
      });
    const { definition, name, connectTimeoutMs } = this.server;
    let client: Client;
    let transport: Transport | undefined;
    if (definition.kind === 'client') {
      client = definition.client;
      transport = definition.transport;
      if (client.transport) {
        this.#adopt(client, false);
        return client;
      }
      if (!transport) {
        throw new UpstreamError({
          message: `server ${name}: the Client is not connected and no transport was given; pass { client, transport }`,
          target: name,
        });
      }
    } else {
      client = new Client({ name: 'gatehouse', version: '0.1.0' }, { capabilities: this.#capabilities });
      transport = await this.#transport();
    }
    this.#adopt(client, definition.kind !== 'client');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new TimeoutError({
              message: `server ${name}: connecting took longer than ${connectTimeoutMs} ms`,
              timeoutMs: connectTimeoutMs,
            }),
          ),
        connectTimeoutMs,
      );
    });
    try {
      await Promise.race([client.connect(transport, { timeout: connectTimeoutMs }), timedOut]);
    } catch (error) {
      await client.close().catch(() => {});
      if (GatehouseErrorLike(error)) throw error;
      const message = describe(error);
      const scrubbed = this.scrub(message);
      throw new UpstreamError({
        message: `server ${name}: could not connect: ${scrubbed}`,
        target: name,
        isRetryable: true,
        cause: scrubbed === message ? error : new Error(scrubbed),
      });
    } finally {
      clearTimeout(timer);
    }
    if (this.#closed) {
      await client.close().catch(() => {});
      throw new UpstreamError({ message: `server ${name}: the gateway is closed`, target: name });
    }
    this.#client = client;
    return client;
  }

  /** Installs the handlers for what the server sends: list changes, logs, and its own requests. */
  #adopt(client: Client, ours: boolean): void {
    const previous = client.onclose;
    client.onclose = () => {
      previous?.();
      if (this.#client === client) this.#drop();
    };
    const changed = (kind: ListKind) => () => {
      this.invalidate(kind);
      if (kind === 'resources') this.invalidate('resourceTemplates');
      this.#hooks.listChanged(this, kind);
    };
    client.setNotificationHandler(ToolListChangedNotificationSchema, changed('tools'));
    client.setNotificationHandler(ResourceListChangedNotificationSchema, changed('resources'));
    client.setNotificationHandler(PromptListChangedNotificationSchema, changed('prompts'));
    client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) =>
      this.#hooks.log(this, notification.params),
    );
    // A client the app made keeps its own request handlers: it declared its own capabilities.
    if (!ours) return;
    client.setRequestHandler(CreateMessageRequestSchema, (request, extra) =>
      this.#hooks.sampling(this, request.params, extra.signal),
    );
    client.setRequestHandler(ElicitRequestSchema, (request, extra) =>
      this.#hooks.elicitation(this, request.params, extra.signal),
    );
    const roots = this.#hooks.roots;
    if (roots) client.setRequestHandler(ListRootsRequestSchema, () => roots(this.server.name));
  }

  async #transport(): Promise<Transport> {
    const { definition } = this.server;
    switch (definition.kind) {
      case 'stdio':
        return new StdioClientTransport({
          command: definition.command,
          args: definition.args,
          env: definition.env,
          cwd: definition.cwd,
          stderr: definition.stderr ?? 'inherit',
        });
      case 'http':
        return new StreamableHTTPClientTransport(definition.url, { fetch: this.#fetch(definition) });
      case 'transport':
        return definition.transport();
      default:
        throw new Error('unreachable: a Client definition has no transport factory');
    }
  }

  /**
   * Injects the server's credentials into every request. They live only in this closure: never in the
   * transport's options, a span, an event or an error.
   */
  #fetch(definition: Extract<ServerEntry['definition'], { kind: 'http' }>): typeof fetch {
    const { headers: fixed, credentials } = definition;
    const principal = this.principal ?? {};
    return async (input, init) => {
      const headers = new Headers(init?.headers);
      if (fixed) for (const [key, value] of Object.entries(fixed)) headers.set(key, value);
      if (credentials) {
        const given = await credentials(principal);
        if (given.headers) for (const [key, value] of Object.entries(given.headers)) headers.set(key, value);
        if (given.bearer) headers.set('authorization', `Bearer ${given.bearer}`);
      }
      if (this.#secrets.size < 64) {
        headers.forEach((value, key) => {
          if (secretHeader(key) && value.length >= 8) this.#secrets.add(value);
        });
      }
      return fetch(input, { ...init, headers });
    };
  }
}

/** One page of a server's list, as the server gave it. */
export interface Page {
  /** The cursor that fetched this page (undefined for the first). */
  readonly cursor: string | undefined;
  readonly next: string | undefined;
  readonly items: readonly Record<string, unknown>[];
}

const maxPages = 1_000;

/** Fetches every page of one list from a connected client, or nothing when the server lacks the capability. */
export async function fetchList(client: Client, kind: ListKind, timeout: number): Promise<Page[]> {
  const capabilities = client.getServerCapabilities();
  const capability = kind === 'resourceTemplates' ? 'resources' : kind;
  if (!capabilities?.[capability]) return [];
  const pages: Page[] = [];
  let cursor: string | undefined;
  const options = { timeout };
  do {
    const params = cursor === undefined ? undefined : { cursor };
    let items: Record<string, unknown>[];
    let next: string | undefined;
    if (kind === 'tools') ({ tools: items, nextCursor: next } = await client.listTools(params, options));
    else if (kind === 'resources')
      ({ resources: items, nextCursor: next } = await client.listResources(params, options));
    else if (kind === 'resourceTemplates')
      ({ resourceTemplates: items, nextCursor: next } = await client.listResourceTemplates(params, options));
    else ({ prompts: items, nextCursor: next } = await client.listPrompts(params, options));
    pages.push({ cursor, next, items });
    cursor = next;
  } while (cursor !== undefined && pages.length < maxPages);
  return pages;
}

function GatehouseErrorLike(error: unknown): boolean {
  return TimeoutError.isInstance(error) || UpstreamError.isInstance(error);
}

/** Headers that carry credentials, whatever the gateway was given them as. */
function secretHeader(name: string): boolean {
  return (
    name === 'authorization' ||
    name === 'proxy-authorization' ||
    name === 'cookie' ||
    /key|token|secret|auth|session|password/i.test(name)
  );
}

/** A short description of a failure, without anything the request carried. */
export function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
