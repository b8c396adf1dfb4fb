// The code examples of packages/models/README.md, run as written, so the README cannot rot. The one difference:
// the SDK clients get `baseURL`s (and test API keys) from `createProviderServer()`, the testing kit's local
// server, instead of talking to api.openai.com and api.anthropic.com.
import Anthropic from '@anthropic-ai/sdk';
import { createGateway, GuardrailError, NoHealthyTargetError, RateLimitedError } from '@gatehouse/core';
import { recordSpans } from '@gatehouse/core/testing';
import { type ModelMiddleware, mapStream, models, piiGuardrail, secretGuardrail } from '@gatehouse/models';
import OpenAI from 'openai';
import { afterAll, beforeEach, describe, expect, test } from 'vitest';
import { createProviderServer, reply } from './testing/index.js';

const server = await createProviderServer();
afterAll(() => server.close());
beforeEach(() => server.reset());

const sentModels = () => server.requests.map((request) => request.body.model);

describe('models README: the example', () => {
  test('routes with fallback, a guardrail, budgets, the cache, a stream and the cost report', async () => {
    // Test only: gpt-4o is down for the first call (the first attempt and its two retries).
    server.script([reply.error(503), reply.error(503), reply.error(503)], { model: 'gpt-4o' });

    // --- README ---
    const gateway = createGateway({
      models: models({
        // Your own SDK clients (they read OPENAI_API_KEY and ANTHROPIC_API_KEY).
        providers: {
          openai: new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'sk-test' }),
          anthropic: new Anthropic({ baseURL: server.anthropicBaseURL, apiKey: 'sk-ant-test' }),
        },
        routes: {
          // `model: 'contracts'` tries gpt-4o (with retries), then Claude, translated both ways.
          contracts: {
            targets: [
              { provider: 'openai', model: 'gpt-4o' },
              { provider: 'anthropic', model: 'claude-sonnet-4-6', parameters: { max_tokens: 2048 } },
            ],
          },
          // Exact repeats of a question are answered from the cache.
          faq: { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }], cache: true },
        },
        // Email addresses and card numbers are redacted on the way in and on the way out, streams included.
        guardrails: [piiGuardrail({ detectors: ['email', 'card'] })],
        budgets: [
          { per: 'team', window: 'day', dollars: 50 }, // BudgetExceededError past $50 a day (UTC) per team
          { per: 'user', window: 'minute', requests: 20 }, // RateLimitedError past 20 calls a minute per user
        ],
        cache: { ttlMs: 10 * 60_000 },
      }),
    });

    // Still typed as OpenAI; every generating call now runs through the gateway.
    const client = gateway.wrap(new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'sk-test' }));

    const { review, summary, answers } = await gateway.run(
      { principal: { team: 'legal', user: 'sofia' } },
      async () => {
        const review = await client.chat.completions.create({
          model: 'contracts',
          messages: [{ role: 'user', content: 'Summarise clause 7.2 for sofia@example.com' }],
        });
        // review.model: 'gpt-4o', or 'claude-sonnet-4-6' when OpenAI keeps failing; the providers were sent
        // 'Summarise clause 7.2 for [REDACTED:email]'.

        const stream = await client.chat.completions.create({
          model: 'contracts',
          messages: [{ role: 'user', content: 'And clause 11, in one line?' }],
          stream: true,
        });
        let summary = '';
        for await (const chunk of stream) summary += chunk.choices[0]?.delta.content ?? '';

        const question = { model: 'faq', messages: [{ role: 'user' as const, content: 'What is a chargeback?' }] };
        const answers = [
          await client.chat.completions.create(question),
          await client.chat.completions.create(question), // from the cache: no upstream call, not charged or counted
        ];
        return { review, summary, answers };
      },
    );

    const costs = await gateway.models.costs({ period: 'day' });
    // costs.total, costs.byTeam.legal, costs.byUser.sofia, costs.byRoute.contracts, costs.byModel['gpt-4o'] …
    // --- end README ---

    // The fallback: three attempts at gpt-4o, then Claude, through the Anthropic client (translated).
    expect(review.model).toBe('claude-sonnet-4-6');
    expect(review.object).toBe('chat.completion');
    expect(server.requests.slice(0, 4).map((request) => request.path)).toEqual([
      '/v1/chat/completions',
      '/v1/chat/completions',
      '/v1/chat/completions',
      '/v1/messages',
    ]);
    // The guardrail redacted the address before any provider saw it, and the echoed answer too.
    const sentText = JSON.stringify(server.requests.map((request) => request.body));
    expect(sentText).not.toContain('sofia@example.com');
    expect(sentText).toContain('Summarise clause 7.2 for [REDACTED:email]');
    expect(review.choices[0]?.message.content).toBe('Echo: Summarise clause 7.2 for [REDACTED:email]');
    // The stream went to gpt-4o again (the circuit breaker opens only after five failures in a row).
    expect(summary).toBe('Echo: And clause 11, in one line?');
    // The second FAQ answer came from the cache: one upstream call for two answers.
    expect(answers[1]?.choices[0]?.message.content).toBe(answers[0]?.choices[0]?.message.content);
    expect(sentModels()).toEqual(['gpt-4o', 'gpt-4o', 'gpt-4o', 'claude-sonnet-4-6', 'gpt-4o', 'gpt-4o-mini']);

    // Costs: three priced calls (the cache hit is not counted), all of them legal's, by sofia.
    expect(costs.calls).toBe(3);
    expect(costs.unpriced).toBe(0);
    expect(costs.total).toBeGreaterThan(0);
    expect(costs.byTeam.legal).toBeCloseTo(costs.total, 12);
    expect(costs.byUser.sofia).toBeCloseTo(costs.total, 12);
    expect(Object.keys(costs.byRoute).sort()).toEqual(['contracts', 'faq']);
    expect(Object.keys(costs.byModel).sort()).toEqual(['claude-sonnet-4-6', 'gpt-4o', 'gpt-4o-mini']);
    expect(costs.byTarget['anthropic:claude-sonnet-4-6']).toBe(costs.byModel['claude-sonnet-4-6']);

    // The request limit: 3 calls counted so far (the cache hit was not); the 21st in the minute is refused.
    const refused = await gateway.run({ principal: { team: 'legal', user: 'sofia' } }, async () => {
      for (let call = 4; call <= 21; call++) {
        try {
          await client.chat.completions.create({
            model: 'gpt-4o-mini',
            messages: [{ role: 'user', content: `${call}` }],
          });
        } catch (error) {
          return { call, error };
        }
      }
      return undefined;
    });
    expect(refused?.call).toBe(21);
    const error = refused?.error;
    if (!RateLimitedError.isInstance(error)) throw new Error(`expected a RateLimitedError, got ${String(error)}`);
    expect(error.code).toBe('GATEHOUSE_RATE_LIMITED');
    expect(error.limit).toBe('user:sofia requests/minute');
    expect(error.retryAfterMs).toBeGreaterThan(0);
  });
});

describe('models README: smaller examples', () => {
  test('errors: a blocked input and a route whose every target failed', async () => {
    const openai = new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'sk-test' });
    const gateway = createGateway({
      models: models({
        providers: { openai },
        routes: { support: { targets: [{ provider: 'openai', model: 'gpt-4o' }] } },
        retry: { retries: 0 },
        guardrails: [secretGuardrail()],
      }),
    });
    const client = gateway.wrap(openai);
    server.script(reply.error(500));

    // --- README: errors ---
    const outcomes: string[] = [];
    for (const content of ['my key is sk-proj-Xq7Lm2Pz9Rt4Vb8Nc1Kd6Jf3Hs5Gw0Ye', 'hello']) {
      try {
        await client.chat.completions.create({ model: 'support', messages: [{ role: 'user', content }] });
      } catch (error) {
        if (GuardrailError.isInstance(error)) outcomes.push(`${error.guardrail} blocked the ${error.phase}`);
        else if (NoHealthyTargetError.isInstance(error)) outcomes.push(`${error.route}: ${error.errors.length} failed`);
        else throw error;
      }
    }
    // outcomes: ['secrets blocked the input', 'support: 1 failed']
    // --- end README ---

    expect(outcomes).toEqual(['secrets blocked the input', 'support: 1 failed']);
    // The blocked call never left the process.
    expect(server.requests).toHaveLength(1);
    expect(JSON.stringify(server.requests[0]?.body)).toContain('hello');
  });

  test('your own middleware: the user id goes upstream, the chunk count onto the span', async () => {
    const recorder = recordSpans();
    try {
      // --- README: middleware ---
      // Sends the caller's user id with each chat call, and records how many chunks a stream had on the call's span.
      const userAndChunks: ModelMiddleware = async (ctx, next) => {
        if (ctx.request.api === 'chat' && ctx.principal.user)
          ctx.request.body = { ...ctx.request.body, user: ctx.principal.user };
        let chunks = 0;
        return mapStream(await next(), {
          chunk(chunk) {
            chunks++;
            return chunk;
          },
          end: () => ctx.span.setAttribute('app.stream.chunks', chunks),
        });
      };
      // --- end README ---
      const openai = new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'sk-test' });
      const gateway = createGateway({ models: models({ providers: { openai }, middleware: [userAndChunks] }) });
      const client = gateway.wrap(openai);
      server.script(reply.text('one two three', { chunks: ['one ', 'two ', 'three'] }));
      const stream = await gateway.run({ principal: { user: 'ana' } }, () =>
        client.chat.completions.create({
          model: 'gpt-4o',
          messages: [{ role: 'user', content: 'count' }],
          stream: true,
        }),
      );
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      expect(text).toBe('one two three');
      expect(server.requests[0]?.body.user).toBe('ana');
      // The call's span ends last (its attempt span, of the same name, ended at the first content).
      const span = recorder.named('chat gpt-4o').at(-1);
      // A role chunk, three text chunks, the finish chunk, and the usage chunk the cost middleware asked for (the
      // caller never sees that one).
      expect(span?.attributes['app.stream.chunks']).toBe(6);
      expect(span?.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    } finally {
      await recorder.stop();
    }
  });

  // --- README: testing kit ---
  test('the support route falls back when gpt-4o is rate limited', async () => {
    const openai = new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'test' });
    const gateway = createGateway({
      models: models({
        providers: { openai },
        routes: {
          support: {
            targets: [
              { provider: 'openai', model: 'gpt-4o' },
              { provider: 'openai', model: 'gpt-4o-mini' },
            ],
          },
        },
      }),
    });
    // gpt-4o asks for a minute's pause (longer than the gateway waits); the backup answers with this text.
    server.script(reply.error(429, { retryAfter: 60 }), { model: 'gpt-4o' });
    server.script(reply.text('Hello from the backup', { usage: { inputTokens: 12, outputTokens: 5 } }));

    const answer = await gateway
      .wrap(openai)
      .chat.completions.create({ model: 'support', messages: [{ role: 'user', content: 'hi' }] });

    expect(answer.choices[0]?.message.content).toBe('Hello from the backup');
    expect(answer.usage?.completion_tokens).toBe(5);
    expect(server.requests.map((request) => request.body.model)).toEqual(['gpt-4o', 'gpt-4o-mini']);
    expect(server.pending).toBe(0);
  });
  // --- end README ---
});
