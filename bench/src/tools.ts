import { createGateway } from '@gatehouse/core';
import { tools } from '@gatehouse/tools';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { measure, type Sample } from './measure.js';

/** A real in-process MCP server with one `echo` tool, on a fresh linked pair. */
function echoTransport() {
  const server = new McpServer({ name: 'bench', version: '1.0.0' });
  server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  const [client, side] = InMemoryTransport.createLinkedPair();
  void server.connect(side);
  return client;
}

/** A server whose tools/list answers after `delayMs` (a slow upstream). */
function slowListTransport(name: string, delayMs: number) {
  return () => {
    const server = new Server({ name, version: '1.0.0' }, { capabilities: { tools: {} } });
    const listed = Array.from({ length: 5 }, (_, i) => ({
      name: `tool_${i}`,
      inputSchema: { type: 'object' as const },
    }));
    server.setRequestHandler(ListToolsRequestSchema, async () => {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return { tools: listed };
    });
    server.setRequestHandler(CallToolRequestSchema, async () => ({ content: [] }));
    const [client, side] = InMemoryTransport.createLinkedPair();
    void server.connect(side);
    return client;
  };
}

/**
 * The tools layer's overhead: a tool call through the gateway (span, access, chain, routing) against the same call
 * on a direct in-memory SDK client; and listing 10 servers (1–10 ms each) against the slowest one alone.
 */
export async function toolsBench(): Promise<Sample[]> {
  const warn = console.warn;
  console.warn = () => {};
  const direct = new Client({ name: 'bench', version: '1.0.0' });
  await direct.connect(echoTransport());
  const gateway = createGateway({ tools: tools({ servers: { bench: { transport: echoTransport } } }) });
  const guarded = createGateway({
    tools: tools({
      servers: { bench: { transport: echoTransport } },
      access: [{ principal: { team: 'risk' }, servers: 'bench', tools: 'echo' }],
    }),
  });
  const ten = createGateway({
    tools: tools({
      servers: Object.fromEntries(
        Array.from({ length: 10 }, (_, i) => [`s${i}`, { transport: slowListTransport(`s${i}`, i + 1) }]),
      ),
    }),
  });
  console.warn = warn;
  const slowest = new Client({ name: 'bench', version: '1.0.0' });
  await slowest.connect(slowListTransport('slowest', 10)());
  const wrapped = gateway.wrap(direct);
  const args = { text: 'x' };
  const options = { iterations: 20_000, batch: 50, warmup: 2_000 };
  const listing = { iterations: 60, batch: 1, warmup: 5 };
  await ten.tools.listTools();
  const samples = [
    await measure(
      'tools: direct in-memory client.callTool (baseline)',
      () => direct.callTool({ name: 'echo', arguments: args }),
      options,
    ),
    await measure(
      'tools: gateway.tools.callTool, no rules',
      () => gateway.tools.callTool('bench__echo', args),
      options,
    ),
    // The scope is set once around the loop, as an app sets it once per request.
    await guarded.run({ principal: { team: 'risk' } }, () =>
      measure(
        'tools: gateway.tools.callTool, access rules',
        () => guarded.tools.callTool('bench__echo', args),
        options,
      ),
    ),
    await measure(
      'tools: gateway.wrap(client).callTool, no rules',
      () => wrapped.callTool({ name: 'echo', arguments: args }),
      options,
    ),
    // Once any gateway.run() has happened, AsyncLocalStorage's promise hooks tax every promise in the process
    // (the SDK's included); this row is the fair baseline for the two rows above.
    await measure(
      'tools: direct in-memory client.callTool, AsyncLocalStorage active',
      () => direct.callTool({ name: 'echo', arguments: args }),
      options,
    ),
    await measure('tools: listTools on the slowest server alone (10 ms)', () => slowest.listTools(), listing),
    await measure(
      'tools: gateway listTools over 10 servers (1–10 ms), re-listed',
      () => {
        ten.tools.refresh();
        return ten.tools.listTools();
      },
      listing,
    ),
  ];
  await Promise.all([direct.close(), slowest.close(), gateway.close(), guarded.close(), ten.close()]);
  return samples;
}
