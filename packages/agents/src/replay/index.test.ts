import { createGateway } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAgent } from '../agent/index.js';
import { agents } from '../layer/index.js';
import { fakeTool, scriptedModel } from '../testing/index.js';
import { replay } from './index.js';

function workflow(notifierInstructions = 'Notify.') {
  const lookup = fakeTool('lookup', { result: { supplier: 'ACME', late: 3 } });
  const notify = fakeTool('notify', { result: 'sent' });
  const notifier = defineAgent({ name: 'notifier', instructions: notifierInstructions, model: 'm', tools: [notify] });
  const analyst = defineAgent({
    name: 'analyst',
    instructions: 'Analyse.',
    model: 'm',
    tools: [lookup],
    handoffs: [notifier],
  });
  return { analyst, notifier, lookup, notify };
}

async function recordedSession() {
  const { analyst, lookup, notify } = workflow();
  const model = scriptedModel([
    { toolCalls: [{ id: 'l', name: 'lookup', arguments: { id: 7 } }] },
    { toolCalls: [{ id: 'h', name: 'transfer_to_notifier' }] },
    { toolCalls: [{ id: 'n', name: 'notify', arguments: { to: 'risk' } }] },
    'Risk team notified about ACME',
  ]);
  const gateway = createGateway({ agents: agents({ client: model }) });
  const result = await gateway.agents.run(analyst, 'Check supplier 7', { sessionId: 'rec' });
  const state = await gateway.agents.session('rec');
  return { result, record: state!.record, lookup, notify };
}

describe('replay', () => {
  it('replays a recorded session identically, with no model or tool call', async () => {
    const { result, record, lookup, notify } = await recordedSession();
    expect(record.steps).toHaveLength(4);
    expect(record.steps[0]).toMatchObject({
      step: 0,
      agent: 'analyst',
      request: { model: 'm', tools: ['lookup', 'transfer_to_notifier'] },
    });
    expect(record.steps[0]!.toolCalls).toEqual([
      { id: 'l', name: 'lookup', arguments: '{"id":7}', result: '{"supplier":"ACME","late":3}' },
    ]);
    expect(record.steps[2]!.agent).toBe('notifier');

    const fresh = workflow();
    const report = await replay([fresh.analyst], JSON.parse(JSON.stringify(record)));
    expect(report.identical).toBe(true);
    if (report.identical) expect(report.result.output).toBe(result.output);
    expect(fresh.lookup.calls).toHaveLength(0);
    expect(fresh.notify.calls).toHaveLength(0);
    expect(lookup.calls).toHaveLength(1);
    expect(notify.calls).toHaveLength(1);
  });

  it('reports the first divergence when the agent code changed', async () => {
    const { record } = await recordedSession();
    const changed = workflow('Notify politely.');
    const report = await replay(changed.analyst, record);
    expect(report).toEqual({
      identical: false,
      step: 2,
      path: 'messages[0]',
      expected: { role: 'system', content: 'Notify.' },
      actual: { role: 'system', content: 'Notify politely.' },
    });

    const fewerTools = defineAgent({
      name: 'analyst',
      instructions: 'Analyse.',
      model: 'm',
      handoffs: [changed.notifier],
    });
    expect(await replay(fewerTools, record)).toMatchObject({
      identical: false,
      step: 0,
      path: 'tools',
      expected: ['lookup', 'transfer_to_notifier'],
      actual: ['transfer_to_notifier'],
    });

    const schema = defineAgent({
      name: 'analyst',
      instructions: 'Analyse.',
      model: 'm',
      tools: [fakeTool('lookup')],
      handoffs: [workflow().notifier],
      outputSchema: z.object({ ok: z.boolean() }),
    });
    expect(await replay(schema, record)).toMatchObject({ identical: false, step: 0, path: 'messages[0]' });
  });

  it('reports a replay that wants more model calls than were recorded', async () => {
    const { record } = await recordedSession();
    const short = { ...record, steps: record.steps.slice(0, 2) };
    expect(await replay(workflow().analyst, short)).toMatchObject({ identical: false, step: 2, path: 'end' });
  });
});
