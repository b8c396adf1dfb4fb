import { createServer, type Server as HttpServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGateway } from '@gatehouse/core';
import { captureEvents, recordSpans } from '@gatehouse/core/testing';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { tools } from '../index.js';

const text = (result: unknown) => (result as { content: { text: string }[] }).content[0]!.text;

/** Serves `make()` (one MCP server per request, stateless) over Streamable HTTP on 127.0.0.1. */
async function serveHttp(
  make: () => { connect(transport: StreamableHTTPServerTransport): Promise<void>; close(): Promise<void> },
  onRequest?: (request: IncomingMessage & { auth?: AuthInfo }) => void,
): Promise<{ url: URL; http: HttpServer }> {
  const http = createServer(async (request, response) => {
    onRequest?.(request);
    const server = make();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    response.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(request, response);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return { url: new URL(`http://127.0.0.1:${port}/mcp`), http };
}

const closing: (() => Promise<unknown>)[] = [];
beforeEach(() => {
  vi.spyOn(console, 'warn').mockImplementation(() => {});
});
afterEach(async () => {
  vi.restoreAllMocks();
  while (closing.length > 0) await closing.pop()!();
});

/** An upstream HTTP MCP server that records the headers of each request it gets. */
async function recordingUpstream() {
  const seen: Record<string, string | string[] | undefined>[] = [];
  const { url, http } = await serveHttp(
    () => {
      const server = new McpServer({ name: 'crm', version: '1.0.0' });
      server.registerTool('lookup', { inputSchema: { id: z.string() } }, async ({ id }) => ({
        content: [{ type: 'text', text: `customer ${id}` }],
      }));
      return server;
    },
    (request) => seen.push({ ...request.headers }),
  );
  closing.push(() => new Promise((resolve) => http.close(resolve)));
  return { url, seen };
}

describe('Streamable HTTP upstreams and credentials', () => {
  it('injects per-principal credentials into the upstream requests, and never into spans or events', async () => {
    const recorder = recordSpans();
    closing.push(() => recorder.stop());
    const { url, seen } = await recordingUpstream();
    const gateway = createGateway({
      tools: tools({
        servers: {
          crm: {
            url,
            headers: { 'x-api-key': 'static-secret-123' },
            credentials: async (principal) => ({ bearer: `token-for-${principal.user}` }),
          },
        },
      }),
    });
    closing.push(() => gateway.close());
    const events = captureEvents(gateway.events);
    const ana = await gateway.run({ principal: { user: 'ana' } }, () =>
      gateway.tools.callTool('crm__lookup', { id: '7' }),
    );
    expect(text(ana)).toBe('customer 7');
    await gateway.run({ principal: { user: 'bo' } }, () => gateway.tools.callTool('crm__lookup', { id: '8' }));

    const authorizations = new Set(seen.map((headers) => headers.authorization));
    expect(authorizations).toEqual(new Set(['Bearer token-for-ana', 'Bearer token-for-bo']));
    expect(seen.every((headers) => headers['x-api-key'] === 'static-secret-123')).toBe(true);

    const spans = recorder.named('execute_tool crm__lookup');
    expect(spans).toHaveLength(2);
    expect(spans[0]!.attributes).toMatchObject({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'crm__lookup',
      'mcp.method.name': 'tools/call',
      'gatehouse.tool.server': 'crm',
    });
    const everything = JSON.stringify({
      spans: recorder
        .spans()
        .map((span) => ({ name: span.name, attributes: span.attributes, events: span.events, status: span.status })),
      events: events.events,
      status: gateway.tools.status(),
    });
    for (const secret of ['token-for-ana', 'token-for-bo', 'static-secret-123'])
      expect(everything).not.toContain(secret);
  });

  it('reports an upstream that is not listening and keeps serving the others', async () => {
    const { url } = await recordingUpstream();
    const gateway = createGateway({
      tools: tools({ servers: { crm: { url }, gone: { url: 'http://127.0.0.1:9/mcp', connectTimeoutMs: 2_000 } } }),
    });
    closing.push(() => gateway.close());
    expect((await gateway.tools.listTools()).tools.map((tool) => tool.name)).toEqual(['crm__lookup']);
    expect(gateway.tools.status().find((status) => status.server === 'gone')?.state).toBe('failed');
  });
});

describe('gateway.tools.server(): the aggregate over Streamable HTTP', () => {
  it('serves a plain SDK Client, with the principal from the inbound auth, and refuses denied calls as MCP errors', async () => {
    const { url: upstreamUrl, seen } = await recordingUpstream();
    const gateway = createGateway({
      tools: tools({
        servers: { crm: { url: upstreamUrl, headers: { authorization: 'Bearer gateway-held-key' } } },
        access: [{ id: 'sales-lookup', principal: { team: 'sales' }, servers: 'crm', tools: 'lookup' }],
      }),
    });
    closing.push(() => gateway.close());
    const { url, http } = await serveHttp(
      () =>
        gateway.tools.server({
          principal: (extra) => (extra.authInfo ? { team: extra.authInfo.clientId } : undefined),
        }),
      (request) => {
        // The app's own authentication: here the inbound token names the team.
        const token = request.headers.authorization?.replace('Bearer ', '');
        if (token) request.auth = { token, clientId: token.replace('inbound-', ''), scopes: [] };
      },
    );
    closing.push(() => new Promise((resolve) => http.close(resolve)));

    const connect = async (token: string) => {
      const client = new Client({ name: 'plain', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(url, { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
      );
      closing.push(() => client.close());
      return client;
    };
    const sales = await connect('inbound-sales');
    expect((await sales.listTools()).tools.map((tool) => tool.name)).toEqual(['crm__lookup']);
    expect(text(await sales.callTool({ name: 'crm__lookup', arguments: { id: '1' } }))).toBe('customer 1');

    const guest = await connect('inbound-guest');
    expect((await guest.listTools()).tools).toEqual([]);
    const error = await guest
      .callTool({ name: 'crm__lookup', arguments: { id: '1' } })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).data).toMatchObject({ code: 'GATEHOUSE_POLICY_DENIED' });

    // The gateway's own key reached the upstream; the callers' inbound tokens never did.
    expect(seen.length).toBeGreaterThan(0);
    for (const headers of seen) expect(headers.authorization).toBe('Bearer gateway-held-key');
    expect(JSON.stringify(seen)).not.toContain('inbound-');
  });
});

describe('credentials in upstream failures', () => {
  it('scrubs a credential that a failing server echoes back from errors, status and events', async () => {
    const { createServer: createHttp } = await import('node:http');
    const http = createHttp((request, response) => {
      response.writeHead(401, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: `invalid credentials: ${request.headers.authorization}` }));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    closing.push(() => new Promise((resolve) => http.close(resolve)));
    const { port } = http.address() as AddressInfo;
    const gateway = createGateway({
      tools: tools({
        servers: { crm: { url: `http://127.0.0.1:${port}/mcp`, credentials: () => ({ bearer: 'token-for-eve-123' }) } },
      }),
    });
    closing.push(() => gateway.close());
    const events = captureEvents(gateway.events);
    const listed = await gateway.run({ principal: { user: 'eve' } }, () => gateway.tools.listTools());
    expect(listed.tools).toEqual([]);
    const error = await gateway
      .run({ principal: { user: 'eve' } }, () => gateway.tools.callTool('crm__lookup', { id: '1' }))
      .catch((caught: unknown) => caught as Error);
    expect(error).toBeInstanceOf(Error);
    const status = gateway.tools.status()[0]!;
    expect(status.state).toBe('failed');
    expect(status.error).toMatch(/could not connect/);
    expect(status.error).toContain('[REDACTED]');
    const everything = JSON.stringify({
      message: (error as Error).message,
      cause: String((error as Error).cause),
      status,
      events: events.events,
    });
    expect(everything).not.toContain('token-for-eve-123');
  });
});
