import { compose, EventBus, MemoryStore } from '@gatehouse/core';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compileAccess } from '../access/index.js';
import { connectInMemory } from '../testing/connect.js';
import { toolCallContext } from './call-context.js';
import { toolAccessMiddleware } from './tool-access-middleware.js';
import { toolAuditMiddleware } from './tool-audit-middleware.js';
import { toolRateLimitMiddleware } from './tool-rate-limit-middleware.js';
import { toolTimeoutMiddleware } from './tool-timeout-middleware.js';

const githubToken = `ghp_${'a1B2c3D4e5'.repeat(4)}`;

async function httpServer() {
  const server = new McpServer({ name: 'http', version: '1.0.0' });
  server.registerTool(
    'fetch',
    {
      description: 'Fetches a URL',
      inputSchema: { url: z.string(), headers: z.record(z.string(), z.string()).optional() },
    },
    async ({ url }) => ({ content: [{ type: 'text', text: `fetched ${url}` }] }),
  );
  server.registerTool('broken', { description: 'Fails' }, async () => {
    throw new Error('disk full');
  });
  server.registerTool('hang', { description: 'Hangs' }, (extra) => {
    return new Promise<CallToolResult>((resolve) =>
      extra.signal.addEventListener('abort', () => resolve({ content: [] })),
    );
  });
  const { client, upstream } = await connectInMemory(server);
  return { client, upstream };
}

function auditLog(events: EventBus) {
  const seen: Record<string, unknown>[] = [];
  events.onAny((event) => {
    if ((event.type as string) === 'tool-call') seen.push(event as unknown as Record<string, unknown>);
  });
  return seen;
}

describe('toolAuditMiddleware', () => {
  let http: Awaited<ReturnType<typeof httpServer>>;
  beforeEach(async () => {
    http = await httpServer();
  });
  afterEach(async () => {
    await http.client.close();
  });

  const policy = compileAccess([
    { id: 'fetch', servers: 'http', tools: ['fetch', 'broken', 'hang'], timeoutMs: 20 },
    { id: 'limited', servers: 'http', tools: 'limited', rateLimit: { requests: 1, windowMs: 60_000 } },
  ]);
  const chain = () =>
    compose(
      [toolAuditMiddleware(), toolAccessMiddleware(policy), toolRateLimitMiddleware(), toolTimeoutMiddleware()],
      http.upstream,
    );

  it('records an allowed call with credentials and detected secrets redacted', async () => {
    const events = new EventBus();
    const log = auditLog(events);
    const args = {
      url: `https://api.example.com/repos?access=${githubToken}`,
      headers: { Authorization: 'Basic dXNlcjpodW50ZXIy', 'X-Trace': 'abc' },
      token: 'plain-token-value',
      password: 'hunter2',
      apiKey: 'k-123',
      secret: { nested: 'shh' },
      options: { github_token: 'also-secret', depth: 2 },
    };
    await chain()(
      toolCallContext({
        server: 'http',
        tool: 'fetch',
        principal: { team: 'risk', user: 'ana' },
        arguments: args,
        events,
        callId: 'call-1',
        sessionId: 'session-9',
      }),
    );
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({
      type: 'tool-call',
      principal: { team: 'risk', user: 'ana' },
      sessionId: 'session-9',
      server: 'http',
      tool: 'fetch',
      name: 'http__fetch',
      callId: 'call-1',
      outcome: 'allowed',
      isError: false,
      arguments: {
        url: 'https://api.example.com/repos?access=[REDACTED:github-token]',
        headers: { Authorization: '[REDACTED]', 'X-Trace': 'abc' },
        token: '[REDACTED]',
        password: '[REDACTED]',
        apiKey: '[REDACTED]',
        secret: '[REDACTED]',
        options: { github_token: '[REDACTED]', depth: 2 },
      },
    });
    expect(typeof log[0]!.durationMs).toBe('number');
    const serialized = JSON.stringify(log);
    for (const secret of [
      githubToken,
      'dXNlcjpodW50ZXIy',
      'plain-token-value',
      'hunter2',
      'k-123',
      'shh',
      'also-secret',
    ]) {
      expect(serialized).not.toContain(secret);
    }
    // The call itself got the real arguments.
    expect(args.password).toBe('hunter2');
  });

  it('records denied calls (access, rate limit) with the error code and rule', async () => {
    const events = new EventBus();
    const log = auditLog(events);
    const store = new MemoryStore();
    const run = chain();
    await run(toolCallContext({ server: 'http', tool: 'delete', principal: { user: 'bob' }, events })).catch(() => {});
    await run(toolCallContext({ server: 'http', tool: 'limited', events, store })).catch(() => {});
    await run(toolCallContext({ server: 'http', tool: 'limited', events, store })).catch(() => {});
    expect(log.map(({ tool, outcome, errorCode, rule }) => ({ tool, outcome, errorCode, rule }))).toEqual([
      { tool: 'delete', outcome: 'denied', errorCode: 'GATEHOUSE_POLICY_DENIED', rule: undefined },
      // The first call to `limited` passed the limit and reached the server, which has no such tool.
      { tool: 'limited', outcome: 'allowed', errorCode: undefined, rule: undefined },
      { tool: 'limited', outcome: 'denied', errorCode: 'GATEHOUSE_RATE_LIMITED', rule: undefined },
    ]);
  });

  it('records failures: a tool error result and a timeout', async () => {
    const events = new EventBus();
    const log = auditLog(events);
    const run = chain();
    const broken = await run(toolCallContext({ server: 'http', tool: 'broken', events }));
    expect(broken.isError).toBe(true);
    await run(toolCallContext({ server: 'http', tool: 'hang', events })).catch(() => {});
    expect(log.map(({ tool, outcome, errorCode, isError }) => ({ tool, outcome, errorCode, isError }))).toEqual([
      { tool: 'broken', outcome: 'allowed', errorCode: undefined, isError: true },
      { tool: 'hang', outcome: 'error', errorCode: 'GATEHOUSE_TIMEOUT', isError: undefined },
    ]);
  });
});
