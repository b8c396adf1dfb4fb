import { createGateway } from '@gatehouse/core';
import { models, piiGuardrail } from '@gatehouse/models';
import type { Sample } from './measure.js';
import { memoryClient as client } from './memory-client.js';

function gatewayWith(governed: boolean) {
  return createGateway({
    models: models({
      providers: { openai: client() },
      routes: {
        ask: {
          targets: [
            { provider: 'openai', model: 'gpt-4o' },
            { provider: 'openai', model: 'gpt-4o-mini' },
          ],
        },
      },
      ...(governed
        ? {
            guardrails: [piiGuardrail({ action: 'redact' })],
            budgets: [
              { per: 'team', window: 'day', dollars: 1e9 },
              { per: 'user', window: 'minute', requests: 1e12 },
            ],
          }
        : { costs: false }),
    }),
  });
}

/**
 * What governance adds to a chat completion: the full default chain (telemetry without an SDK, a fallback route,
 * retry, a PII-redacting guardrail on input and output, budget on the memory store with a dollar and a request
 * limit, cost with totals) against the raw client, and against the same route without guardrail, cost and budget, all with the same in-memory `fetch`. Batches of each are
 * interleaved and the differences taken round by round, so load drifting over the run does not count.
 */
export async function governanceBench(): Promise<Sample[]> {
  const raw = client();
  const plain = gatewayWith(false);
  const governed = gatewayWith(true);
  const plainClient = plain.wrap(client());
  const governedClient = governed.wrap(client());
  const messages = [{ role: 'user' as const, content: 'Summarise the contract in one line.' }];
  const scope = { principal: { team: 'risk', user: 'ana' } };
  const rawCall = () => raw.chat.completions.create({ model: 'gpt-4o', messages });
  const plainCall = () => plain.run(scope, () => plainClient.chat.completions.create({ model: 'ask', messages }));
  const governedCall = () =>
    governed.run(scope, () => governedClient.chat.completions.create({ model: 'ask', messages }));

  for (let i = 0; i < 5_000; i++) {
    await rawCall();
    await plainCall();
    await governedCall();
  }
  const rounds = 400;
  const batch = 50;
  const rawTimes = new Float64Array(rounds);
  const governedAdded = new Float64Array(rounds);
  const governanceAdded = new Float64Array(rounds);
  const time = async (fn: () => Promise<unknown>) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) await fn();
    return Number(process.hrtime.bigint() - start) / batch;
  };
  for (let round = 0; round < rounds; round++) {
    const base = await time(rawCall);
    const route = await time(plainCall);
    const full = await time(governedCall);
    rawTimes[round] = base;
    governedAdded[round] = full - base;
    governanceAdded[round] = full - route;
  }
  return [
    summary('raw client: chat.completions.create', rawTimes),
    summary('added by the full chain: route + retry + telemetry + PII guardrail + budget + cost', governedAdded),
    summary('added by guardrail + budget + cost alone (vs the same route without them)', governanceAdded),
  ];

  function summary(name: string, values: Float64Array): Sample {
    values.sort();
    const at = (q: number) => values[Math.min(values.length - 1, Math.floor(q * values.length))]!;
    const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
    return { name, p50: at(0.5), p99: at(0.99), mean, samples: rounds * batch };
  }
}
