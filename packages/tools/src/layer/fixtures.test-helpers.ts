import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { z } from 'zod';

/** A real in-process MCP server, made anew for each connection the gateway opens (so it can come back). */
export interface FakeUpstream {
  /** The server of the latest connection. */
  current(): McpServer | undefined;
  /** How many connections were opened. */
  connections(): number;
  /** The transport factory to give the gateway. */
  transport: () => Transport;
  /** Makes new connections fail until `up()`. */
  down(): void;
  up(): void;
}

/** An upstream with an `echo` tool (plus `extra` tools), tagged with its name in every answer. */
export function upstream(name: string, setup?: (server: McpServer) => void): FakeUpstream {
  let server: McpServer | undefined;
  let opened = 0;
  let broken = false;
  return {
    current: () => server,
    connections: () => opened,
    down: () => {
      broken = true;
    },
    up: () => {
      broken = false;
    },
    transport: () => {
      opened++;
      const [client, side] = InMemoryTransport.createLinkedPair();
      if (broken) {
        // A server that accepts the connection but never answers: the connect timeout must fire.
        return client;
      }
      server = new McpServer({ name, version: '1.0.0' }, { capabilities: { logging: {} } });
      server.registerTool(
        'echo',
        { description: `echo from ${name}`, inputSchema: { text: z.string() } },
        async ({ text }) => ({ content: [{ type: 'text', text: `${name}: ${text}` }] }),
      );
      setup?.(server);
      void server.connect(side);
      return client;
    },
  };
}
