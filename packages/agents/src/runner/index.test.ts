import { createGateway, InvalidInputError, type Middleware } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAgent } from '../agent/index.js';
import { OutputValidationError } from '../errors/index.js';
import { agents } from '../layer/index.js';
import { fakeTool, scriptedModel } from '../testing/index.js';
import { tool } from '../tool/index.js';
import type { AgentEvent, StepContext, StepResult } from './types.js';

function gatewayWith(client: ReturnType<typeof scriptedModel>, options: Partial<Parameters<typeof agents>[0]> = {}) {
  return createGateway({ agents: agents({ client, ...options }) });
}

describe('the runner', () => {
  it('loops model -> tool -> model until a final answer, with the agent as principal', async () => {
    const lookup = tool({
      name: 'lookup',
      description: 'Find a supplier',
      input: z.object({ id: z.number() }),
      execute: ({ id }, execution) => ({ id, name: 'ACME', asked: execution.principal }),
    });
    const model = scriptedModel([{ toolCalls: [{ name: 'lookup', arguments: { id: 7 } }] }, 'ACME is supplier 7']);
    const gateway = gatewayWith(model);
    const agent = defineAgent({
      name: 'clerk',
      instructions: 'Look suppliers up.',
      model: 'contracts',
      tools: [lookup],
    });

    const result = await gateway.run({ principal: { team: 'risk' } }, () => gateway.agents.run(agent, 'Who is 7?'));

    expect(result.status).toBe('finished');
    expect(result.output).toBe('ACME is supplier 7');
    expect(model.requests).toHaveLength(2);
    expect(model.requests[0]!.model).toBe('contracts');
    expect(model.requests[0]!.messages[0]).toEqual({ role: 'system', content: 'Look suppliers up.' });
    expect(model.requests[0]!.tools?.map((entry) => (entry as any).function.name)).toEqual(['lookup']);
    const toolMessage = model.requests[1]!.messages.at(-1) as { role: string; content: string };
    expect(toolMessage.role).toBe('tool');
    expect(JSON.parse(toolMessage.content)).toEqual({ id: 7, name: 'ACME', asked: { team: 'risk', agent: 'clerk' } });
    expect(result.usage.totalTokens).toBeGreaterThan(0);
    expect(result.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
  });

  it('runs the tool calls of one step in parallel, up to the concurrency limit', async () => {
    let running = 0;
    let peak = 0;
    const releases: (() => void)[] = [];
    const slow = tool({
      name: 'slow',
      description: 'Slow',
      input: z.object({ n: z.number() }),
      execute: async ({ n }) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running--;
        return n * 2;
      },
    });
    const calls = [1, 2, 3, 4, 5].map((n) => ({ name: 'slow', arguments: { n } }));
    const model = scriptedModel([{ toolCalls: calls }, 'done']);
    const gateway = gatewayWith(model, { concurrency: 2 });
    const agent = defineAgent({ name: 'worker', instructions: 'Work.', model: 'm', tools: [slow] });
    let settled = false;
    const pending = gateway.agents.run(agent, 'go').finally(() => (settled = true));
    while (!settled) {
      await new Promise((resolve) => setImmediate(resolve));
      releases.shift()?.();
    }
    const result = await pending;
    expect(result.status).toBe('finished');
    expect(peak).toBe(2);
    const results = result.messages.filter((message) => message.role === 'tool').map((message) => message.content);
    expect(results).toEqual(['2', '4', '6', '8', '10']);
  });

  it('tells the model about bad arguments instead of calling the tool', async () => {
    const echo = fakeTool('echo');
    const strict = tool({
      name: 'strict',
      description: 'x',
      input: z.object({ n: z.number() }),
      execute: () => 'never',
    });
    const model = scriptedModel([
      {
        toolCalls: [
          { name: 'strict', arguments: { n: 'seven' } },
          { name: 'echo', arguments: '{not json' },
          { name: 'nope' },
        ],
      },
      'sorry',
    ]);
    const gateway = gatewayWith(model);
    const agent = defineAgent({ name: 'a', instructions: 'x', model: 'm', tools: [echo, strict] });
    const result = await gateway.agents.run(agent, 'go');
    const results = result.messages
      .filter((message) => message.role === 'tool')
      .map((message) => message.content as string);
    expect(results[0]).toMatch(/^Error: invalid arguments for strict: n: /);
    expect(results[1]).toMatch(/^Error: the arguments are not valid JSON/);
    expect(results[2]).toBe('Error: nope is not one of your tools');
    expect(echo.calls).toHaveLength(0);
  });

  it('returns the partial result at the step limit', async () => {
    const echo = fakeTool('echo', { idempotent: true });
    const again = { text: 'still working', toolCalls: [{ name: 'echo', arguments: {} }] };
    const model = scriptedModel([again, again, again]);
    const gateway = gatewayWith(model);
    const agent = defineAgent({ name: 'a', instructions: 'x', model: 'm', tools: [echo], limits: { steps: 2 } });
    const result = await gateway.agents.run(agent, 'go');
    expect(result).toMatchObject({ status: 'limit', reason: 'steps', output: 'still working' });
    expect(model.requests).toHaveLength(2);
    expect(echo.calls).toHaveLength(2);
    expect((await gateway.agents.session(result.sessionId))?.status).toBe('limit');
  });

  it('stops at the token and dollar limits', async () => {
    const echo = fakeTool('echo', { idempotent: true });
    const step = { toolCalls: [{ name: 'echo' }], usage: { inputTokens: 60, outputTokens: 40 } };
    const tokens = await gatewayWith(scriptedModel([step, step, step])).agents.run(
      defineAgent({ name: 'a', instructions: 'x', model: 'm', tools: [echo], limits: { tokens: 150 } }),
      'go',
    );
    expect(tokens).toMatchObject({ status: 'limit', reason: 'tokens', usage: { totalTokens: 200 } });

    const priced = gatewayWith(scriptedModel([step, step, step]), { cost: ({ usage }) => usage.totalTokens / 1000 });
    const dollars = await priced.agents.run(
      defineAgent({ name: 'b', instructions: 'x', model: 'm', tools: [echo], limits: { dollars: 0.1 } }),
      'go',
    );
    expect(dollars).toMatchObject({ status: 'limit', reason: 'dollars' });
    expect(dollars.cost).toBeCloseTo(0.1);
  });

  it('stops at the wall-time limit, aborting the model call in flight', async () => {
    const model = scriptedModel([{ text: 'late', delayMs: 60_000 }]);
    const agent = defineAgent({ name: 'a', instructions: 'x', model: 'm', limits: { timeMs: 20 } });
    const result = await gatewayWith(model).agents.run(agent, 'go');
    expect(result).toMatchObject({ status: 'limit', reason: 'time' });
  });

  it('ends when the stop condition holds', async () => {
    const echo = fakeTool('echo', { idempotent: true });
    const model = scriptedModel([
      { toolCalls: [{ name: 'echo' }] },
      { text: 'enough', toolCalls: [{ name: 'echo' }] },
      'x',
    ]);
    const agent = defineAgent({
      name: 'a',
      instructions: 'x',
      model: 'm',
      tools: [echo],
      stopWhen: (step) => step.text === 'enough',
    });
    const result = await gatewayWith(model).agents.run(agent, 'go');
    expect(result).toMatchObject({ status: 'stopped', output: 'enough' });
    expect(model.remaining).toBe(1);
  });

  it('validates the final answer with the output schema, with one corrective retry', async () => {
    const schema = z.object({ risk: z.enum(['low', 'high']) });
    const agent = defineAgent({ name: 'a', instructions: 'Rate it.', model: 'm', outputSchema: schema });
    const model = scriptedModel(['{"risk":"medium"}', '```json\n{"risk":"high"}\n```']);
    const result = await gatewayWith(model).agents.run(agent, 'rate ACME');
    expect(result.output).toEqual({ risk: 'high' });
    expect(String(model.requests[0]!.messages[0]!.content)).toContain('"enum":["low","high"]');
    const corrective = model.requests[1]!.messages.at(-1)!;
    expect(corrective.role).toBe('user');
    expect(corrective.content).toMatch(/does not match the required JSON schema \(risk: /);

    const failing = gatewayWith(scriptedModel(['nope', '{"risk":1}']));
    const error = await failing.agents.run(agent, 'rate', { sessionId: 's-out' }).catch((caught) => caught);
    expect(OutputValidationError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'GATEHOUSE_OUTPUT_INVALID', agent: 'a', output: '{"risk":1}' });
    expect((await failing.agents.session('s-out'))?.status).toBe('failed');
  });

  it('runs each step through the step middleware, which may change the request', async () => {
    const seen: string[] = [];
    const tagging: Middleware<StepContext, StepResult> = async (context, next) => {
      context.request = { ...context.request, temperature: 0 };
      const result = await next();
      seen.push(`${context.agent.name}#${context.step}:${result.outcome}`);
      return result;
    };
    const echo = fakeTool('echo', { idempotent: true });
    const model = scriptedModel([{ toolCalls: [{ name: 'echo' }] }, 'done']);
    const gateway = gatewayWith(model, { middleware: [tagging] });
    await gateway.agents.run(defineAgent({ name: 'a', instructions: 'x', model: 'm', tools: [echo] }), 'go');
    expect(seen).toEqual(['a#0:tool-calls', 'a#1:final']);
    expect(model.requests.every((request) => request.temperature === 0)).toBe(true);
  });

  it('streams step, text, tool and finish events', async () => {
    const echo = fakeTool('echo', { result: 'pong', idempotent: true });
    const model = scriptedModel([{ toolCalls: [{ id: 'c1', name: 'echo', arguments: { x: 1 } }] }, 'all good here']);
    const gateway = gatewayWith(model);
    const events: AgentEvent[] = [];
    for await (const event of gateway.agents.stream(
      defineAgent({ name: 'a', instructions: 'x', model: 'm', tools: [echo] }),
      'go',
    )) {
      events.push(event);
    }
    expect(events.map((event) => event.type)).toEqual([
      'step-started',
      'tool-call',
      'tool-result',
      'step-started',
      'text-delta',
      'text-delta',
      'text-delta',
      'finished',
    ]);
    expect(events[1]).toMatchObject({ callId: 'c1', name: 'echo', arguments: '{"x":1}' });
    expect(events[2]).toMatchObject({ callId: 'c1', result: 'pong' });
    const text = events.flatMap((event) => (event.type === 'text-delta' ? [event.delta] : [])).join('');
    expect(text).toBe('all good here');
    expect(events.at(-1)).toMatchObject({ type: 'finished', result: { status: 'finished', output: 'all good here' } });
    expect(model.requests[0]!.stream).toBe(true);
  });

  it('refuses to run a session that waits for an answer, and a bad input', async () => {
    const risky = fakeTool('risky', { needsApproval: true });
    const gateway = gatewayWith(scriptedModel([{ toolCalls: [{ name: 'risky' }] }]));
    const agent = defineAgent({ name: 'a', instructions: 'x', model: 'm', tools: [risky] });
    await gateway.agents.run(agent, 'go', { sessionId: 'busy' });
    await expect(gateway.agents.run(agent, 'again', { sessionId: 'busy' })).rejects.toThrow(/awaiting-approval/);
    const error = await gateway.agents.run(agent, 42 as unknown as string).catch((caught) => caught);
    expect(InvalidInputError.isInstance(error)).toBe(true);
  });
});
