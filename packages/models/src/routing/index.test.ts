import Anthropic from '@anthropic-ai/sdk';
import { createGateway, NoHealthyTargetError, TranslationError, UpstreamError } from '@gatehouse/core';
import OpenAI from 'openai';
import { afterAll, beforeEach, describe, expect, test } from 'vitest';
import { models } from '../layer/index.js';
import type { ModelsOptions, RouteOptions } from '../options/index.js';
import { createProviderServer, type ProviderServer, reply } from '../testing/index.js';

let server: ProviderServer;
server = await createProviderServer();
afterAll(() => server.close());
beforeEach(() => server.reset());

const user = (content: string) => [{ role: 'user' as const, content }];

function setup(routes: Record<string, RouteOptions>, extra: Partial<ModelsOptions> = {}) {
  const openai = new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'test', maxRetries: 0 });
  const backup = new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'test', maxRetries: 0 });
  const anthropic = new Anthropic({ baseURL: server.anthropicBaseURL, apiKey: 'test', maxRetries: 0 });
  const gateway = createGateway({
    models: models({
      providers: { openai, backup, anthropic },
      routes,
      retry: { retries: 1, minTimeout: 1, maxTimeout: 5 },
      ...extra,
    }),
  });
  return { gateway, openai: gateway.wrap(openai), anthropic: gateway.wrap(anthropic) };
}

const models_ = (kind: 'chat' | 'messages') =>
  server.requests
    .filter((r) => r.path === (kind === 'chat' ? '/v1/chat/completions' : '/v1/messages'))
    .map((r) => r.body.model);

describe('routes', () => {
  test('a model name that is not a route goes to the called client unchanged', async () => {
    const { openai } = setup({ contracts: { targets: [{ provider: 'backup', model: 'gpt-4o' }] } });
    const completion = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: user('plain') });
    expect(completion.model).toBe('gpt-4o-mini');
    expect(server.requests).toHaveLength(1);
  });

  test('fallback: targets in order, with per-target parameter overrides', async () => {
    const { openai } = setup({
      contracts: {
        targets: [
          { provider: 'openai', model: 'gpt-4o', parameters: { temperature: 0.1 } },
          { provider: 'backup', model: 'gpt-4o-mini', parameters: { temperature: 0.9 } },
        ],
      },
    });
    server.script([reply.error(500), reply.error(500)], { model: 'gpt-4o' });
    const completion = await openai.chat.completions.create({
      model: 'contracts',
      messages: user('hi'),
      temperature: 0.5,
    });
    expect(completion.model).toBe('gpt-4o-mini');
    expect(models_('chat')).toEqual(['gpt-4o', 'gpt-4o', 'gpt-4o-mini']);
    expect(server.requests.map((r) => r.body.temperature)).toEqual([0.1, 0.1, 0.9]);
  });

  test('weighted: calls spread by weight, every target reachable', async () => {
    const { openai } = setup({
      split: {
        strategy: 'weighted',
        targets: [
          { provider: 'openai', model: 'gpt-4o', weight: 3 },
          { provider: 'backup', model: 'gpt-4o-mini', weight: 1 },
        ],
      },
    });
    for (let i = 0; i < 80; i++) await openai.chat.completions.create({ model: 'split', messages: user('x') });
    const heavy = models_('chat').filter((m) => m === 'gpt-4o').length;
    expect(heavy).toBeGreaterThan(40);
    expect(heavy).toBeLessThan(80);
  });

  test('least-latency: after measuring both, the faster target takes the calls', async () => {
    const { openai, gateway } = setup({
      fast: {
        strategy: 'least-latency',
        targets: [
          { provider: 'openai', model: 'gpt-4o' },
          { provider: 'backup', model: 'gpt-4o-mini' },
        ],
      },
    });
    server.script(reply.delay(80), { model: 'gpt-4o' });
    await openai.chat.completions.create({ model: 'fast', messages: user('1') });
    await openai.chat.completions.create({ model: 'fast', messages: user('2') });
    server.reset();
    for (let i = 0; i < 3; i++) await openai.chat.completions.create({ model: 'fast', messages: user('3') });
    expect(models_('chat')).toEqual(['gpt-4o-mini', 'gpt-4o-mini', 'gpt-4o-mini']);
    const health = gateway.models.health();
    expect(health['openai:gpt-4o']!.latencyMs!).toBeGreaterThan(health['backup:gpt-4o-mini']!.latencyMs!);
  });

  test('conditional: the first rule matching the principal or metadata picks the targets, else the default', async () => {
    const { openai, gateway } = setup({
      tiered: {
        strategy: 'conditional',
        rules: [
          { when: { team: 'risk' }, targets: [{ provider: 'backup', model: 'gpt-4o-mini' }] },
          {
            when: { metadata: { tier: 'premium' } },
            targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5', parameters: { max_tokens: 64 } }],
          },
          { when: (context) => context.principal.user === 'ana', targets: [{ provider: 'openai', model: 'gpt-4.1' }] },
        ],
        targets: [{ provider: 'openai', model: 'gpt-4o' }],
      },
    });
    const ask = () => openai.chat.completions.create({ model: 'tiered', messages: user('x') });
    expect((await gateway.run({ principal: { team: 'risk' } }, ask)).model).toBe('gpt-4o-mini');
    expect((await gateway.run({ metadata: { tier: 'premium' } }, ask)).model).toBe('claude-sonnet-4-5');
    expect((await gateway.run({ principal: { user: 'ana' } }, ask)).model).toBe('gpt-4.1');
    expect((await ask()).model).toBe('gpt-4o');
  });

  test('all targets failing: NoHealthyTargetError with each target UpstreamError, SDK error as cause', async () => {
    const { openai } = setup({
      contracts: {
        targets: [
          { provider: 'openai', model: 'gpt-4o' },
          { provider: 'backup', model: 'gpt-4o-mini' },
        ],
      },
    });
    server.script([reply.error(503), reply.error(503), reply.error(400), reply.error(400)]);
    const error = await openai.chat.completions.create({ model: 'contracts', messages: user('x') }).catch((e) => e);
    expect(NoHealthyTargetError.isInstance(error)).toBe(true);
    expect(error.route).toBe('contracts');
    const [first, second] = error.errors;
    expect(UpstreamError.isInstance(first) && first.status === 503 && first.target === 'openai:gpt-4o').toBe(true);
    expect(first.cause).toBeInstanceOf(OpenAI.InternalServerError);
    expect(UpstreamError.isInstance(second) && second.status === 400).toBe(true);
    // 503 is retried once; 400 never.
    expect(server.requests).toHaveLength(3);
  });

  test('responses and embeddings route only to OpenAI providers', async () => {
    const { openai } = setup({ claude: { targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] } });
    const error = await openai.embeddings.create({ model: 'claude', input: 'x' }).catch((e) => e);
    expect(TranslationError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/no target that can serve embeddings/);
  });

  test('the gateway sends maxRetries: 0 so the SDK client never retries underneath', async () => {
    const retrying = new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'test', maxRetries: 5 });
    const gateway = createGateway({
      models: models({
        providers: { retrying },
        routes: { r: { targets: [{ provider: 'retrying', model: 'gpt-4o' }] } },
        retry: { retries: 1, minTimeout: 1 },
      }),
    });
    server.script([reply.error(500), reply.error(500), reply.error(500)]);
    const error = await gateway
      .wrap(retrying)
      .chat.completions.create({ model: 'r', messages: user('x') })
      .catch((e) => e);
    expect(NoHealthyTargetError.isInstance(error)).toBe(true);
    expect(server.requests).toHaveLength(2);
  });
});
