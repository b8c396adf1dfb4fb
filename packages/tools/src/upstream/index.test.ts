import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGateway, UpstreamError } from '@gatehouse/core';
import { captureEvents } from '@gatehouse/core/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { tools } from '../index.js';

const require = createRequire(import.meta.url);
const filesystemServer = require.resolve('@modelcontextprotocol/server-filesystem/dist/index.js');
const crashingServer = fileURLToPath(new URL('./crashing-server.fixture.mjs', import.meta.url));
const text = (result: unknown) => (result as { content: { text: string }[] }).content[0]!.text;

let directory: string;
beforeEach(async () => {
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  directory = await mkdtemp(join(tmpdir(), 'gatehouse-tools-'));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(directory, { recursive: true, force: true });
});

describe('stdio servers', () => {
  it('runs the published filesystem server and calls its tools through the gateway', async () => {
    await writeFile(join(directory, 'note.txt'), 'hello from disk');
    const gateway = createGateway({
      tools: tools({
        servers: { files: { command: process.execPath, args: [filesystemServer, directory], stderr: 'ignore' } },
      }),
    });
    try {
      const names = (await gateway.tools.listTools()).tools.map((tool) => tool.name);
      expect(names).toContain('files__read_text_file');
      expect(names.every((name) => name.startsWith('files__'))).toBe(true);
      const read = await gateway.tools.callTool('files__read_text_file', { path: join(directory, 'note.txt') });
      expect(text(read)).toBe('hello from disk');
      // A path outside the allowed directory is the server's own refusal, passed on as a tool error.
      const outside = await gateway.tools.callTool('files__read_text_file', { path: '/etc/hostname' });
      expect(outside.isError).toBe(true);
    } finally {
      await gateway.close();
    }
  });

  it('restarts a stdio server that crashed, on the next use', async () => {
    const gateway = createGateway({
      tools: tools({ servers: { flaky: { command: process.execPath, args: [crashingServer], stderr: 'ignore' } } }),
    });
    const seen = captureEvents(gateway.events, ['server-status']);
    try {
      const first = text(await gateway.tools.callTool('flaky__pid'));
      const crash = await gateway.tools.callTool('flaky__crash').catch((error: unknown) => error);
      expect(UpstreamError.isInstance(crash)).toBe(true);
      expect(seen.events).toContainEqual(expect.objectContaining({ server: 'flaky', state: 'failed' }));
      const second = text(await gateway.tools.callTool('flaky__pid'));
      expect(second).not.toBe(first);
      expect(gateway.tools.status()).toEqual([expect.objectContaining({ server: 'flaky', state: 'ready' })]);
    } finally {
      await gateway.close();
    }
  });

  it('reports a command that cannot start and keeps the other servers working', async () => {
    const gateway = createGateway({
      tools: tools({
        servers: {
          missing: { command: join(directory, 'no-such-binary') },
          files: { command: process.execPath, args: [filesystemServer, directory], stderr: 'ignore' },
        },
      }),
    });
    try {
      const names = (await gateway.tools.listTools()).tools.map((tool) => tool.name);
      expect(names).toContain('files__list_directory');
      expect(gateway.tools.status().find((status) => status.server === 'missing')).toMatchObject({
        state: 'failed',
        error: expect.stringMatching(/could not connect/),
      });
    } finally {
      await gateway.close();
    }
  });
});
