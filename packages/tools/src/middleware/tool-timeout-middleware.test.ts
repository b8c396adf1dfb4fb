import { compose, TimeoutError } from '@gatehouse/core';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileAccess } from '../access/index.js';
import { connectInMemory } from '../testing/connect.js';
import { toolCallContext } from './call-context.js';
import { toolAccessMiddleware } from './tool-access-middleware.js';
import { toolTimeoutMiddleware } from './tool-timeout-middleware.js';

/** `hang` answers only when cancelled; `called` and `cancelled` resolve when the server saw the call and its cancellation. */
async function slowServer() {
  const server = new McpServer({ name: 'slow', version: '1.0.0' });
  let sawCancel: () => void = () => {};
  const cancelled = new Promise<void>((resolve) => {
    sawCancel = resolve;
  });
  let sawCall: () => void = () => {};
  const called = new Promise<void>((resolve) => {
    sawCall = resolve;
  });
  server.registerTool('hang', { description: 'Never answers on its own' }, (extra) => {
    sawCall();
    return new Promise<CallToolResult>((resolve) => {
      extra.signal.addEventListener('abort', () => {
        sawCancel();
        resolve({ content: [{ type: 'text', text: 'cancelled' }] });
      });
    });
  });
  server.registerTool('quick', { description: 'Answers at once' }, async () => ({
    content: [{ type: 'text', text: 'done' }],
  }));
  const { client, upstream } = await connectInMemory(server);
  return { client, upstream, called, cancelled };
}

describe('toolTimeoutMiddleware', () => {
  let slow: Awaited<ReturnType<typeof slowServer>>;
  beforeEach(async () => {
    slow = await slowServer();
  });
  afterEach(async () => {
    await slow.client.close();
  });

  it("ends a call past the rule's timeout with TimeoutError and cancels it on the server", async () => {
    const policy = compileAccess([{ id: 'slow', servers: 'slow', timeoutMs: 20 }]);
    const run = compose([toolAccessMiddleware(policy), toolTimeoutMiddleware({ defaultMs: 60_000 })], slow.upstream);
    const error = await run(toolCallContext({ server: 'slow', tool: 'hang' })).catch((caught: unknown) => caught);
    expect(TimeoutError.isInstance(error)).toBe(true);
    expect((error as TimeoutError).timeoutMs).toBe(20);
    expect((error as Error).message).toBe('Tool slow__hang did not answer within 20 ms; the call was cancelled');
    await slow.cancelled;
  });

  it('uses defaultMs when the rule sets no timeout, and lets quick calls answer', async () => {
    const run = compose([toolTimeoutMiddleware({ defaultMs: 20 })], slow.upstream);
    await expect(run(toolCallContext({ server: 'slow', tool: 'quick' }))).resolves.toMatchObject({
      content: [{ type: 'text', text: 'done' }],
    });
    await expect(run(toolCallContext({ server: 'slow', tool: 'hang' }))).rejects.toSatisfy(TimeoutError.isInstance);
    await slow.cancelled;
  });

  it("still honours the caller's own signal", async () => {
    const controller = new AbortController();
    const run = compose([toolTimeoutMiddleware({ defaultMs: 60_000 })], slow.upstream);
    const pending = run(toolCallContext({ server: 'slow', tool: 'hang', signal: controller.signal }));
    await slow.called;
    controller.abort(new Error('user went away'));
    await expect(pending).rejects.toThrow('user went away');
    await slow.cancelled;
  });

  it('rejects a bad defaultMs', () => {
    expect(() => toolTimeoutMiddleware({ defaultMs: 0 })).toThrow(/defaultMs/);
  });
});
