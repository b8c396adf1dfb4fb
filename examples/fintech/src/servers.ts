/**
 * Four small MCP servers standing in for a fintech's internal systems: GitHub, the transactions database, Jira and
 * Slack. Each is a real MCP SDK `McpServer`, reached in-process through a linked transport pair; the tools layer
 * makes a fresh one per connection (so a server could come back after a failure), and they all share one state.
 */
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

/** What the systems hold, and what the demo did to them (tickets opened, messages posted). */
export interface Backoffice {
  readonly tickets: { key: string; project: string; summary: string; priority: string }[];
  readonly messages: { channel: string; text: string; ts: string }[];
}

const accounts = {
  'ACC-2291': {
    holder: 'Maya Lindqvist',
    card: 'Visa debit ending 4242',
    homeCountry: 'SE',
    opened: '2019-04-02',
    usualMonthlySpendEur: 1_850,
  },
};

// Card-not-present payments in three countries within one hour: the pattern the workflow is about.
const transactions = [
  {
    id: 'tx_9001',
    account: 'ACC-2291',
    at: '2026-11-23T08:02Z',
    amountEur: 42.5,
    merchant: 'Pressbyrån',
    country: 'SE',
    channel: 'card-present',
  },
  {
    id: 'tx_9002',
    account: 'ACC-2291',
    at: '2026-11-23T13:41Z',
    amountEur: 1.0,
    merchant: 'QuickPay Verify',
    country: 'LT',
    channel: 'card-not-present',
  },
  {
    id: 'tx_9003',
    account: 'ACC-2291',
    at: '2026-11-23T13:47Z',
    amountEur: 899.0,
    merchant: 'GadgetHub Online',
    country: 'LT',
    channel: 'card-not-present',
  },
  {
    id: 'tx_9004',
    account: 'ACC-2291',
    at: '2026-11-23T14:05Z',
    amountEur: 1_249.0,
    merchant: 'Nordic Electronics AB',
    country: 'NL',
    channel: 'card-not-present',
  },
  {
    id: 'tx_9005',
    account: 'ACC-2291',
    at: '2026-11-23T14:29Z',
    amountEur: 2_310.0,
    merchant: 'LuxWatch Store',
    country: 'AE',
    channel: 'card-not-present',
  },
];

const commits = [
  {
    sha: 'a41c9e2',
    repo: 'payments/card-auth',
    date: '2026-11-21',
    author: 'jonas',
    message: 'Raise card-not-present velocity threshold from 3 to 6 per hour',
  },
  {
    sha: '7be0d13',
    repo: 'payments/card-auth',
    date: '2026-11-18',
    author: 'priya',
    message: 'Add 3-D Secure exemption for merchants under 30 EUR',
  },
  {
    sha: 'c0ffee1',
    repo: 'payments/ledger',
    date: '2026-11-20',
    author: 'li',
    message: 'Velocity metrics exported to the risk dashboard',
  },
];

const json = (value: unknown): CallToolResult => ({ content: [{ type: 'text', text: JSON.stringify(value) }] });

function github(): McpServer {
  const server = new McpServer({ name: 'github', version: '1.0.0' });
  server.registerTool(
    'search_commits',
    {
      description: 'Search the commit messages of a repository',
      inputSchema: { repo: z.string().describe('owner/name'), query: z.string() },
      annotations: { readOnlyHint: true, idempotentHint: true },
    },
    async ({ repo, query }) =>
      json(
        commits.filter((commit) => commit.repo === repo && commit.message.toLowerCase().includes(query.toLowerCase())),
      ),
  );
  return server;
}

function database(): McpServer {
  const server = new McpServer({ name: 'db', version: '1.0.0' });
  server.registerTool(
    'get_account',
    {
      description: 'Read one customer account (read-only replica)',
      inputSchema: { account: z.string() },
      annotations: { readOnlyHint: true, idempotentHint: true },
    },
    async ({ account }) => {
      const found = accounts[account as keyof typeof accounts];
      return found
        ? json({ account, ...found })
        : { isError: true, content: [{ type: 'text', text: `no account ${account}` }] };
    },
  );
  server.registerTool(
    'query_transactions',
    {
      description: 'Card transactions of an account over the last hours (read-only replica)',
      inputSchema: { account: z.string(), sinceHours: z.number().int().positive().max(720) },
      annotations: { readOnlyHint: true, idempotentHint: true },
    },
    async ({ account }) => json(transactions.filter((transaction) => transaction.account === account)),
  );
  return server;
}

function jira(state: Backoffice): McpServer {
  const server = new McpServer({ name: 'jira', version: '1.0.0' });
  server.registerTool(
    'create_ticket',
    {
      description: 'Open a Jira ticket',
      inputSchema: {
        project: z.string(),
        summary: z.string(),
        description: z.string().optional(),
        priority: z.enum(['Low', 'Medium', 'High', 'Highest']).default('Medium'),
      },
    },
    async ({ project, summary, priority }) => {
      const key = `${project}-${1041 + state.tickets.length + 1}`;
      state.tickets.push({ key, project, summary, priority });
      return json({ key, url: `https://jira.example.com/browse/${key}` });
    },
  );
  return server;
}

function slack(state: Backoffice): McpServer {
  const server = new McpServer({ name: 'slack', version: '1.0.0' });
  server.registerTool(
    'post_message',
    {
      description: 'Post a message to a Slack channel',
      inputSchema: { channel: z.string().startsWith('#'), text: z.string() },
    },
    async ({ channel, text }) => {
      const ts = `1763906${String(state.messages.length).padStart(3, '0')}.000100`;
      state.messages.push({ channel, text, ts });
      return json({ ok: true, channel, ts });
    },
  );
  return server;
}

/** A transport factory for the tools layer: each connection gets a new server, linked in-process. */
function inProcess(make: () => McpServer): () => Transport {
  return () => {
    const [client, server] = InMemoryTransport.createLinkedPair();
    void make().connect(server);
    return client;
  };
}

/** The four in-process servers as tools-layer definitions, and the state they share. */
export function backofficeServers(): {
  state: Backoffice;
  servers: Record<'github' | 'db' | 'jira' | 'slack', { transport: () => Transport }>;
} {
  const state: Backoffice = { tickets: [], messages: [] };
  return {
    state,
    servers: {
      github: { transport: inProcess(github) },
      db: { transport: inProcess(database) },
      jira: { transport: inProcess(() => jira(state)) },
      slack: { transport: inProcess(() => slack(state)) },
    },
  };
}
