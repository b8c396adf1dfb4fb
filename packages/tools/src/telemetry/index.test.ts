import { Attr, createGateway } from '@gatehouse/core';
import { recordSpans } from '@gatehouse/core/testing';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { upstream } from '../layer/fixtures.test-helpers.js';
import { tools } from '../layer/index.js';

const recorder = recordSpans();
afterAll(() => recorder.stop());
beforeEach(() => recorder.reset());

const githubToken = `ghp_${'Zz9Yy8Xx7W'.repeat(4)}`;

/** A gateway over one real MCP server (InMemoryTransport) with `echo` and a `login` tool that repeats its note. */
function setup(recordContent?: boolean) {
  const alpha = upstream('alpha', (server) => {
    server.registerTool(
      'login',
      { description: 'Logs in', inputSchema: { user: z.string(), password: z.string(), note: z.string() } },
      async ({ user, note }) => ({ content: [{ type: 'text', text: `${user} logged in: ${note}` }] }),
    );
  });
  return createGateway({
    tools: tools({ servers: { alpha: { transport: alpha.transport } }, access: [{ servers: 'alpha' }] }),
    ...(recordContent === undefined ? {} : { telemetry: { recordContent } }),
  });
}

const contentAttributes = [Attr.toolCallArguments, Attr.toolCallResult];

describe('execute_tool span content', () => {
  it('records the arguments and the result as JSON when asked', async () => {
    const gateway = setup(true);
    const client = await gateway.tools.client();
    await client.callTool({ name: 'alpha__echo', arguments: { text: 'hi' } });
    const [span] = recorder.named('execute_tool alpha__echo');
    expect(JSON.parse(span!.attributes[Attr.toolCallArguments] as string)).toEqual({ text: 'hi' });
    expect(JSON.parse(span!.attributes[Attr.toolCallResult] as string)).toEqual({
      content: [{ type: 'text', text: 'alpha: hi' }],
    });
    await client.close();
    await gateway.close();
  });

  it('records nothing of the call by default, or when recordContent is false', async () => {
    for (const recordContent of [undefined, false]) {
      recorder.reset();
      const gateway = setup(recordContent);
      const client = await gateway.tools.client();
      await client.callTool({ name: 'alpha__echo', arguments: { text: 'private words' } });
      const [span] = recorder.named('execute_tool alpha__echo');
      expect(span).toBeDefined();
      for (const attribute of contentAttributes) expect(span!.attributes[attribute]).toBeUndefined();
      expect(JSON.stringify(recorder.spans().map((each) => each.attributes))).not.toContain('private words');
      await client.close();
      await gateway.close();
    }
  });

  it('redacts a secret in an argument and the value of a secret key, keeping the rest', async () => {
    const gateway = setup(true);
    const client = await gateway.tools.client();
    const result = await client.callTool({
      name: 'alpha__login',
      arguments: { user: 'ana', password: 'hunter2-correct-horse', note: `token ${githubToken} for ana@example.com` },
    });
    // The server got the real arguments: only the span's copy is redacted.
    expect(JSON.stringify(result)).toContain('ana logged in');
    const [span] = recorder.named('execute_tool alpha__login');
    const recorded = JSON.stringify(span!.attributes);
    expect(recorded).not.toContain(githubToken);
    expect(recorded).not.toContain('hunter2');
    expect(JSON.parse(span!.attributes[Attr.toolCallArguments] as string)).toEqual({
      user: 'ana',
      password: '[REDACTED]',
      // Personal data is content the user asked to record; only secrets are taken out.
      note: 'token [REDACTED:github-token] for ana@example.com',
    });
    expect(span!.attributes[Attr.toolCallResult]).toContain('[REDACTED:github-token]');
    await client.close();
    await gateway.close();
  });
});
