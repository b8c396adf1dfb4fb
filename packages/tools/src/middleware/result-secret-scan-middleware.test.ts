import { compose, EventBus, piiDetectors, secretDetectors } from '@gatehouse/core';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ToolCallContext } from '../context.js';
import { connectInMemory } from '../testing/connect.js';
import { toolCallContext } from './call-context.js';
import { resultSecretScanMiddleware } from './result-secret-scan-middleware.js';

const githubToken = `ghp_${'Zz9Yy8Xx7W'.repeat(4)}`;
const awsKey = 'AKIAIOSFODNN7EXAMPLE';

async function leakyServer() {
  const server = new McpServer({ name: 'env', version: '1.0.0' });
  server.registerTool('read_env', { description: 'Reads the environment' }, async () => ({
    content: [
      { type: 'text', text: `GITHUB_TOKEN=${githubToken}\nAWS_ACCESS_KEY_ID=${awsKey}\nHOME=/root` },
      { type: 'text', text: 'contact ana@example.com' },
    ],
  }));
  server.registerTool(
    'config',
    { description: 'Structured config', outputSchema: { token: z.string(), region: z.string() } },
    async () => {
      const structuredContent = { token: githubToken, region: 'eu-west-1' };
      return { content: [{ type: 'text', text: JSON.stringify(structuredContent) }], structuredContent };
    },
  );
  server.registerTool('clean', { description: 'Nothing secret' }, async () => ({
    content: [{ type: 'text', text: 'all good' }],
  }));
  const { client, upstream } = await connectInMemory(server);
  return { client, upstream };
}

describe('resultSecretScanMiddleware', () => {
  let env: Awaited<ReturnType<typeof leakyServer>>;
  beforeEach(async () => {
    env = await leakyServer();
  });
  afterEach(async () => {
    await env.client.close();
  });

  it('redacts secrets in text content and reports the kinds, never the secrets', async () => {
    const events = new EventBus();
    const seen: Record<string, unknown>[] = [];
    events.onAny((event) => {
      if ((event.type as string) === 'tool-result-redacted') seen.push(event as unknown as Record<string, unknown>);
    });
    const run = compose([resultSecretScanMiddleware()], env.upstream);
    const result = await run(toolCallContext({ server: 'env', tool: 'read_env', events }));
    expect(result.content).toEqual([
      {
        type: 'text',
        text: 'GITHUB_TOKEN=[REDACTED:github-token]\nAWS_ACCESS_KEY_ID=[REDACTED:aws-access-key]\nHOME=/root',
      },
      // Personal data is left alone unless asked for.
      { type: 'text', text: 'contact ana@example.com' },
    ]);
    expect(seen).toEqual([
      expect.objectContaining({ server: 'env', tool: 'read_env', count: 2, kinds: ['github-token', 'aws-access-key'] }),
    ]);
    expect(JSON.stringify(seen)).not.toContain(githubToken);
  });

  it('redacts structuredContent too', async () => {
    const run = compose([resultSecretScanMiddleware()], env.upstream);
    const result = await run(toolCallContext({ server: 'env', tool: 'config' }));
    expect(result.structuredContent).toEqual({ token: '[REDACTED]', region: 'eu-west-1' });
    expect(JSON.stringify(result)).not.toContain(githubToken);
  });

  it('takes other detectors, e.g. personal data', async () => {
    const run = compose(
      [resultSecretScanMiddleware({ detectors: [...secretDetectors, ...piiDetectors] })],
      env.upstream,
    );
    const result = await run(toolCallContext({ server: 'env', tool: 'read_env' }));
    expect(result.content[1]).toEqual({ type: 'text', text: 'contact [REDACTED:email]' });
  });

  it('returns a clean result untouched', async () => {
    const events = new EventBus();
    let emitted = 0;
    events.onAny(() => {
      emitted++;
    });
    let upstreamResult: CallToolResult | undefined;
    const run = compose([resultSecretScanMiddleware()], async (context: ToolCallContext) => {
      upstreamResult = await env.upstream(context);
      return upstreamResult;
    });
    const result = await run(toolCallContext({ server: 'env', tool: 'clean', events }));
    expect(result).toBe(upstreamResult);
    expect(emitted).toBe(0);
  });
});
