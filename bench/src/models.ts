import { createGateway } from '@gatehouse/core';
import { models } from '@gatehouse/models';
import { measure, type Sample } from './measure.js';
import { memoryClient as client } from './memory-client.js';

/**
 * The overhead a wrapped client adds to a chat completion, against the raw client in the same process with the
 * same in-memory `fetch`: a plain call (a model that is not a route) and a call through a fallback route, with
 * the layer's defaults (which include the cost middleware) and with the layer alone (`costs: false`).
 * The added microseconds are the difference between the wrapped and raw rows.
 */
export async function modelsBench(): Promise<Sample[]> {
  const raw = client();
  /** A gateway with a fallback route; `costs: false` leaves out the cost middleware the layer adds by default. */
  const wrappedClient = (extra: { costs?: false } = {}) =>
    createGateway({
      models: models({
        providers: { openai: client() },
        routes: {
          fallback: {
            targets: [
              { provider: 'openai', model: 'gpt-4o' },
              { provider: 'openai', model: 'gpt-4o-mini' },
            ],
          },
        },
        ...extra,
      }),
    }).wrap(client());
  const wrapped = wrappedClient();
  const layerOnly = wrappedClient({ costs: false });
  const messages = [{ role: 'user' as const, content: 'hi' }];
  const options = { iterations: 40_000, batch: 50, warmup: 5_000 };
  const rawSample = await measure(
    'raw client: chat.completions.create',
    () => raw.chat.completions.create({ model: 'gpt-4o', messages }),
    options,
  );
  const plain = await measure(
    'wrapped: plain (not a route)',
    () => wrapped.chat.completions.create({ model: 'gpt-4o', messages }),
    options,
  );
  const routed = await measure(
    'wrapped: fallback route',
    () => wrapped.chat.completions.create({ model: 'fallback', messages }),
    options,
  );
  // The machine is shared: batches of raw, plain and routed calls are interleaved and the differences taken
  // round by round, so that load drifting over the run does not show up as gateway overhead.
  const rounds = 400;
  const batch = 50;
  const plainAdded = new Float64Array(rounds);
  const routedAdded = new Float64Array(rounds);
  const plainLayerAdded = new Float64Array(rounds);
  const routedLayerAdded = new Float64Array(rounds);
  const time = async (fn: () => Promise<unknown>) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) await fn();
    return Number(process.hrtime.bigint() - start) / batch;
  };
  const rawCall = () => raw.chat.completions.create({ model: 'gpt-4o', messages });
  const plainCall = () => wrapped.chat.completions.create({ model: 'gpt-4o', messages });
  const routedCall = () => wrapped.chat.completions.create({ model: 'fallback', messages });
  const plainLayerCall = () => layerOnly.chat.completions.create({ model: 'gpt-4o', messages });
  const routedLayerCall = () => layerOnly.chat.completions.create({ model: 'fallback', messages });
  for (let i = 0; i < options.warmup; i++) {
    await plainLayerCall();
    await routedLayerCall();
  }
  for (let round = 0; round < rounds; round++) {
    const base = await time(rawCall);
    plainAdded[round] = (await time(plainCall)) - base;
    routedAdded[round] = (await time(routedCall)) - base;
    plainLayerAdded[round] = (await time(plainLayerCall)) - base;
    routedLayerAdded[round] = (await time(routedLayerCall)) - base;
  }
  return [
    rawSample,
    plain,
    routed,
    added('added by the gateway: plain', plainAdded),
    added('added by the gateway: fallback route', routedAdded),
    added('added by the layer alone (costs: false): plain', plainLayerAdded),
    added('added by the layer alone (costs: false): fallback route', routedLayerAdded),
  ];

  function added(name: string, values: Float64Array): Sample {
    values.sort();
    const at = (q: number) => values[Math.min(values.length - 1, Math.floor(q * values.length))]!;
    const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
    return { name, p50: at(0.5), p99: at(0.99), mean, samples: rounds * batch };
  }
}
