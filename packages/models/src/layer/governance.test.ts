import { ConfigError, createGateway, RateLimitedError } from '@gatehouse/core';
import { captureEvents } from '@gatehouse/core/testing';
import OpenAI from 'openai';
import { afterAll, beforeEach, describe, expect, test } from 'vitest';
import { costMiddleware } from '../cost/index.js';
import { piiGuardrail } from '../guardrails/index.js';
import { createProviderServer, type ProviderServer, reply } from '../testing/index.js';
import { models } from './index.js';

const server: ProviderServer = await createProviderServer();
afterAll(() => server.close());
beforeEach(() => server.reset());

const ask = (content: string) => ({ model: 'faq', messages: [{ role: 'user' as const, content }] });

function gateway(extra: Parameters<typeof models>[0] = {}) {
  const openai = new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'sk-test', maxRetries: 0 });
  const gw = createGateway({
    models: models({
      providers: { openai, llama: new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'sk-test', maxRetries: 0 }) },
      routes: {
        faq: { targets: [{ provider: 'openai', model: 'gpt-4o' }], cache: true },
        internal: { targets: [{ provider: 'llama', model: 'llama-3-70b' }] },
      },
      retry: { retries: 0 },
      guardrails: [piiGuardrail({ detectors: ['card'], action: 'redact', phase: 'output' })],
      budgets: [{ per: 'team', window: 'day', requests: 2 }],
      prices: { providers: { llama: { '': { input: 1, output: 2 } } } },
      ...extra,
    }),
  });
  return { gw, client: gw.wrap(openai) };
}

describe('models({ guardrails, cache, budgets, costs, prices })', () => {
  test('one gateway: the guardrail redacts, the cache answers repeats, the budget refuses, costs add up', async () => {
    const { gw, client } = gateway();
    const events = captureEvents(gw.events, ['cache-hit', 'budget-exceeded', 'guardrail-triggered']);
    server.script([
      reply.text('Card on file: 4111 1111 1111 1111.', { usage: { inputTokens: 1000, outputTokens: 100 } }),
    ]);
    await gw.run({ principal: { team: 'risk', user: 'ana' } }, async () => {
      const first = await client.chat.completions.create(ask('which card?'));
      expect(first.choices[0]?.message.content).toBe('Card on file: [REDACTED:card].');
      // The same request again: served from the cache (the guardrail still applies), no upstream call, no budget.
      const again = await client.chat.completions.create(ask('which card?'));
      expect(again.choices[0]?.message.content).toBe('Card on file: [REDACTED:card].');
      expect(server.requests).toHaveLength(1);
      await client.chat.completions.create({ model: 'internal', messages: [{ role: 'user', content: 'hi' }] });
      const refused = await client.chat.completions
        .create({ model: 'internal', messages: [{ role: 'user', content: 'once more' }] })
        .catch((error: unknown) => error);
      expect(RateLimitedError.isInstance(refused)).toBe(true);
      expect((refused as RateLimitedError).retryAfterMs).toBeGreaterThan(0);
    });
    expect(server.requests).toHaveLength(2);
    expect(events.of('cache-hit')).toHaveLength(1);
    expect(events.of('budget-exceeded')).toHaveLength(1);
    expect(events.of('guardrail-triggered').length).toBeGreaterThanOrEqual(1);

    const report = await gw.models.costs({ period: 'day' });
    // gpt-4o: 1000 input at $2.50/M + 100 output at $10/M; the cache hit is free; llama at the overridden price.
    const gpt = 1000 * 2.5e-6 + 100 * 10e-6;
    expect(report.byModel['gpt-4o']).toBeCloseTo(gpt, 9);
    expect(report.byModel['llama-3-70b']).toBeGreaterThan(0);
    expect(report.byTeam.risk).toBeCloseTo(report.total, 9);
    expect(report.byUser.ana).toBeCloseTo(report.total, 9);
  });

  test('costs are on by default, counted once when the app also adds costMiddleware, and off with costs: false', async () => {
    const cases: [Parameters<typeof models>[0], number][] = [
      [{}, 1],
      [{ middleware: [costMiddleware()] }, 1],
      [{ costs: false }, 0],
    ];
    for (const [extra, expected] of cases) {
      const { gw, client } = gateway({ ...extra, budgets: undefined, guardrails: [] });
      server.script([reply.text('ok', { usage: { inputTokens: 10, outputTokens: 10 } })]);
      await gw.run({ principal: { team: 'ops' } }, () =>
        client.chat.completions.create({ model: 'internal', messages: [{ role: 'user', content: 'x' }] }),
      );
      const report = await gw.models.costs({ period: 'day' });
      expect(report.calls).toBe(expected);
    }
  });

  test('a bad governance option is a ConfigError naming it', () => {
    expect(() => gateway({ guardrails: ['pii' as never] })).toThrow(ConfigError);
    expect(() => gateway({ guardrails: ['pii' as never] })).toThrow(/models\.guardrails\.0/);
    expect(() => gateway({ costs: { keepdays: 3 } as never })).toThrow(/models\.costs.*keepdays/);
    expect(() =>
      gateway({ routes: { faq: { targets: [{ provider: 'openai', model: 'x' }], cache: 'yes' as never } } }),
    ).toThrow(/models\.routes\.faq\.cache/);
  });
});
