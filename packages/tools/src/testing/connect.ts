import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ToolCallContext } from '../context.js';

/**
 * Connects an MCP server to a real SDK `Client` over an in-memory transport, for tests of tool middleware:
 * `upstream` is the innermost handler of a chain, calling the context's tool on the server (the context's signal
 * cancels the call there). Close `client` when done.
 *
 * @example
 * const { client, upstream } = await connectInMemory(server);
 * const run = compose([toolAccessMiddleware(policy)], upstream);
 * await run(toolCallContext({ server: 'files', tool: 'read_file', arguments: { path: '/data/a' } }));
 * await client.close();
 */
export async function connectInMemory(
  server: McpServer | Server,
): Promise<{ client: Client; upstream: (context: ToolCallContext) => Promise<CallToolResult> }> {
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await server.connect(serverTransport);
  const client = new Client({ name: 'test', version: '1.0.0' });
  await client.connect(clientTransport);
  const upstream = (context: ToolCallContext) =>
    client.callTool({ name: context.tool, arguments: context.arguments }, undefined, {
      signal: context.signal,
    }) as Promise<CallToolResult>;
  return { client, upstream };
}
