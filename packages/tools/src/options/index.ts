import { ConfigError, type Principal, parseOptions } from '@gatehouse/core';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type {
  CreateMessageRequest,
  CreateMessageResult,
  ElicitRequest,
  ElicitResult,
  Root,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { ToolMiddleware } from '../context.js';
import { serverNamePattern } from '../naming/index.js';
import type { ResultSecretScanOptions, ToolApprovalOptions, ToolAuditOptions } from '../policy.js';

/** What every server definition may add. */
export interface ServerCommon {
  /** Keep the server's own names instead of `server__name`. A name that then collides is left out and reported. */
  namespace?: boolean;
  /** How long connecting (spawn, handshake, `initialize`) may take. Default: the layer's `connectTimeoutMs`. */
  connectTimeoutMs?: number;
  /** How long one request to this server may take. Default: the layer's `callTimeoutMs`. */
  callTimeoutMs?: number;
}

/** A server the gateway starts as a child process and speaks to over stdio. It is restarted after it exits. */
export interface StdioServerDefinition extends ServerCommon {
  command: string;
  args?: string[];
  /** Added to a minimal default environment (PATH, HOME, …); the gateway's own environment is not inherited. */
  env?: Record<string, string>;
  cwd?: string;
  /** Where the child's stderr goes. Default `inherit`. */
  stderr?: 'inherit' | 'ignore';
}

/** What a credentials provider answers: headers to send, or a bearer token (sent as `Authorization`). */
export interface Credentials {
  headers?: Record<string, string>;
  bearer?: string;
}

/** A Streamable HTTP server. */
export interface HttpServerDefinition extends ServerCommon {
  url: string | URL;
  /** Static headers sent with every request (an API key the gateway holds). */
  headers?: Record<string, string>;
  /**
   * Credentials per principal, asked for on every HTTP request (so a provider may refresh tokens). When given,
   * the gateway keeps one connection per principal, so an upstream session never mixes two callers' credentials.
   */
  credentials?: (principal: Principal) => Credentials | Promise<Credentials>;
}

/** An SDK `Client` the app made; connected already, or connected by the gateway with `transport`. */
export interface ClientServerDefinition extends ServerCommon {
  client: Client;
  transport?: Transport;
}

/**
 * Any transport, made fresh by the gateway for each connection (so the server comes back after a failure), e.g.
 * one side of `InMemoryTransport.createLinkedPair()`.
 */
export interface TransportServerDefinition extends ServerCommon {
  transport: () => Transport | Promise<Transport>;
}

/** One upstream MCP server: a `Client`, a command, a URL or a transport factory. */
export type ServerDefinition =
  | Client
  | StdioServerDefinition
  | HttpServerDefinition
  | ClientServerDefinition
  | TransportServerDefinition;

/** The downstream side of a request a server sends back (sampling, elicitation), when there is one. */
export interface UpstreamRequestContext {
  /** The configured server name that asked. */
  readonly server: string;
  readonly principal: Principal;
  readonly signal: AbortSignal;
}

export interface ToolsOptions {
  /** The upstream servers by name (letters, digits, `-` and single `_`; the name prefixes their tools). */
  servers: Record<string, ServerDefinition>;
  /** Access rules (see `compileAccess`). None: everything is allowed, with a warning. */
  access?: readonly unknown[];
  /** Named subsets of the aggregate that rules can grant as a unit. */
  virtualServers?: Record<string, unknown>;
  /** Who approves calls whose rule says `approval: true` (see `toolApprovalMiddleware`). */
  approvals?: ToolApprovalOptions;
  /** Options of the `tool-call` audit events (what to redact in arguments). */
  audit?: ToolAuditOptions;
  /** Options of the result secret scan, or `false` to turn it off. Default: on, with core's secret detectors. */
  resultSecretScan?: ResultSecretScanOptions | false;
  /** Your own middleware, run after the gateway's policies and before the result secret scan. */
  middleware?: readonly ToolMiddleware[];
  /** Default connect timeout per server. Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** Default timeout of one upstream request. Default 60 000 ms. */
  callTimeoutMs?: number;
  /**
   * Answers `sampling/createMessage` from a server when no downstream client of that call can (the call came
   * through `gateway.tools.callTool()` or the downstream client has no sampling capability).
   */
  onSampling?: (
    request: CreateMessageRequest['params'],
    context: UpstreamRequestContext,
  ) => Promise<CreateMessageResult>;
  /** Answers `elicitation/create` from a server when no downstream client can. */
  onElicitation?: (request: ElicitRequest['params'], context: UpstreamRequestContext) => Promise<ElicitResult>;
  /** The roots the gateway announces to servers that ask (`roots/list`). None: the roots capability is not offered. */
  roots?: readonly Root[] | ((server: string) => readonly Root[] | Promise<readonly Root[]>);
  /** Most connections kept per server for per-principal credentials; the least recently used is closed. Default 100. */
  maxConnectionsPerServer?: number;
  /** The name and version the aggregate announces when served. Default `gatehouse`. */
  serverInfo?: { name: string; version: string };
}

/** A server definition after validation, tagged by kind. */
export type ResolvedServer =
  | ({ kind: 'stdio' } & StdioServerDefinition)
  | ({ kind: 'http'; url: URL } & Omit<HttpServerDefinition, 'url'>)
  | ({ kind: 'client' } & ClientServerDefinition)
  | ({ kind: 'transport' } & TransportServerDefinition);

export interface ResolvedOptions extends Omit<ToolsOptions, 'servers'> {
  servers: {
    name: string;
    definition: ResolvedServer;
    namespace: boolean;
    connectTimeoutMs: number;
    callTimeoutMs: number;
  }[];
  connectTimeoutMs: number;
  callTimeoutMs: number;
  maxConnectionsPerServer: number;
  serverInfo: { name: string; version: string };
}

const fn = <T>(message: string) => z.custom<T>((value) => typeof value === 'function', { message });
const timeout = z.int().positive().max(3_600_000);
const stringRecord = z.record(z.string(), z.string());

const common = {
  namespace: z.boolean().optional(),
  connectTimeoutMs: timeout.optional(),
  callTimeoutMs: timeout.optional(),
};

const stdioSchema = z.strictObject({
  ...common,
  command: z.string().min(1),
  args: z.array(z.string()).optional(),
  env: stringRecord.optional(),
  cwd: z.string().min(1).optional(),
  stderr: z.enum(['inherit', 'ignore']).optional(),
});

const httpSchema = z.strictObject({
  ...common,
  url: z.union([
    z.instanceof(URL),
    z.string().refine((value) => URL.canParse(value), { message: 'expected an absolute http(s) URL' }),
  ]),
  headers: stringRecord.optional(),
  credentials: fn<HttpServerDefinition['credentials']>(
    'expected a function (principal) => { headers } | { bearer }',
  ).optional(),
});

const isClient = (value: unknown): value is Client =>
  value instanceof Client ||
  (typeof value === 'object' &&
    value !== null &&
    typeof (value as Client).callTool === 'function' &&
    typeof (value as Client).listTools === 'function' &&
    typeof (value as Client).connect === 'function');

const clientSchema = z.strictObject({
  ...common,
  client: z.custom<Client>(isClient, { message: 'expected an MCP SDK Client' }),
  transport: z
    .custom<Transport>((value) => typeof value === 'object' && value !== null && 'start' in value, {
      message: 'expected an MCP Transport',
    })
    .optional(),
});

const transportSchema = z.strictObject({
  ...common,
  transport: fn<TransportServerDefinition['transport']>('expected a function () => Transport'),
});

const optionsSchema = z.strictObject({
  servers: z.record(z.string(), z.unknown()).refine((servers) => Object.keys(servers).length > 0, {
    message: 'expected at least one server',
  }),
  access: z.array(z.unknown()).optional(),
  virtualServers: z.record(z.string(), z.unknown()).optional(),
  approvals: z
    .strictObject({
      onApproval: fn<ToolApprovalOptions['onApproval']>('expected a function (request) => approve | deny'),
      timeoutMs: timeout.optional(),
    })
    .optional(),
  audit: z.strictObject({ detectors: z.array(z.unknown()).optional() }).optional(),
  resultSecretScan: z
    .union([z.literal(false), z.strictObject({ detectors: z.array(z.unknown()).optional() })])
    .optional(),
  middleware: z.array(fn<ToolMiddleware>('expected a middleware function (ctx, next)')).optional(),
  connectTimeoutMs: timeout.optional(),
  callTimeoutMs: timeout.optional(),
  onSampling: fn<ToolsOptions['onSampling']>('expected a function (request, context) => result').optional(),
  onElicitation: fn<ToolsOptions['onElicitation']>('expected a function (request, context) => result').optional(),
  roots: z
    .union([
      z.array(z.strictObject({ uri: z.string().startsWith('file://'), name: z.string().optional() })),
      fn<(server: string) => readonly Root[]>('expected a list of roots or a function (server) => roots'),
    ])
    .optional(),
  maxConnectionsPerServer: z.int().positive().optional(),
  serverInfo: z.strictObject({ name: z.string().min(1), version: z.string().min(1) }).optional(),
});

function resolveServer(name: string, value: unknown): ResolvedServer {
  const prefix = `tools.servers.${name}`;
  if (isClient(value)) return { kind: 'client', client: value };
  if (typeof value !== 'object' || value === null) {
    throw new ConfigError({
      message: `Invalid options: ${prefix}: expected a Client, { command }, { url }, { client } or { transport }`,
      path: prefix,
    });
  }
  if ('command' in value) return { kind: 'stdio', ...parseOptions(stdioSchema, value, prefix) };
  if ('url' in value) {
    const parsed = parseOptions(httpSchema, value, prefix) as HttpServerDefinition;
    const url = new URL(parsed.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ConfigError({
        message: `Invalid options: ${prefix}.url: expected an http(s) URL`,
        path: `${prefix}.url`,
      });
    }
    return { ...parsed, kind: 'http', url };
  }
  if ('client' in value) return { kind: 'client', ...parseOptions(clientSchema, value, prefix) };
  if ('transport' in value) return { kind: 'transport', ...parseOptions(transportSchema, value, prefix) };
  throw new ConfigError({
    message: `Invalid options: ${prefix}: expected one of command (stdio), url (Streamable HTTP), client or transport`,
    path: prefix,
  });
}

/** Validates `tools({ … })` options, throwing a `ConfigError` that names the path of the first problem. */
export function resolveOptions(options: ToolsOptions): ResolvedOptions {
  const parsed = parseOptions(optionsSchema, options, 'tools') as ToolsOptions;
  const connectTimeoutMs = parsed.connectTimeoutMs ?? 10_000;
  const callTimeoutMs = parsed.callTimeoutMs ?? 60_000;
  const servers = Object.entries(parsed.servers).map(([name, value]) => {
    if (!serverNamePattern.test(name) || name.length > 40) {
      throw new ConfigError({
        message: `Invalid options: tools.servers.${name}: a server name has 1 to 40 letters, digits, '-' or single '_' (no '__', which separates server and tool)`,
        path: `tools.servers.${name}`,
      });
    }
    const definition = resolveServer(name, value);
    const own = definition as ServerCommon;
    return {
      name,
      definition,
      namespace: own.namespace ?? true,
      connectTimeoutMs: own.connectTimeoutMs ?? connectTimeoutMs,
      callTimeoutMs: own.callTimeoutMs ?? callTimeoutMs,
    };
  });
  return {
    ...parsed,
    servers,
    connectTimeoutMs,
    callTimeoutMs,
    maxConnectionsPerServer: parsed.maxConnectionsPerServer ?? 100,
    serverInfo: parsed.serverInfo ?? { name: 'gatehouse', version: '0.1.0' },
  };
}
