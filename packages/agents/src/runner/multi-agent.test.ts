import { createGateway } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { defineAgent } from '../agent/index.js';
import { agents } from '../layer/index.js';
import { fakeTool, scriptedModel } from '../testing/index.js';
import { asTool } from '../tool/index.js';

describe('handoffs', () => {
  it('hands the conversation to the next agent, which answers with its own instructions and tools', async () => {
    const notify = fakeTool('notify', { result: 'sent', idempotent: true });
    const notifier = defineAgent({ name: 'notifier', instructions: 'Notify.', model: 'small', tools: [notify] });
    const triage = defineAgent({ name: 'triage', instructions: 'Triage.', model: 'big', handoffs: [notifier] });
    const model = scriptedModel([
      { toolCalls: [{ id: 't', name: 'transfer_to_notifier' }] },
      { toolCalls: [{ name: 'notify', arguments: { to: 'ana' } }] },
      'Ana was notified',
    ]);
    const gateway = createGateway({ agents: agents({ client: model }) });
    const result = await gateway.agents.run(triage, 'Tell Ana', { principal: { team: 'risk' } });

    expect(result).toMatchObject({ status: 'finished', agent: 'notifier', output: 'Ana was notified' });
    expect(model.requests.map((request) => request.model)).toEqual(['big', 'small', 'small']);
    expect(model.requests[1]!.messages[0]).toEqual({ role: 'system', content: 'Notify.' });
    expect(model.requests[1]!.messages.at(-1)).toEqual({
      role: 'tool',
      tool_call_id: 't',
      content: 'Transferred to notifier.',
    });
    expect(model.requests[0]!.tools?.map((entry) => (entry as any).function.name)).toEqual(['transfer_to_notifier']);
    expect(notify.calls[0]!.execution.principal).toEqual({ team: 'risk', agent: 'notifier' });
  });

  it('filters the conversation the next agent receives', async () => {
    const next = defineAgent({ name: 'next', instructions: 'N.', model: 'm' });
    const first = defineAgent({
      name: 'first',
      instructions: 'F.',
      model: 'm',
      handoffs: [{ agent: next, inputFilter: (messages) => messages.filter((message) => message.role === 'user') }],
    });
    const model = scriptedModel([{ text: 'passing on', toolCalls: [{ name: 'transfer_to_next' }] }, 'done']);
    const gateway = createGateway({ agents: agents({ client: model }) });
    await gateway.agents.run(first, 'hello');
    expect(model.requests[1]!.messages).toEqual([
      { role: 'system', content: 'N.' },
      { role: 'user', content: 'hello' },
    ]);
  });
});

describe('agents as tools', () => {
  it("runs the sub-agent to its end and returns its output to the caller, under the sub-agent's principal", async () => {
    const search = fakeTool('search', { result: 'ACME: 3 late deliveries', idempotent: true });
    const researcher = defineAgent({ name: 'researcher', instructions: 'Research.', model: 'r', tools: [search] });
    const writer = defineAgent({ name: 'writer', instructions: 'Write.', model: 'w', tools: [asTool(researcher)] });
    const model = scriptedModel([
      { toolCalls: [{ id: 'ask', name: 'researcher', arguments: { input: 'Look up ACME' } }] },
      { toolCalls: [{ name: 'search', arguments: { q: 'ACME' } }], usage: { inputTokens: 10, outputTokens: 5 } },
      { text: 'ACME was late 3 times', usage: { inputTokens: 10, outputTokens: 5 } },
      'Report: ACME is unreliable',
    ]);
    const gateway = createGateway({ agents: agents({ client: model }) });
    const result = await gateway.agents.run(writer, 'Write about ACME', { sessionId: 'w1' });

    expect(result).toMatchObject({ status: 'finished', agent: 'writer', output: 'Report: ACME is unreliable' });
    expect(model.requests.map((request) => request.model)).toEqual(['w', 'r', 'r', 'w']);
    expect(model.requests[1]!.messages).toEqual([
      { role: 'system', content: 'Research.' },
      { role: 'user', content: 'Look up ACME' },
    ]);
    expect(model.requests[3]!.messages.at(-1)).toEqual({
      role: 'tool',
      tool_call_id: 'ask',
      content: 'ACME was late 3 times',
    });
    expect(search.calls[0]!.execution.principal).toEqual({ agent: 'researcher' });
    expect(search.calls[0]!.execution.sessionId).toBe('w1.ask');
    // The sub-agent's tokens count in the caller's session.
    expect(result.usage.totalTokens).toBeGreaterThan(30);
  });
});
