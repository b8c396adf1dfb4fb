import { AbortedError, ConfigError, compose, EventBus, PolicyDeniedError } from '@gatehouse/core';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compileAccess } from '../access/index.js';
import { connectInMemory } from '../testing/connect.js';
import { toolCallContext } from './call-context.js';
import { toolAccessMiddleware } from './tool-access-middleware.js';
import { type ApprovalRequest, toolApprovalMiddleware } from './tool-approval-middleware.js';

async function deployServer() {
  const server = new McpServer({ name: 'deploy', version: '1.0.0' });
  const deployed: string[] = [];
  server.registerTool(
    'deploy',
    { description: 'Deploys a service', inputSchema: { service: z.string(), token: z.string().optional() } },
    async ({ service }) => {
      deployed.push(service);
      return { content: [{ type: 'text', text: `deployed ${service}` }] };
    },
  );
  server.registerTool('status', { description: 'Service status' }, async () => ({
    content: [{ type: 'text', text: 'ok' }],
  }));
  const { client, upstream } = await connectInMemory(server);
  return { client, deployed, upstream };
}

const policy = compileAccess([
  { id: 'deploys-need-approval', servers: 'deploy', tools: 'deploy', approval: true },
  { id: 'quick-approval', servers: 'deploy', tools: 'rollback', approval: { timeoutMs: 15 } },
  { id: 'reads', servers: 'deploy', tools: 'status' },
]);

function collect(events: EventBus, types: string[]) {
  const seen: Record<string, unknown>[] = [];
  events.onAny((event) => {
    if (types.includes(event.type as string)) seen.push(event as unknown as Record<string, unknown>);
  });
  return seen;
}

describe('toolApprovalMiddleware', () => {
  let deploy: Awaited<ReturnType<typeof deployServer>>;
  beforeEach(async () => {
    deploy = await deployServer();
  });
  afterEach(async () => {
    await deploy.client.close();
  });

  const call = (events: EventBus, tool = 'deploy') =>
    toolCallContext({
      server: 'deploy',
      tool,
      principal: { team: 'platform', user: 'ana' },
      arguments: { service: 'billing', token: 'hunter2-deploy-token' },
      events,
    });

  it('runs the call once the approver approves, with redacted arguments in the request and events', async () => {
    const events = new EventBus();
    const seen = collect(events, ['approval-requested', 'approval-decided']);
    const requests: ApprovalRequest[] = [];
    const run = compose(
      [
        toolAccessMiddleware(policy),
        toolApprovalMiddleware({
          onApproval: async (request) => {
            requests.push(request);
            return 'approve' as const;
          },
        }),
      ],
      deploy.upstream,
    );
    const result = await run(call(events));
    expect(result.content).toEqual([{ type: 'text', text: 'deployed billing' }]);
    expect(deploy.deployed).toEqual(['billing']);
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      principal: { team: 'platform', user: 'ana' },
      server: 'deploy',
      tool: 'deploy',
      name: 'deploy__deploy',
      rule: 'deploys-need-approval',
      arguments: { service: 'billing', token: '[REDACTED]' },
    });
    const id = requests[0]!.id;
    expect(seen).toEqual([
      expect.objectContaining({
        type: 'approval-requested',
        approvalId: id,
        rule: 'deploys-need-approval',
        arguments: { service: 'billing', token: '[REDACTED]' },
      }),
      expect.objectContaining({ type: 'approval-decided', approvalId: id, decision: 'approve' }),
    ]);
    expect(JSON.stringify(seen)).not.toContain('hunter2');
  });

  it('refuses the call with the approver reason when denied', async () => {
    const events = new EventBus();
    const seen = collect(events, ['approval-decided']);
    const run = compose(
      [
        toolAccessMiddleware(policy),
        toolApprovalMiddleware({ onApproval: () => ({ decision: 'deny', reason: 'change freeze until Monday' }) }),
      ],
      deploy.upstream,
    );
    const error = await run(call(events)).catch((caught: unknown) => caught);
    expect(PolicyDeniedError.isInstance(error)).toBe(true);
    expect((error as PolicyDeniedError).rule).toBe('deploys-need-approval');
    expect((error as Error).message).toBe(
      'Approval denied: team "platform", user "ana" may not call deploy__deploy: the approver denied it: change freeze until Monday',
    );
    expect(deploy.deployed).toEqual([]);
    expect(seen).toEqual([expect.objectContaining({ decision: 'deny', reason: 'change freeze until Monday' })]);
  });

  it('denies when the approver does not answer in time, and withdraws the request', async () => {
    const events = new EventBus();
    const seen = collect(events, ['approval-decided']);
    let withdrawn: Promise<void> | undefined;
    const run = compose(
      [
        toolAccessMiddleware(policy),
        toolApprovalMiddleware({
          onApproval: (request) => {
            withdrawn = new Promise((resolve) => request.signal.addEventListener('abort', () => resolve()));
            return new Promise(() => {});
          },
        }),
      ],
      deploy.upstream,
    );
    const error = await run(call(events, 'rollback')).catch((caught: unknown) => caught);
    expect(PolicyDeniedError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('no approval within 15 ms');
    await withdrawn;
    expect(seen).toEqual([expect.objectContaining({ decision: 'timeout', rule: 'quick-approval' })]);
    expect(deploy.deployed).toEqual([]);
  });

  it("stops waiting with AbortedError when the caller's signal aborts", async () => {
    const controller = new AbortController();
    let asked: () => void = () => {};
    const askedPromise = new Promise<void>((resolve) => {
      asked = resolve;
    });
    const run = compose(
      [
        toolAccessMiddleware(policy),
        toolApprovalMiddleware({
          onApproval: () => {
            asked();
            return new Promise(() => {});
          },
        }),
      ],
      deploy.upstream,
    );
    const context = toolCallContext({
      server: 'deploy',
      tool: 'deploy',
      arguments: { service: 'billing' },
      signal: controller.signal,
    });
    const pending = run(context);
    await askedPromise;
    controller.abort();
    await expect(pending).rejects.toSatisfy(AbortedError.isInstance);
    expect(deploy.deployed).toEqual([]);
  });

  it('fails closed when the approver throws or answers nonsense', async () => {
    for (const onApproval of [
      () => {
        throw new Error('Slack is down');
      },
      () => 'yes' as never,
    ]) {
      const run = compose([toolAccessMiddleware(policy), toolApprovalMiddleware({ onApproval })], deploy.upstream);
      const error = await run(call(new EventBus())).catch((caught: unknown) => caught);
      expect(PolicyDeniedError.isInstance(error)).toBe(true);
    }
    expect(deploy.deployed).toEqual([]);
  });

  it('does not ask when the rule needs no approval', async () => {
    let asked = 0;
    const run = compose(
      [
        toolAccessMiddleware(policy),
        toolApprovalMiddleware({
          onApproval: () => {
            asked++;
            return 'deny';
          },
        }),
      ],
      deploy.upstream,
    );
    const result = await run(call(new EventBus(), 'status'));
    expect(result.content).toEqual([{ type: 'text', text: 'ok' }]);
    expect(asked).toBe(0);
  });

  it('rejects bad options with a ConfigError', () => {
    expect(() => toolApprovalMiddleware({} as never)).toThrow(ConfigError);
    expect(() => toolApprovalMiddleware({ onApproval: () => 'approve', timeoutMs: -1 })).toThrow(/timeoutMs/);
  });
});
