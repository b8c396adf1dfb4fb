import { ConfigError } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { asTool, tool } from '../tool/index.js';
import { defineAgent } from './index.js';

describe('defineAgent', () => {
  it('compiles tools, handoffs and the output schema once', () => {
    const lookup = tool({
      name: 'lookup',
      description: 'Find a supplier',
      input: z.object({ id: z.number().describe('Supplier id') }),
      execute: () => 'x',
    });
    const notifier = defineAgent({ name: 'notifier', description: 'Sends notices', instructions: 'n', model: 'm' });
    const helper = defineAgent({ name: 'helper', instructions: 'h', model: 'm' });
    const agent = defineAgent({
      name: 'analyst',
      instructions: 'Assess.',
      model: 'contracts',
      tools: [lookup, 'github__*', asTool(helper)],
      handoffs: [notifier],
      outputSchema: z.object({ risk: z.string() }),
    });
    expect(agent.staticTools.map((entry) => entry.function.name)).toEqual(['lookup', 'helper', 'transfer_to_notifier']);
    expect(agent.staticTools[0]!.function.parameters).toMatchObject({
      type: 'object',
      properties: { id: { type: 'number', description: 'Supplier id' } },
      required: ['id'],
    });
    expect(agent.staticTools[2]!.function.description).toBe(
      'Hand the conversation to the notifier agent: Sends notices',
    );
    expect(agent.toolPatterns.map((pattern) => pattern.test('github__create_issue'))).toEqual([true]);
    expect(agent.toolPatterns[0]!.test('jira__create_issue')).toBe(false);
    expect(String(agent.system.content)).toMatch(/^Assess\.\n\nAnswer with JSON only, matching this JSON schema: \{/);
    expect(agent.limits.steps).toBe(25);
  });

  it('rejects bad definitions with a ConfigError that names the path', () => {
    const cases: [unknown, string][] = [
      [{ name: 'has space', instructions: 'x', model: 'm' }, 'agent.name'],
      [{ name: 'a', instructions: 3, model: 'm' }, 'agent.instructions'],
      [{ name: 'a', instructions: 'x', model: '' }, 'agent.model'],
      [{ name: 'a', instructions: 'x', model: 'm', tools: ['bad name!'] }, 'agent.tools.0'],
      [{ name: 'a', instructions: 'x', model: 'm', tools: [{}] }, 'agent.tools.0'],
      [{ name: 'a', instructions: 'x', model: 'm', handoffs: ['b'] }, 'agent.handoffs.0'],
      [{ name: 'a', instructions: 'x', model: 'm', limits: { steps: 0 } }, 'agent.limits.steps'],
    ];
    for (const [options, path] of cases) {
      const error = (() => {
        try {
          defineAgent(options as never);
        } catch (caught) {
          return caught;
        }
      })();
      expect(ConfigError.isInstance(error), path).toBe(true);
      expect((error as ConfigError).path).toBe(path);
    }
    expect(() => tool({ name: 'a b', description: '', input: z.object({}), execute: () => 1 })).toThrow(/must match/);
  });
});
