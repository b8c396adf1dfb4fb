import { ConfigError, createGateway } from '@gatehouse/core';
import { captureEvents, recordSpans } from '@gatehouse/core/testing';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { defineAgent } from '../agent/index.js';
import { mcpToolSource } from '../runner/tool-source.js';
import type { AgentEvent } from '../runner/types.js';
import { fakeTool, scriptedModel } from '../testing/index.js';
import { asTool } from '../tool/index.js';
import { agents } from './index.js';

describe('agents()', () => {
  it('rejects bad options with a ConfigError naming the path', () => {
    const attempt = (options: unknown) => {
      try {
        agents(options as never);
      } catch (error) {
        return error as ConfigError;
      }
    };
    expect(attempt({})).toMatchObject({ code: 'GATEHOUSE_CONFIG', path: 'agents.client' });
    expect(attempt({ client: scriptedModel([]), sessions: { store: {} } })?.path).toBe('agents.sessions.store');
    expect(attempt({ client: scriptedModel([]), concurrency: 0 })?.path).toBe('agents.concurrency');
    expect(ConfigError.isInstance(attempt({ client: scriptedModel([]), surprise: 1 }))).toBe(true);
  });

  it('writes invoke_agent, chat and execute_tool spans, an agent used as a tool nested under its call', async () => {
    const spans = recordSpans();
    try {
      const search = fakeTool('search', { result: 'found', idempotent: true });
      const researcher = defineAgent({ name: 'researcher', instructions: 'R.', model: 'r', tools: [search] });
      const writer = defineAgent({ name: 'writer', instructions: 'W.', model: 'w', tools: [asTool(researcher)] });
      const model = scriptedModel([
        { toolCalls: [{ id: 'ask', name: 'researcher', arguments: { input: 'look' } }] },
        { toolCalls: [{ id: 's1', name: 'search' }] },
        'found it',
        'done',
      ]);
      const gateway = createGateway({ agents: agents({ client: model }) });
      const events = captureEvents(gateway.events, ['agent-step' as never]);
      await gateway.agents.run(writer, 'write', { sessionId: 'traced' });

      const [root] = spans.named('invoke_agent writer');
      const names = (span: typeof root) => spans.children(span!).map((child) => child.name);
      expect(names(root).sort()).toEqual(['chat w', 'chat w', 'execute_tool researcher']);
      const [call] = spans.named('execute_tool researcher');
      expect(call!.attributes).toMatchObject({
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'researcher',
        'gen_ai.tool.call.id': 'ask',
        'gen_ai.tool.type': 'function',
      });
      expect(names(call)).toEqual(['invoke_agent researcher']);
      const [nested] = spans.named('invoke_agent researcher');
      expect(names(nested).sort()).toEqual(['chat r', 'chat r', 'execute_tool search']);
      expect(nested!.attributes['gen_ai.conversation.id']).toBe('traced.ask');
      expect(spans.named('chat w')[0]!.attributes).toMatchObject({
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'w',
        'gen_ai.usage.input_tokens': expect.any(Number),
      });
      expect(new Set(spans.spans().map((span) => span.spanContext().traceId)).size).toBe(1);
      expect(events.events.map((event) => `${(event as any).agent}#${(event as any).step}`)).toEqual([
        // A step's event comes when it ends, after its tool calls (here: the whole researcher run).
        'researcher#0',
        'researcher#1',
        'writer#0',
        'writer#1',
      ]);
    } finally {
      await spans.stop();
    }
  });

  it('uses an MCP client as tool source: globbed tools, called as the agent, results and errors as text', async () => {
    const server = new Server({ name: 'crm', version: '1.0.0' }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({
      tools: [
        {
          name: 'crm_lookup',
          description: 'Find a customer',
          inputSchema: { type: 'object', properties: { id: { type: 'string' } } },
        },
        { name: 'crm_delete', description: 'Delete', inputSchema: { type: 'object' } },
        { name: 'billing_charge', description: 'Charge', inputSchema: { type: 'object' } },
      ],
    }));
    server.setRequestHandler(CallToolRequestSchema, async (request) =>
      request.params.name === 'crm_lookup'
        ? { content: [{ type: 'text', text: `customer ${request.params.arguments?.id}` }] }
        : { content: [{ type: 'text', text: 'forbidden' }], isError: true },
    );
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    await server.connect(serverTransport);
    const client = new Client({ name: 'agents-test', version: '1.0.0' });
    await client.connect(clientTransport);

    const model = scriptedModel([
      {
        toolCalls: [
          { name: 'crm_lookup', arguments: { id: 'c9' } },
          { name: 'crm_delete' },
          { name: 'billing_charge' },
        ],
      },
      'ok',
    ]);
    const gateway = createGateway({ agents: agents({ client: model, tools: mcpToolSource(client) }) });
    const agent = defineAgent({ name: 'support', instructions: 'Help.', model: 'm', tools: ['crm_*'] });
    const result = await gateway.agents.run(agent, 'who is c9?');
    expect(model.requests[0]!.tools?.map((entry) => (entry as any).function.name)).toEqual([
      'crm_lookup',
      'crm_delete',
    ]);
    expect(result.messages.filter((message) => message.role === 'tool').map((message) => message.content)).toEqual([
      'customer c9',
      'Error: forbidden',
      'Error: billing_charge is not one of your tools',
    ]);
    await client.close();
  });

  it('streams an approval request, then the paused result', async () => {
    const wire = fakeTool('wire', { needsApproval: true });
    const gateway = createGateway({
      agents: agents({
        client: scriptedModel([{ toolCalls: [{ id: 'w1', name: 'wire', arguments: { amount: 9 } }] }]),
      }),
    });
    const events: AgentEvent[] = [];
    const agent = defineAgent({ name: 'treasurer', instructions: 'x', model: 'm', tools: [wire] });
    for await (const event of gateway.agents.stream(agent, 'pay', { sessionId: 'st' })) events.push(event);
    expect(events.map((event) => event.type)).toEqual(['step-started', 'tool-call', 'approval-requested', 'finished']);
    expect(events[2]).toMatchObject({ callId: 'w1', name: 'wire', arguments: '{"amount":9}' });
    expect(events[3]).toMatchObject({ result: { status: 'awaiting-approval', pending: [{ id: 'w1' }] } });
  });

  it('ends a stream with the error that ended the run', async () => {
    const gateway = createGateway({ agents: agents({ client: scriptedModel([]) }) });
    const agent = defineAgent({ name: 'a', instructions: 'x', model: 'm' });
    const seen: string[] = [];
    const consume = async () => {
      for await (const event of gateway.agents.stream(agent, 'hi')) seen.push(event.type);
    };
    await expect(consume()).rejects.toThrow(/no scripted answer/);
    expect(seen).toEqual(['step-started']);
  });
});
