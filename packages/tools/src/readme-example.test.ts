// The example at the top of packages/tools/README.md, run as written, so the README cannot rot. The one difference:
// the filesystem server is started as `node <its script>` instead of the `mcp-server-filesystem` bin on PATH.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGateway, PolicyDeniedError } from '@gatehouse/core';
import { captureEvents } from '@gatehouse/core/testing';
import { tools } from '@gatehouse/tools';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';

const filesystemServer = createRequire(import.meta.url).resolve(
  '@modelcontextprotocol/server-filesystem/dist/index.js',
);

let reports: string;
beforeEach(async () => {
  reports = await mkdtemp(join(tmpdir(), 'gatehouse-readme-'));
  await writeFile(join(reports, 'q3.txt'), 'Q3 revenue: 1.2M');
});
afterEach(async () => {
  await rm(reports, { recursive: true, force: true });
});

describe('tools README example', () => {
  it('aggregates an in-process Client and a stdio server under per-team and per-agent rules', async () => {
    // --- README: an MCP server of your own, reached through an SDK Client ---
    const crm = new McpServer({ name: 'crm', version: '1.0.0' });
    crm.registerTool(
      'find_customer',
      { description: 'Finds a customer by name', inputSchema: { name: z.string() } },
      async ({ name }) => ({ content: [{ type: 'text', text: `${name}: ACME Corp, tier gold` }] }),
    );
    crm.registerTool(
      'delete_customer',
      { description: 'Deletes a customer', inputSchema: { name: z.string() } },
      async ({ name }) => ({ content: [{ type: 'text', text: `deleted ${name}` }] }),
    );
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await crm.connect(serverSide);
    const crmClient = new Client({ name: 'my-app', version: '1.0.0' });
    await crmClient.connect(clientSide);

    // --- README: both servers behind one gateway ---
    const gateway = createGateway({
      tools: tools({
        servers: {
          crm: crmClient,
          // README: files: { command: 'mcp-server-filesystem', args: [reports] },
          files: { command: process.execPath, args: [filesystemServer, reports], stderr: 'ignore' },
        },
        access: [
          { id: 'support-crm', principal: { team: 'support' }, servers: 'crm', tools: 'find_*' },
          {
            id: 'analyst-reports',
            principal: { agent: 'analyst' },
            servers: 'files',
            tools: ['read_text_file', 'list_directory'],
            arguments: z.object({ path: z.string().startsWith(reports) }),
          },
          { id: 'no-deletes', effect: 'deny', tools: 'delete_*' },
        ],
      }),
    });
    const audit = captureEvents(gateway.events, ['tool-call']);

    try {
      await gateway.run({ principal: { team: 'support', agent: 'analyst' } }, async () => {
        // Any MCP client (an agent framework, an IDE) sees only what this principal may call.
        const client = await gateway.tools.client();
        const { tools: visible } = await client.listTools();
        expect(visible.map((tool) => tool.name).sort()).toEqual([
          'crm__find_customer',
          'files__list_directory',
          'files__read_text_file',
        ]);
        await client.close();

        const found = await gateway.tools.callTool('crm__find_customer', { name: 'Ana' });
        expect(found.content).toEqual([{ type: 'text', text: 'Ana: ACME Corp, tier gold' }]);
        const report = await gateway.tools.callTool('files__read_text_file', { path: join(reports, 'q3.txt') });
        expect(report.content).toEqual([{ type: 'text', text: 'Q3 revenue: 1.2M' }]);

        // README: a denied call throws PolicyDeniedError naming the rule; nothing reaches the server.
        let denied: unknown;
        try {
          await gateway.tools.callTool('crm__delete_customer', { name: 'Ana' });
        } catch (error) {
          if (!PolicyDeniedError.isInstance(error)) throw error;
          denied = error;
        }
        expect(denied).toMatchObject({ code: 'GATEHOUSE_POLICY_DENIED', rule: 'no-deletes' });

        // An argument constraint refuses a path outside the reports directory, with the reason.
        await expect(gateway.tools.callTool('files__read_text_file', { path: '/etc/passwd' })).rejects.toSatisfy(
          (error: unknown) =>
            PolicyDeniedError.isInstance(error) &&
            error.rule === 'analyst-reports' &&
            error.message.includes('argument "path"'),
        );
      });

      // Another team with no rule for it: deny by default, and it sees nothing.
      await gateway.run({ principal: { team: 'marketing' } }, async () => {
        expect((await gateway.tools.listTools()).tools).toEqual([]);
        await expect(gateway.tools.callTool('crm__find_customer', { name: 'Ana' })).rejects.toSatisfy(
          PolicyDeniedError.isInstance,
        );
      });

      // Every call is audited, refusals included.
      expect(audit.of('tool-call').map((event) => (event as { outcome: string }).outcome)).toEqual([
        'allowed',
        'allowed',
        'denied',
        'denied',
        'denied',
      ]);
      expect(gateway.tools.status().map((status) => [status.server, status.state])).toEqual([
        ['crm', 'ready'],
        ['files', 'ready'],
      ]);
    } finally {
      await gateway.close();
      await crmClient.close();
    }
  });
});
