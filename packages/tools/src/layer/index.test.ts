import { ConfigError, createGateway, NotFoundError } from '@gatehouse/core';
import { captureEvents, recordSpans } from '@gatehouse/core/testing';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterEach, beforeEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { z } from 'zod';
import { exposedName } from '../naming/index.js';
import { upstream } from './fixtures.test-helpers.js';
import { tools } from './index.js';

const text = (result: { content: unknown }) => (result.content as { type: string; text: string }[])[0]!.text;

beforeEach(() => {
  vi.spyOn(console, 'warn').mockImplementation(() => {});
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('tools(): the aggregate', () => {
  it('namespaces tools as server__tool and routes calls to their server', async () => {
    const a = upstream('alpha');
    const b = upstream('beta');
    const gateway = createGateway({
      tools: tools({ servers: { alpha: { transport: a.transport }, beta: { transport: b.transport } } }),
    });
    const { tools: listed } = await gateway.tools.listTools();
    expect(listed.map((tool) => tool.name).sort()).toEqual(['alpha__echo', 'beta__echo']);
    expect(text(await gateway.tools.callTool('beta__echo', { text: 'hi' }))).toBe('beta: hi');
    expect(text(await gateway.tools.callTool('alpha__echo', { text: 'yo' }))).toBe('alpha: yo');
    await gateway.close();
  });

  it('connects lazily, on first use', async () => {
    const a = upstream('alpha');
    const gateway = createGateway({ tools: tools({ servers: { alpha: { transport: a.transport } } }) });
    expect(a.connections()).toBe(0);
    expect(gateway.tools.status()).toEqual([expect.objectContaining({ server: 'alpha', state: 'idle' })]);
    await gateway.tools.listTools();
    expect(a.connections()).toBe(1);
    expect(gateway.tools.status()).toEqual([expect.objectContaining({ server: 'alpha', state: 'ready' })]);
    await gateway.close();
  });

  it('shortens long or invalid names with a stable hash suffix', async () => {
    const long = 'x'.repeat(70);
    const a = upstream('alpha', (server) => {
      server.registerTool(long, { description: 'long' }, async () => ({ content: [{ type: 'text', text: 'long' }] }));
      server.registerTool('read.file', { description: 'dotted' }, async () => ({
        content: [{ type: 'text', text: 'dot' }],
      }));
    });
    const gateway = createGateway({ tools: tools({ servers: { alpha: { transport: a.transport } } }) });
    const names = (await gateway.tools.listTools()).tools.map((tool) => tool.name);
    for (const name of names) expect(name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    const longName = exposedName('alpha', long);
    expect(longName).toHaveLength(64);
    expect(longName).toMatch(/^alpha__x+_[0-9a-f]{8}$/);
    expect(exposedName('alpha', long)).toBe(longName);
    expect(exposedName('alpha', 'read.file')).not.toBe(exposedName('alpha', 'read:file'));
    expect(names).toContain(longName);
    expect(text(await gateway.tools.callTool(longName))).toBe('long');
    expect(text(await gateway.tools.callTool(exposedName('alpha', 'read.file')))).toBe('dot');
    await gateway.close();
  });

  it('reports a name collision of a server with namespace: false and keeps the first server', async () => {
    const a = upstream('alpha');
    const b = upstream('beta');
    const gateway = createGateway({
      tools: tools({
        servers: {
          alpha: { transport: a.transport, namespace: false },
          beta: { transport: b.transport, namespace: false },
        },
      }),
    });
    const seen = captureEvents(gateway.events, ['tool-name-conflict']);
    const names = (await gateway.tools.listTools()).tools.map((tool) => tool.name);
    expect(names).toEqual(['echo']);
    expect(seen.events).toEqual([
      expect.objectContaining({ kind: 'tools', name: 'echo', kept: 'alpha', dropped: 'beta' }),
    ]);
    expect(text(await gateway.tools.callTool('echo', { text: 'x' }))).toBe('alpha: x');
    await gateway.close();
  });

  it('rejects bad options with a ConfigError naming the path', () => {
    expect(() => tools({ servers: {} })).toThrow(ConfigError);
    expect(() => tools({ servers: { bad__name: { command: 'x' } } })).toThrow(/tools\.servers\.bad__name/);
    try {
      tools({ servers: { web: { url: 'not a url' } } });
      expect.unreachable();
    } catch (error) {
      expect(ConfigError.isInstance(error) && error.path).toBe('tools.servers.web.url');
    }
    expect(() => tools({ servers: { s: { command: 'x', connectTimeoutMs: -1 } } })).toThrow(
      /tools\.servers\.s\.connectTimeoutMs/,
    );
  });

  it('refuses an unknown tool with a NotFoundError', async () => {
    const a = upstream('alpha');
    const gateway = createGateway({ tools: tools({ servers: { alpha: { transport: a.transport } } }) });
    await expect(gateway.tools.callTool('alpha__nope')).rejects.toSatisfy(
      (error) => NotFoundError.isInstance(error) && /Unknown tool "alpha__nope"/.test(error.message),
    );
    await gateway.close();
  });

  it('warns once per layer when no access rules are configured', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const gateway = createGateway({ tools: tools({ servers: { alpha: { transport: upstream('alpha').transport } } }) });
    await gateway.tools.listTools();
    await gateway.tools.callTool('alpha__echo', { text: 'a' });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toMatch(/no access rules/);
    await gateway.close();
  });
});
