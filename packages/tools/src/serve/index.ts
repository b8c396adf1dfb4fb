import { GatehouseError, PolicyDeniedError, type Principal } from '@gatehouse/core';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  type ClientCapabilities,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { DownstreamSession, ToolsLayer } from '../layer/index.js';
import type { Downstream } from '../upstream/index.js';

/** What a request handler of the served aggregate knows about the request (auth info, session, headers). */
export type ServeRequestExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export interface ServeOptions {
  /**
   * Who is calling, from the inbound request: e.g. `(extra) => principalFromToken(extra.authInfo)`. Undefined (or
   * no function): the scope in force. The caller's own token is never passed on to an upstream server.
   */
  principal?: (extra: ServeRequestExtra) => Principal | undefined;
}

const mcpCodes: Partial<Record<string, number>> = {
  GATEHOUSE_POLICY_DENIED: ErrorCode.InvalidRequest,
  GATEHOUSE_NOT_FOUND: ErrorCode.InvalidParams,
  GATEHOUSE_INVALID_INPUT: ErrorCode.InvalidParams,
  GATEHOUSE_TIMEOUT: ErrorCode.RequestTimeout,
};

/**
 * A Gatehouse error as an MCP error: the JSON-RPC code that fits, and `data.code` the stable Gatehouse code
 * (`GATEHOUSE_POLICY_DENIED`, …) so a client can tell a refusal from a failure.
 */
export function toMcpError(error: unknown): unknown {
  if (error instanceof McpError || !GatehouseError.isInstance(error)) return error;
  const cause = (error as { cause?: unknown }).cause;
  const code = mcpCodes[error.code] ?? (cause instanceof McpError ? cause.code : ErrorCode.InternalError);
  const data: Record<string, unknown> = { code: error.code };
  if (PolicyDeniedError.isInstance(error) && error.rule !== undefined) data.rule = error.rule;
  return new McpError(code, error.message, data);
}

/** Builds the aggregate as an SDK `Server` (one per downstream session). */
export function createAggregateServer(layer: ToolsLayer, options: ServeOptions = {}): Server {
  const server = new Server(layer.options.serverInfo, {
    capabilities: {
      tools: { listChanged: true },
      resources: { listChanged: true },
      prompts: { listChanged: true },
      logging: {},
    },
  });
  const session: DownstreamSession = { server };
  layer.sessions.add(session);
  server.onclose = () => layer.sessions.delete(session);
  const { runtime } = layer;

  const scoped = <T>(extra: ServeRequestExtra, fn: () => Promise<T>): Promise<T> => {
    const principal = options.principal?.(extra);
    const run = () => fn().catch((error: unknown) => Promise.reject(toMcpError(error)));
    return runtime.run(principal ? { principal, signal: extra.signal } : { signal: extra.signal }, run);
  };

  server.setRequestHandler(ListToolsRequestSchema, (request, extra) =>
    scoped(extra, async () => {
      const { items, nextCursor } = await layer.listPage('tools', request.params?.cursor);
      return { tools: items as never, ...(nextCursor === undefined ? {} : { nextCursor }) };
    }),
  );
  server.setRequestHandler(CallToolRequestSchema, (request, extra) =>
    scoped(extra, () => {
      const token = request.params._meta?.progressToken;
      const downstream: Downstream = {
        principal: runtime.scope().principal,
        session,
        sendRequest: (method, params, schema, signal) =>
          extra.sendRequest({ method, params } as never, schema as never, { signal }) as never,
        capabilities: () => server.getClientCapabilities(),
        progress:
          token === undefined
            ? undefined
            : (progress) => {
                extra
                  .sendNotification({ method: 'notifications/progress', params: { ...progress, progressToken: token } })
                  .catch(() => {});
              },
        log: (params) => {
          extra.sendNotification({ method: 'notifications/message', params }).catch(() => {});
        },
      };
      return layer.callTool(
        request.params.name,
        request.params.arguments ?? {},
        { callId: String(extra.requestId) },
        downstream,
      );
    }),
  );
  server.setRequestHandler(ListResourcesRequestSchema, (request, extra) =>
    scoped(extra, async () => {
      const { items, nextCursor } = await layer.listPage('resources', request.params?.cursor);
      return { resources: items as never, ...(nextCursor === undefined ? {} : { nextCursor }) };
    }),
  );
  server.setRequestHandler(ListResourceTemplatesRequestSchema, (request, extra) =>
    scoped(extra, async () => {
      const { items, nextCursor } = await layer.listPage('resourceTemplates', request.params?.cursor);
      return { resourceTemplates: items as never, ...(nextCursor === undefined ? {} : { nextCursor }) };
    }),
  );
  server.setRequestHandler(ReadResourceRequestSchema, (request, extra) =>
    scoped(extra, () => layer.readResource(request.params.uri)),
  );
  server.setRequestHandler(ListPromptsRequestSchema, (request, extra) =>
    scoped(extra, async () => {
      const { items, nextCursor } = await layer.listPage('prompts', request.params?.cursor);
      return { prompts: items as never, ...(nextCursor === undefined ? {} : { nextCursor }) };
    }),
  );
  server.setRequestHandler(GetPromptRequestSchema, (request, extra) =>
    scoped(extra, () => layer.getPrompt(request.params.name, request.params.arguments)),
  );
  return server;
}

/** An SDK `Client` linked in-process to a fresh aggregate `Server`, for the principal in force now. */
export async function createAggregateClient(
  layer: ToolsLayer,
  options: { capabilities?: ClientCapabilities } = {},
): Promise<Client> {
  const principal = layer.runtime.scope().principal;
  const server = createAggregateServer(layer, { principal: () => principal });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client(
    { name: 'gatehouse-aggregate', version: layer.options.serverInfo.version },
    { capabilities: options.capabilities ?? {} },
  );
  await server.connect(serverSide);
  await client.connect(clientSide);
  return client;
}
