// A stdio MCP server for the tests: `pid` answers its process id, `crash` makes it exit at once.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';

const server = new McpServer({ name: 'crashing', version: '1.0.0' });
server.registerTool('pid', { description: 'the process id' }, async () => ({
  content: [{ type: 'text', text: String(process.pid) }],
}));
server.registerTool('crash', { description: 'exits the process' }, async () => {
  process.exit(1);
});
await server.connect(new StdioServerTransport());
