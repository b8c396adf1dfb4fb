/**
 * The gateway of the demo: the routes and governance of the models layer, the MCP servers and access rules of the
 * tools layer, and the agents layer with its file session store.
 */
import { createRequire } from 'node:module';
import { agents, fileSessions } from '@gatehouse/agents';
import { createGateway } from '@gatehouse/core';
import { models, piiGuardrail } from '@gatehouse/models';
import { tools } from '@gatehouse/tools';
import { modelNames, type Providers } from './providers.js';
import type { backofficeServers } from './servers.js';

export interface FintechGatewayOptions {
  providers: Providers;
  servers: ReturnType<typeof backofficeServers>['servers'];
  /** The folder the filesystem MCP server may read (it holds the contract). */
  workDir: string;
  /** Where the agents' sessions are checkpointed. */
  sessionsDir: string;
}

function filesystemServerBin(): string {
  // The package's `mcp-server-filesystem` bin, run with this Node so the demo does not depend on PATH.
  return createRequire(import.meta.url).resolve('@modelcontextprotocol/server-filesystem/dist/index.js');
}

export function fintechGateway({ providers, servers, workDir, sessionsDir }: FintechGatewayOptions) {
  return createGateway({
    models: models({
      providers: {
        openai: providers.openai,
        anthropic: providers.anthropic,
        ...(providers.selfHosted ? { selfhosted: providers.selfHosted } : {}),
      },
      routes: {
        documents: {
          targets: [
            { provider: 'openai', model: modelNames.documents },
            { provider: 'anthropic', model: modelNames.documentsFallback, parameters: { max_tokens: 1024 } },
          ],
        },
        contracts: { targets: [{ provider: 'anthropic', model: modelNames.contracts }] },
        internal: {
          targets: providers.selfHosted
            ? [{ provider: 'selfhosted', model: modelNames.selfHosted }]
            : [{ provider: 'openai', model: modelNames.triage }],
        },
        triage: { targets: [{ provider: 'openai', model: modelNames.triage }] },
        risk: { targets: [{ provider: 'anthropic', model: modelNames.risk, parameters: { max_tokens: 2048 } }] },
      },
      // Short backoff: the demo's outage is scripted, and a person is watching.
      retry: { retries: 1, minTimeout: 50, maxTimeout: 200 },
      // Governance, in the order it runs: the guardrail sees the final answer, budgets refuse before any spend,
      // costs are recorded per team, user and model.
      guardrails: [piiGuardrail({ detectors: ['card'], action: 'redact', phase: 'output' })],
      budgets: [{ per: 'team', window: 'day', dollars: 25 }],
      // The self-hosted model at the app's own price (dollars per million tokens).
      prices: { providers: { selfhosted: { '': { input: 0.3, output: 0.3 } } } },
    }),
    tools: tools({
      servers: {
        ...servers,
        files: { command: process.execPath, args: [filesystemServerBin(), workDir], stderr: 'ignore' },
      },
      // Deny by default: each team and agent gets the tools its job needs, and nothing else.
      access: [
        { id: 'legal-reads-contracts', principal: { team: 'legal' }, servers: 'files', tools: 'read_text_file' },
        {
          id: 'gatherer-reads-db',
          principal: { agent: 'gatherer' },
          servers: 'db',
          tools: ['get_account', 'query_*'],
        },
        {
          id: 'analyst-reads',
          principal: { agent: 'analyst' },
          servers: ['github', 'db'],
          tools: ['search_*', 'query_*'],
        },
        { id: 'notifier-tickets', principal: { agent: 'notifier' }, servers: 'jira', tools: 'create_ticket' },
        {
          id: 'notifier-alerts',
          principal: { agent: 'notifier' },
          servers: 'slack',
          tools: 'post_message',
          arguments: (args: Record<string, unknown>) =>
            args.channel === '#fraud-ops' || 'the notifier posts to #fraud-ops only',
        },
      ],
    }),
    agents: agents({ client: providers.openai, sessions: { store: fileSessions(sessionsDir) } }),
  });
}
