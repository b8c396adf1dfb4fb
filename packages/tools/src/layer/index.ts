import {
  AbortedError,
  ConfigError,
  compose,
  type GatewayRuntime,
  type Handler,
  type Layer,
  type LayerInstance,
  NotFoundError,
  type Principal,
  TimeoutError,
  UpstreamError,
} from '@gatehouse/core';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  type CallToolResult,
  type ClientCapabilities,
  CreateMessageResultSchema,
  ElicitResultSchema,
  ErrorCode,
  type GetPromptResult,
  type ListPromptsResult,
  type ListResourcesResult,
  type ListResourceTemplatesResult,
  type ListToolsResult,
  McpError,
  type ReadResourceResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { Catalog, type CatalogEntry, type KindIndex, page } from '../catalog/index.js';
import type { ToolCallContext, ToolMiddleware } from '../context.js';
import { type ResolvedOptions, resolveOptions, type ToolsOptions } from '../options/index.js';
import {
  type AccessPolicy,
  type AccessRule,
  compileAccess,
  resultSecretScanMiddleware,
  ToolPins,
  toolAccessMiddleware,
  toolApprovalMiddleware,
  toolAuditMiddleware,
  toolPinningMiddleware,
  toolRateLimitMiddleware,
  toolTimeoutMiddleware,
  type VirtualServer,
} from '../policy.js';
import { createAggregateClient, createAggregateServer, type ServeOptions } from '../serve/index.js';
import { executeToolSpanMiddleware } from '../telemetry/index.js';
import { Connection, type ConnectionHooks, type Downstream, describe, type ListKind } from '../upstream/index.js';
import { isMcpClient, wrapClient } from '../wrap/index.js';
import type { ServerStatus } from './events.js';

export type { ServerStatus } from './events.js';

/** Options of one direct call. */
export interface CallOptions {
  signal?: AbortSignal;
  /** The tool call id (e.g. the model's `tool_call.id`), recorded on the span and events. */
  callId?: string;
}

/** What `gateway.tools` offers. */
export interface ToolsApi {
  /** Lists the aggregate's tools visible to the current principal (MCP pagination: pass `nextCursor` back). */
  listTools(options?: { cursor?: string }): Promise<ListToolsResult>;
  /** Calls a tool by its aggregate name (`server__tool`) through the gateway's chain, as the current principal. */
  callTool(name: string, args?: Record<string, unknown>, options?: CallOptions): Promise<CallToolResult>;
  listResources(options?: { cursor?: string }): Promise<ListResourcesResult>;
  listResourceTemplates(options?: { cursor?: string }): Promise<ListResourceTemplatesResult>;
  /** Reads a resource by its URI (unchanged from its server), routed to the server that lists it. */
  readResource(uri: string): Promise<ReadResourceResult>;
  listPrompts(options?: { cursor?: string }): Promise<ListPromptsResult>;
  getPrompt(name: string, args?: Record<string, string>): Promise<GetPromptResult>;
  /** Each server's state as last seen. */
  status(): ServerStatus[];
  /**
   * Forgets every cached list, so the next listing asks every server again (for servers that change without
   * sending `list_changed`).
   */
  refresh(): void;
  /**
   * An MCP `Client` connected in-process to the aggregate, for the principal in force now (captured here).
   * Use it like any MCP client; close it when done.
   */
  client(options?: { capabilities?: ClientCapabilities }): Promise<Client>;
  /**
   * A fresh MCP SDK `Server` serving the aggregate; connect it to any transport (one per session). The principal of
   * each request comes from `options.principal(extra)` (e.g. from `extra.authInfo`), else from the scope in force.
   */
  server(options?: ServeOptions): Server;
  /** The tool pins: `accept(server, tool)` after reviewing a changed definition. */
  readonly pins: ToolPins;
}

const internal = Symbol('gatehouse.tools.call');

/** What the innermost handler needs besides the context; kept off the public context type. */
interface CallTarget {
  readonly connection: Connection | undefined;
  readonly downstream: Downstream | undefined;
  /** For a wrapped client: calls it directly. */
  readonly direct: ((context: ToolCallContext) => Promise<CallToolResult>) | undefined;
}

type InternalContext = ToolCallContext & { [internal]: CallTarget };

/** A downstream MCP session served by this layer (for list_changed and logging). */
export interface DownstreamSession {
  readonly server: Server;
}

/** Orders the principal's fields so the same principal always gives the same key. */
function principalKey(principal: Principal): string {
  return JSON.stringify([principal.team, principal.user, principal.agent, principal.tags]);
}

/** The tools layer once attached to a gateway. Internal: users reach it as `gateway.tools`. */
export class ToolsLayer {
  readonly runtime: GatewayRuntime;
  readonly options: ResolvedOptions;
  readonly policy: AccessPolicy;
  readonly pins: ToolPins;
  readonly catalog: Catalog;
  readonly sessions = new Set<DownstreamSession>();
  readonly #chain: Handler<ToolCallContext, CallToolResult>;
  readonly #shared: (Connection | undefined)[];
  readonly #perPrincipal: Map<string, Connection>[];
  readonly #anyPerPrincipal: boolean;
  readonly #status = new Map<string, ServerStatus>();
  readonly #hooks: ConnectionHooks;
  #sharedList: Connection[] | undefined;
  #closed = false;

  constructor(options: ResolvedOptions, policy: AccessPolicy, runtime: GatewayRuntime) {
    this.runtime = runtime;
    this.options = options;
    this.policy = policy;
    this.pins = new ToolPins({ store: runtime.store, events: runtime.events });
    const now = Date.now();
    for (const server of options.servers)
      this.#status.set(server.name, { server: server.name, state: 'idle', since: now });
    this.#hooks = this.#connectionHooks();
    this.#perPrincipal = options.servers.map(() => new Map());
    this.#shared = options.servers.map((server) =>
      server.definition.kind === 'http' && server.definition.credentials
        ? undefined
        : new Connection(server, undefined, this.#hooks),
    );
    this.#anyPerPrincipal = this.#shared.includes(undefined);
    this.catalog = new Catalog({
      status: (server, error) => this.setStatus(server.name, error),
      conflict: (kind, name, kept, dropped) =>
        runtime.events.emit('tool-name-conflict', {
          time: Date.now(),
          principal: runtime.scope().principal,
          kind,
          name,
          kept,
          dropped,
        }),
      toolsListed: async (connection, tools) => {
        await this.pins.observe(
          connection.server.name,
          tools as unknown as Tool[],
          connection.principal ?? runtime.scope().principal,
        );
      },
    });
    // Order (the first sees the call first): the span wraps everything; audit records every outcome, refusals
    // included; access decides before anything costs; a changed (rug-pulled) tool is refused; approval, rate limit
    // and timeout apply the deciding rule's settings; the app's middleware sees only allowed calls; the secret scan
    // cleans the result before anyone after the server sees it.
    const chain: ToolMiddleware[] = [
      executeToolSpanMiddleware(),
      toolAuditMiddleware(options.audit),
      toolAccessMiddleware(policy),
      toolPinningMiddleware(this.pins),
      ...(options.approvals ? [toolApprovalMiddleware(options.approvals)] : []),
      toolRateLimitMiddleware(),
      toolTimeoutMiddleware(),
      ...(options.middleware ?? []),
      ...(options.resultSecretScan === false ? [] : [resultSecretScanMiddleware(options.resultSecretScan)]),
    ];
    this.#chain = compose(chain, (context) => this.#invoke(context as InternalContext));
  }

  /** The connection to each server for `principal`, in configuration order. */
  connections(principal: Principal): { key: string; list: Connection[] } {
    if (!this.#anyPerPrincipal) {
      this.#sharedList ??= this.#shared as Connection[];
      return { key: '', list: this.#sharedList };
    }
    const key = principalKey(principal);
    const list = this.options.servers.map((server, index) => {
      const shared = this.#shared[index];
      if (shared) return shared;
      const connections = this.#perPrincipal[index]!;
      let connection = connections.get(key);
      if (connection) {
        // Re-inserted so that the map's order is least recently used first.
        connections.delete(key);
      } else {
        connection = new Connection(server, principal, this.#hooks);
        if (connections.size >= this.options.maxConnectionsPerServer) {
          const [oldest, evicted] = connections.entries().next().value!;
          connections.delete(oldest);
          if (evicted.inflight.size === 0) void evicted.close();
        }
      }
      connections.set(key, connection);
      return connection;
    });
    return { key, list };
  }

  /** The aggregate index of `kind` for the current principal. */
  async index(kind: ListKind, refresh: boolean, principal = this.runtime.scope().principal): Promise<KindIndex> {
    const { key, list } = this.connections(principal);
    return this.catalog.index(kind, key, list, refresh);
  }

  /** One page of a merged listing, filtered by what the principal may see. */
  async listPage(
    kind: ListKind,
    cursor: string | undefined,
  ): Promise<{ items: Record<string, unknown>[]; nextCursor?: string }> {
    const principal = this.runtime.scope().principal;
    const index = await this.index(kind, cursor === undefined, principal);
    let keep: (entry: CatalogEntry) => boolean;
    if (kind === 'tools') {
      keep = (entry) => this.#toolVisible(principal, entry);
    } else {
      const servers = await this.#visibleServers(principal);
      keep = (entry) => servers.has(entry.connection.server.name);
    }
    const result = page(index, cursor, keep);
    return result.nextCursor === undefined ? { items: result.items } : result;
  }

  #toolVisible(principal: Principal, entry: CatalogEntry): boolean {
    const server = entry.connection.server.name;
    if (this.pins.check(server, entry.own) === 'changed') return false;
    return this.policy.open || this.policy.visible({ principal, server, tool: entry.own });
  }

  /** Servers whose resources and prompts `principal` may see: those with at least one tool it may see. */
  async #visibleServers(principal: Principal): Promise<Set<string>> {
    if (this.policy.open) return new Set(this.options.servers.map((server) => server.name));
    const tools = await this.index('tools', false, principal);
    const servers = new Set<string>();
    for (const entry of tools.byKey.values()) {
      if (this.policy.visible({ principal, server: entry.connection.server.name, tool: entry.own })) {
        servers.add(entry.connection.server.name);
      }
    }
    return servers;
  }

  /** Calls a tool of the aggregate by its exposed name, as the current principal. */
  async callTool(
    name: string,
    args: Record<string, unknown> = {},
    options: CallOptions = {},
    downstream?: Downstream,
  ): Promise<CallToolResult> {
    let index = await this.index('tools', false);
    let entry = index.byKey.get(name);
    if (entry === undefined && index.incomplete) {
      index = await this.index('tools', true);
      entry = index.byKey.get(name);
    }
    if (entry === undefined) {
      const failed = index.servers.filter((server) => !server.pages).map((server) => server.connection.server.name);
      throw new NotFoundError({
        message: `Unknown tool "${name}": no server lists it${failed.length > 0 ? ` (unavailable now: ${failed.join(', ')})` : ''}; list the tools to see their names (server__tool)`,
      });
    }
    return this.run(entry.connection.server.name, entry.own, name, entry.item as Tool, args, options, {
      connection: entry.connection,
      downstream,
      direct: undefined,
    });
  }

  /** Runs one call through the chain. */
  run(
    server: string,
    tool: string,
    name: string,
    definition: Tool | undefined,
    args: Record<string, unknown>,
    options: CallOptions,
    target: CallTarget,
  ): Promise<CallToolResult> {
    const base = this.runtime.context();
    const signal =
      options.signal === undefined
        ? base.signal
        : base.signal === undefined
          ? options.signal
          : AbortSignal.any([base.signal, options.signal]);
    // Written out, not spread: V8 builds this literal with a stable shape many times faster than `{ ...base, … }`.
    const context: InternalContext = {
      principal: base.principal,
      sessionId: base.sessionId,
      metadata: base.metadata,
      signal,
      span: base.span,
      events: base.events,
      store: base.store,
      telemetry: base.telemetry,
      server,
      tool,
      name,
      arguments: args,
      definition,
      callId: options.callId,
      decision: undefined,
      [internal]: target,
    };
    return this.#chain(context);
  }

  async #invoke(context: InternalContext): Promise<CallToolResult> {
    const target = context[internal];
    if (target.direct) return target.direct(context);
    const connection = target.connection!;
    const { server } = connection;
    let client: Client;
    try {
      client = await connection.client();
    } catch (error) {
      this.setStatus(server.name, error);
      throw error;
    }
    const downstream = target.downstream;
    if (downstream) connection.inflight.add(downstream);
    try {
      const result = await client.callTool({ name: context.tool, arguments: context.arguments }, undefined, {
        signal: context.signal,
        timeout: server.callTimeoutMs,
        onprogress: downstream?.progress,
      });
      if (this.#status.get(server.name)?.state !== 'ready') this.setStatus(server.name, undefined);
      return result as CallToolResult;
    } catch (error) {
      connection.failed(error);
      if (!connection.connected) this.setStatus(server.name, error);
      throw upstreamFailure(error, connection, context.signal);
    } finally {
      if (downstream) connection.inflight.delete(downstream);
    }
  }

  async readResource(uri: string): Promise<ReadResourceResult> {
    const entry = (await this.#resourceEntry(uri, false)) ?? (await this.#resourceEntry(uri, true));
    if (!entry)
      throw new NotFoundError({ message: `Unknown resource "${uri}": no server lists it or a template matching it` });
    await this.#assertServerVisible(entry.connection.server.name, `resource ${uri}`);
    return this.#request(entry.connection, (client, options) => client.readResource({ uri }, options));
  }

  async #resourceEntry(uri: string, refresh: boolean): Promise<CatalogEntry | undefined> {
    const resources = await this.index('resources', refresh);
    const listed = resources.byKey.get(uri);
    if (listed) return listed;
    const templates = await this.index('resourceTemplates', refresh);
    for (const { template, entry } of templates.templates) if (template.match(uri)) return entry;
    return undefined;
  }

  async getPrompt(name: string, args?: Record<string, string>): Promise<GetPromptResult> {
    let index = await this.index('prompts', false);
    let entry = index.byKey.get(name);
    if (!entry && index.incomplete) {
      index = await this.index('prompts', true);
      entry = index.byKey.get(name);
    }
    if (!entry)
      throw new NotFoundError({ message: `Unknown prompt "${name}": no server lists it (names are server__prompt)` });
    await this.#assertServerVisible(entry.connection.server.name, `prompt ${name}`);
    const own = entry.own;
    return this.#request(entry.connection, (client, options) =>
      client.getPrompt({ name: own, arguments: args }, options),
    );
  }

  async #assertServerVisible(server: string, what: string): Promise<void> {
    const principal = this.runtime.scope().principal;
    if ((await this.#visibleServers(principal)).has(server)) return;
    throw new NotFoundError({ message: `Unknown ${what}: no server you may use lists it` });
  }

  async #request<T>(
    connection: Connection,
    send: (client: Client, options: { timeout: number; signal?: AbortSignal }) => Promise<T>,
  ): Promise<T> {
    const client = await connection.client();
    const signal = this.runtime.scope().signal;
    try {
      return await send(client, { timeout: connection.server.callTimeoutMs, ...(signal ? { signal } : {}) });
    } catch (error) {
      connection.failed(error);
      throw upstreamFailure(error, connection, signal);
    }
  }

  refresh(): void {
    for (const connection of this.#allConnections()) connection.invalidate();
  }

  #allConnections(): Connection[] {
    return [
      ...this.#shared.filter((connection) => connection !== undefined),
      ...this.#perPrincipal.flatMap((map) => [...map.values()]),
    ];
  }

  status(): ServerStatus[] {
    return [...this.#status.values()];
  }

  setStatus(server: string, error: unknown): void {
    const state = error === undefined ? 'ready' : 'failed';
    const before = this.#status.get(server);
    const message = error === undefined ? undefined : describe(error);
    if (before?.state === state && before.error === message) return;
    const status: ServerStatus = {
      server,
      state,
      since: Date.now(),
      ...(message === undefined ? {} : { error: message }),
    };
    this.#status.set(server, status);
    this.runtime.events.emit('server-status', {
      time: status.since,
      principal: {},
      server,
      state,
      ...(message === undefined ? {} : { error: message }),
    });
  }

  #connectionHooks(): ConnectionHooks {
    const roots = this.options.roots;
    return {
      listChanged: (connection, kind) => {
        const { server } = connection;
        this.runtime.events.emit('tool-list-changed', {
          time: Date.now(),
          principal: connection.principal ?? {},
          server: server.name,
          kind,
        });
        // Re-list now (which re-pins), then tell every downstream session so it lists again.
        const principal = connection.principal ?? {};
        const relisted = this.index(kind, true, principal).catch(() => undefined);
        void relisted.then(() => {
          for (const session of this.sessions) {
            const notify =
              kind === 'tools'
                ? session.server.sendToolListChanged()
                : kind === 'prompts'
                  ? session.server.sendPromptListChanged()
                  : session.server.sendResourceListChanged();
            notify.catch(() => {});
          }
        });
      },
      log: (connection, params) => {
        // Only to the clients with a call in flight on that server: a log may concern their call, and never
        // another principal's.
        const logger = params.logger ? `${connection.server.name}/${params.logger}` : connection.server.name;
        for (const downstream of connection.inflight) downstream.log?.({ ...params, logger });
      },
      closed: (connection) => this.setStatus(connection.server.name, new Error('the connection was lost')),
      sampling: (connection, params, signal) =>
        this.#askDownstream(
          connection,
          'sampling/createMessage',
          'sampling',
          params,
          signal,
          CreateMessageResultSchema,
          (context) => this.options.onSampling?.(params as never, context),
        ),
      elicitation: (connection, params, signal) =>
        this.#askDownstream(
          connection,
          'elicitation/create',
          'elicitation',
          params,
          signal,
          ElicitResultSchema,
          (context) => this.options.onElicitation?.(params as never, context),
        ),
      roots:
        roots === undefined
          ? undefined
          : async (server) => ({ roots: [...(typeof roots === 'function' ? await roots(server) : roots)] }),
    };
  }

  /**
   * A server's own request goes back to the downstream client whose call it came during, when exactly one
   * downstream session has calls in flight there and it can answer; otherwise to the app's handler.
   */
  async #askDownstream<T>(
    connection: Connection,
    method: string,
    capability: 'sampling' | 'elicitation',
    params: unknown,
    signal: AbortSignal,
    schema: unknown,
    fallback: (context: { server: string; principal: Principal; signal: AbortSignal }) => Promise<T> | undefined,
  ): Promise<T> {
    const sessions = new Set<unknown>();
    let chosen: Downstream | undefined;
    let principal: Principal | undefined;
    for (const downstream of connection.inflight) {
      principal ??= downstream.principal;
      if (downstream.sendRequest && downstream.capabilities?.()?.[capability]) {
        sessions.add(downstream.session);
        chosen = downstream;
      }
    }
    if (chosen?.sendRequest && sessions.size === 1) return chosen.sendRequest<T>(method, params, schema, signal);
    const answer = fallback({
      server: connection.server.name,
      principal: principal ?? connection.principal ?? {},
      signal,
    });
    if (answer) return answer;
    throw new McpError(
      ErrorCode.InvalidRequest,
      `gatehouse: no client can answer ${method} for server ${connection.server.name}: the caller has no ${capability} capability and no on${capability === 'sampling' ? 'Sampling' : 'Elicitation'} handler is configured`,
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const all = this.#allConnections();
    for (const session of this.sessions) await session.server.close().catch(() => {});
    this.sessions.clear();
    await Promise.all(all.map((connection) => connection.close()));
    this.catalog.clear();
  }
}

/** Turns a failure of an upstream request into a Gatehouse error that names the server (and nothing it was sent). */
function upstreamFailure(error: unknown, connection: Connection, signal: AbortSignal | undefined): unknown {
  const server = connection.server.name;
  const timeoutMs = connection.server.callTimeoutMs;
  if (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    typeof (error as { code: unknown }).code === 'string'
  ) {
    return error; // Already a Gatehouse error.
  }
  if (signal?.aborted) return new AbortedError({ message: `the call to server ${server} was cancelled`, cause: error });
  if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) {
    return new TimeoutError({
      message: `server ${server} did not answer within ${timeoutMs} ms`,
      timeoutMs,
      cause: error,
    });
  }
  const message = describe(error);
  const scrubbed = connection.scrub(message);
  return new UpstreamError({
    message: `server ${server} failed: ${scrubbed}`,
    target: server,
    // A cause that quoted a credential is replaced, so that logging `error.cause` cannot leak it either.
    cause: scrubbed === message ? error : new Error(scrubbed),
    isRetryable: !(error instanceof McpError),
  });
}

/**
 * The tools layer: many MCP servers behind one, under one chain of policies.
 *
 * Each call runs, in this order: the `execute_tool` span, audit (`tool-call` events), access (rules decided with
 * the arguments), pinning (a changed definition is refused), approval, rate limit and timeout (from the deciding
 * rule), your `middleware`, the result secret scan, then the upstream call. Listing applies the same rules (`visible`), so a principal sees only what
 * it may call. With no `access` rules everything is allowed (a warning says so once).
 *
 * @example
 * const gateway = createGateway({
 *   tools: tools({
 *     servers: {
 *       files: { command: 'mcp-server-filesystem', args: ['/srv/data'] },
 *       github: { url: 'https://mcp.example.com/mcp', credentials: async (principal) => ({ bearer: await tokenFor(principal) }) },
 *     },
 *     access: [{ principal: { team: 'risk' }, servers: 'files', tools: 'read_*' }],
 *   }),
 * });
 * await gateway.run({ principal: { team: 'risk' } }, () => gateway.tools.callTool('files__read_text_file', { path: '/srv/data/a.txt' }));
 */
export function tools(options: ToolsOptions): Layer<'tools', ToolsApi> {
  const resolved = resolveOptions(options);
  const rules = resolved.access as AccessRule[] | undefined;
  const policy = compileAccess(rules, {
    virtualServers: resolved.virtualServers as Record<string, VirtualServer> | undefined,
  });
  const needsApproval = rules?.findIndex((rule) => rule.approval !== undefined) ?? -1;
  if (needsApproval >= 0 && !resolved.approvals) {
    throw new ConfigError({
      message: `Invalid options: tools.access[${needsApproval}].approval: this rule asks for approval but no approver is configured; pass tools({ approvals: { onApproval } })`,
      path: `tools.access[${needsApproval}].approval`,
    });
  }
  return {
    kind: 'tools',
    attach(runtime): LayerInstance<ToolsApi> {
      const layer = new ToolsLayer(resolved, policy, runtime);
      if (policy.open) {
        console.warn(
          '[gatehouse] tools: no access rules are configured, so every principal may list and call every tool; pass tools({ access: [...] }) to restrict them',
        );
      }
      const listing =
        <K extends string>(kind: ListKind, field: K) =>
        async (options?: { cursor?: string }) => {
          const { items, nextCursor } = await layer.listPage(kind, options?.cursor);
          return { [field]: items, ...(nextCursor === undefined ? {} : { nextCursor }) } as never;
        };
      const api: ToolsApi = {
        listTools: listing('tools', 'tools'),
        callTool: (name, args, callOptions) => layer.callTool(name, args, callOptions),
        listResources: listing('resources', 'resources'),
        listResourceTemplates: listing('resourceTemplates', 'resourceTemplates'),
        readResource: (uri) => layer.readResource(uri),
        listPrompts: listing('prompts', 'prompts'),
        getPrompt: (name, args) => layer.getPrompt(name, args),
        status: () => layer.status(),
        refresh: () => layer.refresh(),
        client: (clientOptions) => createAggregateClient(layer, clientOptions),
        server: (serveOptions) => createAggregateServer(layer, serveOptions),
        pins: layer.pins,
      };
      return {
        api,
        wraps: isMcpClient,
        wrap: (client) => wrapClient(layer, client as unknown as Client) as unknown as typeof client,
        close: () => layer.close(),
      };
    },
  };
}
