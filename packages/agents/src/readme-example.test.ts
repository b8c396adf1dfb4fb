// The example at the top of packages/agents/README.md, run as written, so the README cannot rot. The one
// difference: the model is the testing kit's `scriptedModel` instead of `new OpenAI()` (no network in tests).
import { agents, defineAgent, tool } from '@gatehouse/agents';
import { scriptedModel } from '@gatehouse/agents/testing';
import { createGateway } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

describe('agents README example', () => {
  it('runs a session with a local tool, pauses for approval, and continues after approve()', async () => {
    const model = scriptedModel([
      { toolCalls: [{ id: 'call_1', name: 'lookup_order', arguments: { id: 'A-17' } }] },
      'Order A-17 has shipped; it cost 120.',
      { toolCalls: [{ id: 'call_2', name: 'refund', arguments: { id: 'A-17', amount: 120 } }] },
      'Done: 120 refunded on A-17.',
    ]);
    const refunds: string[] = [];

    // --- README ---
    const lookupOrder = tool({
      name: 'lookup_order',
      description: 'Finds an order by its id',
      input: z.object({ id: z.string() }),
      idempotent: true,
      execute: async ({ id }) => ({ id, status: 'shipped', total: 120 }),
    });

    const refund = tool({
      name: 'refund',
      description: 'Refunds an order',
      input: z.object({ id: z.string(), amount: z.number().positive() }),
      needsApproval: ({ amount }) => amount > 100, // large refunds wait for a person
      execute: async ({ id, amount }) => {
        refunds.push(`${id}:${amount}`);
        return `refunded ${amount} on ${id}`;
      },
    });

    const support = defineAgent({
      name: 'support',
      instructions: 'You help customers with their orders. Be brief.',
      model: 'gpt-4o-mini',
      tools: [lookupOrder, refund],
      limits: { steps: 8 },
    });

    // README: agents({ client: new OpenAI(), agents: [support] })
    const gateway = createGateway({ agents: agents({ client: model, agents: [support] }) });

    const first = await gateway.agents.run(support, 'Where is my order A-17?', {
      sessionId: 'ticket-4711',
      principal: { team: 'support', user: 'ana' },
    });
    expect(first.status).toBe('finished');
    expect(first.output).toBe('Order A-17 has shipped; it cost 120.');

    // The same session goes on: the model sees the whole conversation so far.
    const second = await gateway.agents.run(support, 'Please refund it in full.', {
      sessionId: 'ticket-4711',
      principal: { team: 'support', user: 'ana' },
    });
    expect(second.status).toBe('awaiting-approval');
    expect(second.pending).toMatchObject([{ id: 'call_2', name: 'refund', arguments: '{"id":"A-17","amount":120}' }]);
    expect(refunds).toEqual([]); // nothing ran yet

    // Later, possibly in another process that shares the session store:
    const done = await gateway.agents.approve('ticket-4711', second.pending[0]!.id);
    expect(done.status).toBe('finished');
    expect(done.output).toBe('Done: 120 refunded on A-17.');
    // --- end of README ---

    expect(refunds).toEqual(['A-17:120']);
    expect(model.remaining).toBe(0);
    // The third model call carried the first turn's messages: one session, one conversation.
    const third = model.requests[2]!;
    expect(third.messages.map((message) => message.role)).toEqual([
      'system',
      'user',
      'assistant',
      'tool',
      'assistant',
      'user',
    ]);
    const state = await gateway.agents.session('ticket-4711');
    expect(state?.record.steps).toHaveLength(4);
    expect(state?.principal).toEqual({ team: 'support', user: 'ana' });
  });
});
