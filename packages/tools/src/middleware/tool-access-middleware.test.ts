import { posix } from 'node:path';
import { compose, EventBus, PolicyDeniedError, SpanKind, Telemetry } from '@gatehouse/core';
import { recordSpans } from '@gatehouse/core/testing';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compileAccess } from '../access/index.js';
import type { ToolCallContext, ToolMiddleware } from '../context.js';
import { connectInMemory } from '../testing/connect.js';
import { toolCallContext } from './call-context.js';
import { toolAccessMiddleware } from './tool-access-middleware.js';

/** A real MCP server with a `read_file` tool, connected to a real client; `reads` records what reached it. */
async function filesServer() {
  const server = new McpServer({ name: 'files', version: '1.0.0' });
  const reads: string[] = [];
  server.registerTool(
    'read_file',
    { description: 'Reads a file', inputSchema: { path: z.string() } },
    async ({ path }) => {
      reads.push(path);
      return { content: [{ type: 'text', text: `contents of ${path}` }] };
    },
  );
  const { client, upstream } = await connectInMemory(server);
  return { client, reads, upstream };
}

const underPublic = (args: Record<string, unknown>) => {
  const resolved = posix.resolve('/', String(args.path));
  return resolved.startsWith('/data/public/') || 'path must stay under /data/public';
};

describe('toolAccessMiddleware', () => {
  let files: Awaited<ReturnType<typeof filesServer>>;
  beforeEach(async () => {
    files = await filesServer();
  });
  afterEach(async () => {
    await files.client.close();
  });

  const policy = compileAccess([
    { id: 'public-files', principal: { team: 'risk' }, servers: 'files', tools: 'read_file', arguments: underPublic },
  ]);

  it('lets an allowed call through to the server', async () => {
    const run = compose([toolAccessMiddleware(policy)], files.upstream);
    const result = await run(
      toolCallContext({
        server: 'files',
        tool: 'read_file',
        principal: { team: 'risk', user: 'ana' },
        arguments: { path: '/data/public/q3.txt' },
      }),
    );
    expect(result.content).toEqual([{ type: 'text', text: 'contents of /data/public/q3.txt' }]);
    expect(files.reads).toEqual(['/data/public/q3.txt']);
  });

  it('refuses a ../ traversal with PolicyDeniedError before anything reaches the server', async () => {
    const run = compose([toolAccessMiddleware(policy)], files.upstream);
    const context = toolCallContext({
      server: 'files',
      tool: 'read_file',
      principal: { team: 'risk', user: 'ana' },
      arguments: { path: '/data/public/../private/salaries.csv' },
    });
    const error = await run(context).catch((caught: unknown) => caught);
    expect(PolicyDeniedError.isInstance(error)).toBe(true);
    expect((error as PolicyDeniedError).rule).toBe('public-files');
    expect((error as PolicyDeniedError).message).toBe(
      'Access denied: team "risk", user "ana" may not call files__read_file: path must stay under /data/public',
    );
    expect(files.reads).toEqual([]);
  });

  it('denies by default, without a rule, for a principal no rule names', async () => {
    const run = compose([toolAccessMiddleware(policy)], files.upstream);
    const error = await run(
      toolCallContext({
        server: 'files',
        tool: 'read_file',
        principal: { agent: 'triage' },
        arguments: { path: '/data/public/q3.txt' },
      }),
    ).catch((caught: unknown) => caught);
    expect(PolicyDeniedError.isInstance(error)).toBe(true);
    expect((error as PolicyDeniedError).rule).toBeUndefined();
    expect((error as Error).message).toContain('no access rule allows agent "triage" to use files__read_file');
    expect(files.reads).toEqual([]);
  });

  it('emits policy-decision events and hands the decision to the middleware after it', async () => {
    const events = new EventBus();
    const seen: Record<string, unknown>[] = [];
    events.onAny((event) => {
      if ((event.type as string) === 'policy-decision') seen.push(event as unknown as Record<string, unknown>);
    });
    const limited = compileAccess([{ id: 'limited', servers: 'files', rateLimit: { requests: 5, windowMs: 1000 } }]);
    let decisionSeen: ToolCallContext['decision'];
    const peek: ToolMiddleware = (context, next) => {
      decisionSeen = context.decision;
      return next();
    };
    const run = compose([toolAccessMiddleware(limited), peek], files.upstream);
    await run(
      toolCallContext({
        server: 'files',
        tool: 'read_file',
        principal: { user: 'ana' },
        arguments: { path: '/data/public/a' },
        events,
        callId: '7',
      }),
    );
    await run(toolCallContext({ server: 'other', tool: 'x', principal: { user: 'ana' }, events })).catch(() => {});
    expect(decisionSeen).toMatchObject({ allowed: true, rule: 'limited', rateLimit: { requests: 5, windowMs: 1000 } });
    expect(seen).toEqual([
      expect.objectContaining({
        type: 'policy-decision',
        layer: 'tools',
        server: 'files',
        tool: 'read_file',
        name: 'files__read_file',
        callId: '7',
        principal: { user: 'ana' },
        allowed: true,
        rule: 'limited',
        reason: 'allowed by rule "limited"',
      }),
      expect.objectContaining({ allowed: false, rule: undefined, server: 'other' }),
    ]);
  });

  it('records the decision on the active span', async () => {
    const recorder = recordSpans();
    try {
      const telemetry = new Telemetry();
      const span = telemetry.startSpan('execute_tool read_file', SpanKind.INTERNAL);
      const run = compose([toolAccessMiddleware(policy)], files.upstream);
      await run(
        toolCallContext({
          server: 'files',
          tool: 'read_file',
          principal: { team: 'risk' },
          arguments: { path: '/etc/passwd' },
          span,
          telemetry,
        }),
      ).catch(() => {});
      span.end();
      const [recorded] = recorder.named('execute_tool read_file');
      expect(recorded?.attributes['gatehouse.policy.decision']).toBe('deny');
      expect(recorded?.events.map((event) => [event.name, event.attributes])).toEqual([
        [
          'gatehouse.policy.decision',
          {
            'gatehouse.policy.decision': 'deny',
            'gatehouse.policy.rule': 'public-files',
            'gatehouse.policy.reason': 'path must stay under /data/public',
          },
        ],
      ]);
    } finally {
      await recorder.stop();
    }
  });
});
