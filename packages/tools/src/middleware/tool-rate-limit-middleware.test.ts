import { compose, MemoryStore, RateLimitedError } from '@gatehouse/core';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileAccess } from '../access/index.js';
import { connectInMemory } from '../testing/connect.js';
import { toolCallContext } from './call-context.js';
import { toolAccessMiddleware } from './tool-access-middleware.js';
import { toolRateLimitMiddleware } from './tool-rate-limit-middleware.js';

async function searchServer() {
  const server = new McpServer({ name: 'search', version: '1.0.0' });
  let calls = 0;
  server.registerTool('search', { description: 'Searches' }, async () => {
    calls++;
    return { content: [{ type: 'text', text: 'results' }] };
  });
  server.registerTool('suggest', { description: 'Suggests' }, async () => {
    calls++;
    return { content: [{ type: 'text', text: 'suggestions' }] };
  });
  const { client, upstream } = await connectInMemory(server);
  return { client, upstream, calls: () => calls };
}

describe('toolRateLimitMiddleware', () => {
  let search: Awaited<ReturnType<typeof searchServer>>;
  beforeEach(async () => {
    search = await searchServer();
  });
  afterEach(async () => {
    await search.client.close();
  });

  const policy = compileAccess([
    { id: 'search', servers: 'search', tools: 'search', rateLimit: { requests: 2, windowMs: 60_000 } },
    { id: 'suggest', servers: 'search', tools: 'suggest', rateLimit: { requests: 1, windowMs: 60_000, per: 'global' } },
  ]);

  it('refuses the call past the limit with RateLimitedError and retryAfterMs, per principal', async () => {
    const store = new MemoryStore();
    const run = compose([toolAccessMiddleware(policy), toolRateLimitMiddleware()], search.upstream);
    const as = (user: string) => toolCallContext({ server: 'search', tool: 'search', principal: { user }, store });
    await run(as('ana'));
    await run(as('ana'));
    const error = await run(as('ana')).catch((caught: unknown) => caught);
    expect(RateLimitedError.isInstance(error)).toBe(true);
    const limited = error as RateLimitedError;
    expect(limited.retryAfterMs).toBeGreaterThan(0);
    expect(limited.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(limited.limit).toBe('search__search: 2 requests per 60000 ms for user "ana"');
    expect(limited.message).toMatch(
      /^Rate limited: search__search allows 2 requests per 60000 ms for user "ana"; retry after \d+ ms$/,
    );
    expect(search.calls()).toBe(2);
    // Another principal has its own count.
    await expect(run(as('bob'))).resolves.toMatchObject({ content: [{ type: 'text', text: 'results' }] });
    expect(search.calls()).toBe(3);
  });

  it('counts everyone together with per: global', async () => {
    const store = new MemoryStore();
    const run = compose([toolAccessMiddleware(policy), toolRateLimitMiddleware()], search.upstream);
    await run(toolCallContext({ server: 'search', tool: 'suggest', principal: { user: 'ana' }, store }));
    const error = await run(
      toolCallContext({ server: 'search', tool: 'suggest', principal: { user: 'bob' }, store }),
    ).catch((caught: unknown) => caught);
    expect(RateLimitedError.isInstance(error)).toBe(true);
    expect((error as RateLimitedError).limit).toContain('for everyone');
  });

  it('starts counting again once the window has passed', async () => {
    let now = 1_000_000;
    const store = new MemoryStore({ now: () => now });
    const run = compose([toolAccessMiddleware(policy), toolRateLimitMiddleware()], search.upstream);
    const call = () => run(toolCallContext({ server: 'search', tool: 'suggest', store }));
    await call();
    await expect(call()).rejects.toSatisfy(RateLimitedError.isInstance);
    now += 60_000;
    await expect(call()).resolves.toMatchObject({ content: [{ type: 'text', text: 'suggestions' }] });
  });

  it('applies a default limit to calls whose rule sets none', async () => {
    const store = new MemoryStore();
    const run = compose(
      [
        toolAccessMiddleware(compileAccess(undefined)),
        toolRateLimitMiddleware({ limit: { requests: 1, windowMs: 1000 } }),
      ],
      search.upstream,
    );
    await run(toolCallContext({ server: 'search', tool: 'search', store }));
    await expect(run(toolCallContext({ server: 'search', tool: 'search', store }))).rejects.toSatisfy(
      RateLimitedError.isInstance,
    );
    expect(() => toolRateLimitMiddleware({ limit: { requests: 0, windowMs: 1000 } })).toThrow(/limit\.requests/);
  });
});
