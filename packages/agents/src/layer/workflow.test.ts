import { mkdtemp, readFile, realpath, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { createGateway, SpanKind } from '@gatehouse/core';
import { recordSpans, type SpanRecorder } from '@gatehouse/core/testing';
import { models } from '@gatehouse/models';
import { createProviderServer, type ProviderServer, reply } from '@gatehouse/models/testing';
import { tools } from '@gatehouse/tools';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineAgent } from '../agent/index.js';
import { agents } from './index.js';

// Three agents (gather data -> analyse risk -> notify) on the real layers: the models layer routing OpenAI-shaped
// calls to an OpenAI and an Anthropic target of the models testing kit's provider server, and the tools layer in
// front of two real MCP servers (filesystem and memory) started as child processes, with access rules per agent.
describe('a three-agent workflow on the models and tools layers', () => {
  let server: ProviderServer;
  let spans: SpanRecorder;
  let dir: string;

  beforeAll(async () => {
    server = await createProviderServer();
    spans = recordSpans();
    dir = await realpath(await mkdtemp(join(tmpdir(), 'gatehouse-workflow-')));
    await writeFile(join(dir, 'acme.json'), JSON.stringify({ supplier: 'ACME', lateDeliveries: 4 }));
  });

  afterAll(async () => {
    await spans.stop();
    await server.close();
  });

  it('hands over from agent to agent, each with its own tools, in one trace', async () => {
    const openai = new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'test-key', maxRetries: 0 });
    const anthropic = new Anthropic({ baseURL: server.anthropicBaseURL, apiKey: 'test-key', maxRetries: 0 });
    const gateway = createGateway({
      models: models({
        providers: { openai, anthropic },
        routes: {
          fast: { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
          careful: { targets: [{ provider: 'anthropic', model: 'claude-haiku-4-5', parameters: { max_tokens: 512 } }] },
        },
      }),
      tools: tools({
        servers: {
          files: { command: 'mcp-server-filesystem', args: [dir], stderr: 'ignore' },
          memory: {
            command: 'mcp-server-memory',
            env: { MEMORY_FILE_PATH: join(dir, 'memory.jsonl') },
            stderr: 'ignore',
          },
        },
        access: [
          { principal: { agent: 'gatherer' }, servers: 'files', tools: 'read_text_file' },
          { principal: { agent: 'analyst' }, servers: 'memory', tools: ['create_entities', 'read_graph'] },
          { principal: { agent: 'notifier' }, servers: 'files', tools: 'write_file' },
        ],
      }),
      agents: agents({ client: openai }),
    });

    const notifier = defineAgent({
      name: 'notifier',
      instructions: 'Write the notice.',
      model: 'fast',
      tools: ['files__*'],
    });
    const analyst = defineAgent({
      name: 'analyst',
      instructions: 'Assess the risk and remember it.',
      model: 'careful',
      tools: ['memory__*', 'files__*'],
      handoffs: [notifier],
    });
    const gatherer = defineAgent({
      name: 'gatherer',
      instructions: 'Gather the supplier data.',
      model: 'fast',
      tools: ['files__*', 'memory__*'],
      handoffs: [analyst],
    });

    const openaiPath = { path: '/v1/chat/completions' };
    server.script(
      [
        reply.toolCalls([{ id: 'read1', name: 'files__read_text_file', arguments: { path: join(dir, 'acme.json') } }]),
        reply.toolCalls([{ id: 'go1', name: 'transfer_to_analyst', arguments: {} }]),
        reply.toolCalls([
          {
            id: 'write1',
            name: 'files__write_file',
            arguments: { path: join(dir, 'notice.txt'), content: 'ACME: high risk' },
          },
        ]),
        reply.text('Notice written: ACME is high risk'),
      ],
      openaiPath,
    );
    server.script(
      [
        reply.toolCalls([
          {
            id: 'toolu_mem1',
            name: 'memory__create_entities',
            arguments: { entities: [{ name: 'ACME', entityType: 'supplier', observations: ['risk: high'] }] },
          },
        ]),
        reply.toolCalls([{ id: 'toolu_go2', name: 'transfer_to_notifier', arguments: {} }]),
      ],
      { path: '/v1/messages' },
    );

    try {
      const result = await gateway.run({ principal: { team: 'risk' } }, () =>
        gateway.agents.run(gatherer, 'Check supplier ACME', { sessionId: 'acme-review' }),
      );

      expect(result).toMatchObject({
        status: 'finished',
        agent: 'notifier',
        output: 'Notice written: ACME is high risk',
      });
      expect(await readFile(join(dir, 'notice.txt'), 'utf8')).toBe('ACME: high risk');
      const toolResults = result.messages
        .filter((message) => message.role === 'tool')
        .map((message) => message.content);
      expect(toolResults[0]).toContain('"lateDeliveries":4');

      // Each agent saw only the tools its access rules grant it (decided by the tools layer at list time).
      const toolNames = (index: number) =>
        (
          (server.requests[index]!.body as { tools?: { function?: { name: string }; name?: string }[] }).tools ?? []
        ).map((entry) => entry.function?.name ?? entry.name);
      const paths = server.requests.map((request) => request.path);
      expect(paths).toEqual([
        '/v1/chat/completions',
        '/v1/chat/completions',
        '/v1/messages',
        '/v1/messages',
        '/v1/chat/completions',
        '/v1/chat/completions',
      ]);
      expect(toolNames(0).sort()).toEqual(['files__read_text_file', 'transfer_to_analyst']);
      expect(toolNames(2).sort()).toEqual(['memory__create_entities', 'memory__read_graph', 'transfer_to_notifier']);
      expect(toolNames(4)).toEqual(['files__write_file']);

      // The trace: invoke_agent gatherer > (chat, execute_tool, chat, invoke_agent analyst > (chat, execute_tool,
      // chat, invoke_agent notifier > (chat, execute_tool, chat))).
      const all = spans.spans();
      const root = spans.named('invoke_agent gatherer');
      expect(root).toHaveLength(1);
      expect(new Set(all.map((span) => span.spanContext().traceId)).size).toBe(1);
      const tree = (span: ReadableSpan): unknown => ({
        name: span.name,
        children: spans
          .children(span)
          .sort(
            (left, right) =>
              Number(left.startTime[0] - right.startTime[0]) * 1e9 + (left.startTime[1] - right.startTime[1]),
          )
          .filter(
            (child) =>
              child.name.startsWith('invoke_agent') ||
              child.name.startsWith('chat') ||
              child.name.startsWith('execute_tool'),
          )
          .map(tree),
      });
      const leaf = (name: string) => ({ name, children: [] });
      // The models layer's route span (`chat <alias>`) holds one attempt span per target tried.
      const chat = (alias: string, target: string) => ({ name: `chat ${alias}`, children: [leaf(`chat ${target}`)] });
      expect(tree(root[0]!)).toEqual({
        name: 'invoke_agent gatherer',
        children: [
          chat('fast', 'gpt-4o-mini'),
          leaf('execute_tool files__read_text_file'),
          chat('fast', 'gpt-4o-mini'),
          {
            name: 'invoke_agent analyst',
            children: [
              chat('careful', 'claude-haiku-4-5'),
              leaf('execute_tool memory__create_entities'),
              chat('careful', 'claude-haiku-4-5'),
              {
                name: 'invoke_agent notifier',
                children: [
                  chat('fast', 'gpt-4o-mini'),
                  leaf('execute_tool files__write_file'),
                  chat('fast', 'gpt-4o-mini'),
                ],
              },
            ],
          },
        ],
      });
      const agentSpan = root[0]!;
      expect(agentSpan.kind).toBe(SpanKind.INTERNAL);
      expect(agentSpan.attributes).toMatchObject({
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.name': 'gatherer',
        'gen_ai.conversation.id': 'acme-review',
      });
      expect(agentSpan.events.map((event) => [event.name, event.attributes])).toEqual([
        ['gen_ai.agent.handoff', { 'gatehouse.handoff.from': 'gatherer', 'gatehouse.handoff.to': 'analyst' }],
      ]);
      const toolSpan = spans.named('execute_tool memory__create_entities')[0]!;
      expect(toolSpan.attributes).toMatchObject({
        'gen_ai.tool.name': 'memory__create_entities',
        'gen_ai.tool.call.id': 'toolu_mem1',
      });
      expect(JSON.stringify(all.map((span) => span.attributes))).not.toContain('test-key');
    } finally {
      await gateway.close();
    }
  });
});
