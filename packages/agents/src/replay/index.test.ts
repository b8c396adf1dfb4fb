import { createGateway, MemoryStore } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAgent } from '../agent/index.js';
import { agents } from '../layer/index.js';
import type { RunRecord, RunRecordV1, SessionState } from '../session/index.js';
import { storeSessions } from '../session/index.js';
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

  it('reports a record from another agent set as an unknown agent', async () => {
    const { record } = await recordedSession();
    const stranger = defineAgent({ name: 'stranger', instructions: 'Hi.', model: 'm' });
    expect(await replay(stranger, record)).toMatchObject({ identical: false, step: 0, path: 'agent' });
  });
});

/** A clerk looks an invoice up; a second run of the session hands the payment to a payer that needs approval. */
function billing(payerInstructions = 'Pay what you are asked to.') {
  const lookup = fakeTool('lookup', { result: { invoice: 7, amount: 120 } });
  const pay = fakeTool('pay', { result: 'paid 120 EUR', needsApproval: true });
  const clerk = defineAgent({ name: 'clerk', instructions: 'Look invoices up.', model: 'm', tools: [lookup] });
  const payer = defineAgent({ name: 'payer', instructions: payerInstructions, model: 'm', tools: [pay] });
  return { clerk, payer, lookup, pay };
}

async function continuedSession() {
  const { clerk, payer, lookup, pay } = billing();
  const model = scriptedModel([
    { toolCalls: [{ id: 'l', name: 'lookup', arguments: { invoice: 7 } }] },
    'Invoice 7 is 120 EUR.',
    { toolCalls: [{ id: 'p', name: 'pay', arguments: { invoice: 7 } }] },
    'Invoice 7 is paid.',
  ]);
  const gateway = createGateway({ agents: agents({ client: model }) });
  const first = await gateway.agents.run(clerk, 'How much is invoice 7?', { sessionId: 'bill' });
  const paused = await gateway.agents.run(payer, 'Pay it.', { sessionId: 'bill' });
  const approved = await gateway.agents.approve('bill', 'p');
  const state = await gateway.agents.session('bill');
  return { first, paused, approved, record: state!.record, lookup, pay };
}

describe('replay of a session with several runs', () => {
  it('replays every run, with the approval in between, identically and with no model or tool call', async () => {
    const { first, paused, approved, record, lookup, pay } = await continuedSession();
    expect(first).toMatchObject({ status: 'finished', output: 'Invoice 7 is 120 EUR.' });
    expect(paused.status).toBe('awaiting-approval');
    expect(approved).toMatchObject({ status: 'finished', output: 'Invoice 7 is paid.' });
    expect(lookup.calls).toHaveLength(1);
    expect(pay.calls).toHaveLength(1);
    expect(record.version).toBe(2);
    expect(record.runs).toEqual([
      { agent: 'clerk', input: 'How much is invoice 7?', firstStep: 0, status: 'finished' },
      { agent: 'payer', input: 'Pay it.', firstStep: 2, status: 'finished' },
    ]);
    expect(record.steps.map((step) => step.agent)).toEqual(['clerk', 'clerk', 'payer', 'payer']);
    expect(record.steps[2]!.decisions).toMatchObject([{ callId: 'p', decision: 'approved' }]);
    expect(record.steps[2]!.toolCalls).toMatchObject([{ id: 'p', name: 'pay', result: 'paid 120 EUR' }]);

    const fresh = billing();
    const report = await replay([fresh.clerk, fresh.payer], JSON.parse(JSON.stringify(record)));
    expect(report).toMatchObject({ identical: true, result: { status: 'finished', output: 'Invoice 7 is paid.' } });
    if (report.identical) expect(report.result.messages).toEqual(approved.messages);
    expect(fresh.lookup.calls).toHaveLength(0);
    expect(fresh.pay.calls).toHaveLength(0);
  });

  it('reports the first divergence in the second run at its step', async () => {
    const { record } = await continuedSession();
    const changed = billing('Pay carefully.');
    expect(await replay([changed.clerk, changed.payer], record)).toEqual({
      identical: false,
      step: 2,
      path: 'messages[0]',
      expected: { role: 'system', content: 'Pay what you are asked to.' },
      actual: { role: 'system', content: 'Pay carefully.' },
    });

    // A tool result other than the one the model was shown: the next request of the second run differs.
    const edited: RunRecord = structuredClone(record);
    edited.steps[2]!.toolCalls[0]!.result = 'paid 210 EUR';
    const fresh = billing();
    expect(await replay([fresh.clerk, fresh.payer], edited)).toEqual({
      identical: false,
      step: 3,
      path: 'messages[7]',
      expected: { role: 'tool', tool_call_id: 'p', content: 'paid 120 EUR' },
      actual: { role: 'tool', tool_call_id: 'p', content: 'paid 210 EUR' },
    });

    // The second run's input changed: its first request already differs.
    const asked: RunRecord = structuredClone(record);
    asked.runs[1]!.input = 'Pay half of it.';
    expect(await replay([fresh.clerk, fresh.payer], asked)).toMatchObject({
      identical: false,
      step: 2,
      path: 'messages[5]',
      actual: { role: 'user', content: 'Pay half of it.' },
    });
  });

  it('replays a session whose second run still waits for approval', async () => {
    const { clerk, payer, pay } = billing();
    const model = scriptedModel([
      { toolCalls: [{ id: 'l', name: 'lookup', arguments: { invoice: 7 } }] },
      'Invoice 7 is 120 EUR.',
      { toolCalls: [{ id: 'p', name: 'pay', arguments: { invoice: 7 } }] },
    ]);
    const gateway = createGateway({ agents: agents({ client: model }) });
    await gateway.agents.run(clerk, 'How much is invoice 7?', { sessionId: 'wait' });
    await gateway.agents.run(payer, 'Pay it.', { sessionId: 'wait' });
    const record = (await gateway.agents.session('wait'))!.record;
    expect(record.runs[1]!.status).toBe('awaiting-approval');
    const report = await replay([clerk, payer], record);
    expect(report).toMatchObject({ identical: true, result: { status: 'awaiting-approval', pending: [{ id: 'p' }] } });
    expect(pay.calls).toHaveLength(0);
  });

  it('keeps each run within its recorded steps', async () => {
    const { record } = await continuedSession();
    const { clerk, payer } = billing();
    // The record says the first run ended after one step: the replayed first run wants one more.
    const shorter: RunRecord = structuredClone(record);
    shorter.runs[1]!.firstStep = 1;
    expect(await replay([clerk, payer], shorter)).toMatchObject({
      identical: false,
      step: 1,
      path: 'end',
      expected: 'no further model call',
    });
    // The record says the first run went on for a third step: the replayed first run ends before it.
    const longer: RunRecord = structuredClone(record);
    longer.runs[1]!.firstStep = 3;
    expect(await replay([clerk, payer], longer)).toMatchObject({
      identical: false,
      step: 2,
      path: 'end',
      actual: 'the run ended',
    });
  });

  it('replays a record from a single run, including one written as version 1', async () => {
    const { record } = await recordedSession();
    expect(record.runs).toHaveLength(1);
    const legacy: RunRecordV1 = {
      version: 1,
      sessionId: record.sessionId,
      entryAgent: record.entryAgent,
      input: record.input,
      steps: record.steps,
    };
    expect(await replay(workflow().analyst, legacy)).toMatchObject({ identical: true });
  });

  it('continues a session saved with a version 1 record and replays both runs', async () => {
    const { record: current } = await continuedSession();
    // The session as a gateway before version 2 saved it after the first run: steps, no runs.
    const store = new MemoryStore();
    const legacy: SessionState = {
      id: 'bill',
      status: 'finished',
      agent: 'clerk',
      principal: {},
      messages: [
        { role: 'user', content: 'How much is invoice 7?' },
        ...structuredClone(current.steps[1]!.request.messages.slice(2)),
        { role: 'assistant', content: 'Invoice 7 is 120 EUR.' },
      ],
      usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
      cost: 0,
      step: 2,
      pending: [],
      record: {
        version: 1,
        sessionId: 'bill',
        entryAgent: 'clerk',
        input: 'How much is invoice 7?',
        steps: structuredClone(current.steps.slice(0, 2)),
      } as unknown as RunRecord,
      createdAt: 1,
      updatedAt: 1,
    };
    await storeSessions(store).save(legacy);
    const { clerk, payer } = billing();
    const model = scriptedModel([
      { toolCalls: [{ id: 'p', name: 'pay', arguments: { invoice: 7 } }] },
      'Invoice 7 is paid.',
    ]);
    const gateway = createGateway({ store, agents: agents({ client: model, agents: [clerk] }) });
    expect((await gateway.agents.session('bill'))?.record.runs).toEqual([
      { agent: 'clerk', input: 'How much is invoice 7?', firstStep: 0 },
    ]);
    await gateway.agents.run(payer, 'Pay it.', { sessionId: 'bill' });
    await gateway.agents.approve('bill', 'p');
    const record = (await gateway.agents.session('bill'))!.record;
    expect(record.runs.map((run) => [run.agent, run.firstStep])).toEqual([
      ['clerk', 0],
      ['payer', 2],
    ]);
    expect(await replay([clerk, payer], record)).toMatchObject({ identical: true });
  });
});
