import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGateway, MemoryStore, NotFoundError } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAgent } from '../agent/index.js';
import { agents } from '../layer/index.js';
import { fakeTool, scriptedModel } from '../testing/index.js';
import { tool } from '../tool/index.js';
import { fileSessions } from './file-sessions.js';
import { type SessionState, storeSessions } from './index.js';

function sample(id: string): SessionState {
  return {
    id,
    status: 'running',
    agent: 'a',
    principal: {},
    messages: [{ role: 'user', content: 'hi' }],
    usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
    cost: 0,
    step: 0,
    pending: [],
    record: {
      version: 2,
      sessionId: id,
      entryAgent: 'a',
      input: 'hi',
      runs: [{ agent: 'a', input: 'hi', firstStep: 0 }],
      steps: [],
    },
    createdAt: 1,
    updatedAt: 1,
  };
}

describe('session stores', () => {
  it('keeps sessions in a core Store as copies, never shared objects', async () => {
    const sessions = storeSessions(new MemoryStore());
    const state = sample('s1');
    await sessions.save(state);
    state.messages.push({ role: 'user', content: 'changed after saving' });
    expect((await sessions.load('s1'))?.messages).toHaveLength(1);
    expect(await sessions.delete('s1')).toBe(true);
    expect(await sessions.load('s1')).toBeUndefined();
  });

  it('writes files atomically (temporary file, then rename) and rejects unsafe ids', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-sessions-'));
    const sessions = fileSessions(join(dir, 'nested'));
    await Promise.all(Array.from({ length: 20 }, (_, index) => sessions.save({ ...sample('s1'), step: index })));
    expect(await readdir(join(dir, 'nested'))).toEqual(['s1.json']);
    expect(JSON.parse(await readFile(join(dir, 'nested', 's1.json'), 'utf8')).id).toBe('s1');
    expect(await sessions.load('missing')).toBeUndefined();
    await expect(sessions.load('../escape')).rejects.toThrow(/not usable as a file name/);
  });
});

describe('approvals', () => {
  it('pauses a session for approval, and another process approves and finishes it', async () => {
    const store = new MemoryStore();
    const payments: unknown[] = [];
    const pay = () =>
      tool({
        name: 'pay',
        description: 'Pay a supplier',
        input: z.object({ amount: z.number() }),
        needsApproval: ({ amount }) => amount > 100,
        execute: ({ amount }) => {
          payments.push(amount);
          return `paid ${amount}`;
        },
      });
    const agent = () => defineAgent({ name: 'payer', instructions: 'Pay.', model: 'm', tools: [pay()] });
    const first = createGateway({
      store,
      agents: agents({
        client: scriptedModel([
          {
            toolCalls: [
              { id: 'big', name: 'pay', arguments: { amount: 500 } },
              { id: 'small', name: 'pay', arguments: { amount: 5 } },
            ],
          },
        ]),
      }),
    });
    const paused = await first.agents.run(agent(), 'pay both', { sessionId: 'pay-1' });
    expect(paused.status).toBe('awaiting-approval');
    expect(paused.pending.map((call) => call.id)).toEqual(['big']);
    expect(payments).toEqual([5]);

    // A second gateway on the same store: another process, which knows the agent by name.
    const model = scriptedModel(['Both paid']);
    const second = createGateway({ store, agents: agents({ client: model, agents: [agent()] }) });
    const result = await second.agents.approve('pay-1', 'big');
    expect(result).toMatchObject({ status: 'finished', output: 'Both paid' });
    expect(payments).toEqual([5, 500]);
    const tools = model.requests[0]!.messages.filter((message) => message.role === 'tool');
    expect(tools.map((message) => message.content)).toEqual(['paid 500', 'paid 5']);
    const state = await second.agents.session('pay-1');
    expect(state?.record.steps[0]?.decisions).toMatchObject([{ callId: 'big', decision: 'approved' }]);
    await expect(second.agents.approve('pay-1', 'big')).rejects.toThrow(NotFoundError);
  });

  it('tells the model when a call was rejected', async () => {
    const risky = fakeTool('wipe', { needsApproval: true });
    const model = scriptedModel([{ toolCalls: [{ id: 'w', name: 'wipe' }] }, 'Understood, not wiping']);
    const gateway = createGateway({ agents: agents({ client: model }) });
    const agent = defineAgent({ name: 'ops', instructions: 'x', model: 'm', tools: [risky] });
    await gateway.agents.run(agent, 'wipe it', { sessionId: 'r' });
    const result = await gateway.agents.reject('r', 'w', 'too risky');
    expect(result.output).toBe('Understood, not wiping');
    expect(risky.calls).toHaveLength(0);
    expect(model.requests[1]!.messages.at(-1)).toMatchObject({
      role: 'tool',
      content: expect.stringMatching(/rejected by a reviewer.*too risky/),
    });
  });
});

describe('resume after an interruption', () => {
  function interrupted(idempotent: boolean) {
    const controller = new AbortController();
    let calls = 0;
    const charge = tool({
      name: 'charge',
      description: 'Charge a card',
      input: z.object({}),
      idempotent,
      execute: () => {
        calls++;
        if (calls === 1) {
          // The process "dies" while the call is in flight: its outcome is unknown.
          controller.abort();
          throw new Error('connection lost');
        }
        return 'charged';
      },
    });
    const agent = defineAgent({ name: 'biller', instructions: 'Bill.', model: 'm', tools: [charge] });
    const model = scriptedModel([{ toolCalls: [{ id: 'c', name: 'charge' }] }, 'Billed']);
    const gateway = createGateway({ agents: agents({ client: model }) });
    return { gateway, agent, controller, calls: () => calls, model };
  }

  it('retries a started call on resume when the tool is idempotent', async () => {
    const { gateway, agent, controller, calls } = interrupted(true);
    await expect(gateway.agents.run(agent, 'bill', { sessionId: 'i', signal: controller.signal })).rejects.toThrow(
      /aborted; resume\(\) continues it/,
    );
    expect((await gateway.agents.session('i'))?.pending[0]?.state).toBe('started');
    const result = await gateway.agents.resume('i');
    expect(result).toMatchObject({ status: 'finished', output: 'Billed' });
    expect(calls()).toBe(2);
  });

  it('asks for a decision on a started call that is not idempotent: retry, skip or a result', async () => {
    for (const [decision, expected, runs] of [
      ['retry', 'charged', 2],
      ['skip', 'The call was skipped after an interruption; whether it ran is unknown.', 1],
      [{ result: { receipt: 9 } }, '{"receipt":9}', 1],
    ] as const) {
      const { gateway, agent, controller, calls, model } = interrupted(false);
      await gateway.agents.run(agent, 'bill', { sessionId: 'd', signal: controller.signal }).catch(() => {});
      const waiting = await gateway.agents.resume('d');
      expect(waiting.status).toBe('needs-decision');
      expect(waiting.pending).toMatchObject([{ id: 'c', name: 'charge', state: 'needs-decision' }]);
      const result = await gateway.agents.decide('d', 'c', decision);
      expect(result.status).toBe('finished');
      expect(calls()).toBe(runs);
      expect(model.requests[1]!.messages.at(-1)).toMatchObject({ role: 'tool', content: expected });
    }
  });

  it('answers the stored result when resuming a finished session, and NotFoundError for an unknown one', async () => {
    const gateway = createGateway({ agents: agents({ client: scriptedModel(['hello']) }) });
    const agent = defineAgent({ name: 'a', instructions: 'x', model: 'm' });
    const done = await gateway.agents.run(agent, 'hi', { sessionId: 'f' });
    expect(await gateway.agents.resume('f')).toEqual(done);
    await expect(gateway.agents.resume('nope')).rejects.toThrow(NotFoundError);
  });

  it('continues a finished session with a new input, keeping its history', async () => {
    const model = scriptedModel(['first', 'second']);
    const gateway = createGateway({ agents: agents({ client: model }) });
    const agent = defineAgent({ name: 'a', instructions: 'x', model: 'm' });
    await gateway.agents.run(agent, 'one', { sessionId: 'c' });
    const result = await gateway.agents.run(agent, 'two', { sessionId: 'c' });
    expect(result.output).toBe('second');
    expect(model.requests[1]!.messages.map((message) => message.content)).toEqual(['x', 'one', 'first', 'two']);
  });
});

describe('a failed run', () => {
  it('is checkpointed as failed with the error, and resume() tries again from there', async () => {
    const lookup = fakeTool('lookup', { result: 'found' });
    const model = scriptedModel([
      { toolCalls: [{ id: 'l', name: 'lookup' }] },
      { error: new Error('provider down') },
      'found it',
    ]);
    const gateway = createGateway({ agents: agents({ client: model }) });
    const agent = defineAgent({ name: 'a', instructions: 'x', model: 'm', tools: [lookup] });
    await expect(gateway.agents.run(agent, 'go', { sessionId: 'flaky' })).rejects.toThrow('provider down');
    expect(await gateway.agents.session('flaky')).toMatchObject({
      status: 'failed',
      error: { code: 'ERROR', message: 'provider down' },
    });
    const result = await gateway.agents.resume('flaky');
    expect(result).toMatchObject({ status: 'finished', output: 'found it' });
    expect(lookup.calls).toHaveLength(1);
  });
});
