import { createGateway } from '@gatehouse/core';
import { models } from '@gatehouse/models';
import { interleave, measure, type Sample, summary } from './measure.js';
import { memoryClient as client, fallbackTargets } from './memory-client.js';

const rounds = 400;
const batch = 50;
const messages = [{ role: 'user' as const, content: 'hi' }];

/** A wrapped client of a gateway with a fallback route; `costs: false` leaves out the default cost middleware. */
function wrappedClient(extra: { costs?: false } = {}) {
  return createGateway({
    models: models({
      providers: { openai: client() },
      routes: {
        fallback: {
          targets: fallbackTargets,
        },
      },
      ...extra,
    }),
  }).wrap(client());
}

/**
 * What a wrapped client adds to a chat completion, against the raw client in the same process with the same
 * in-memory `fetch`: a plain call (a model that is not a route) and a call through a fallback route. Batches of
 * raw, plain and routed calls are interleaved and the differences taken round by round, so that load drifting
 * over the run does not show up as gateway overhead. `costs: false` measures the layer without the cost
 * middleware it adds by default, in a process of its own (`models-layer`): one gateway configuration per process,
 * as in an app, so that the JIT's view of one does not weigh on the other's figures.
 */
export async function modelsBench(): Promise<Sample[]> {
  const raw = client();
  const wrapped = wrappedClient();
  const options = { iterations: 40_000, batch, warmup: 5_000 };
  const rawCall = () => raw.chat.completions.create({ model: 'gpt-4o', messages });
  const plainCall = () => wrapped.chat.completions.create({ model: 'gpt-4o', messages });
  const routedCall = () => wrapped.chat.completions.create({ model: 'fallback', messages });
  const rawSample = await measure('raw client: chat.completions.create', rawCall, options);
  const plain = await measure('wrapped: plain (not a route)', plainCall, options);
  const routed = await measure('wrapped: fallback route', routedCall, options);
  const [plainAdded, routedAdded] = await interleave(rawCall, [plainCall, routedCall], { rounds, batch });
  return [
    rawSample,
    plain,
    routed,
    summary('added by the gateway: plain', plainAdded!, rounds * batch),
    summary('added by the gateway: fallback route', routedAdded!, rounds * batch),
  ];
}

/** The same, for the layer alone (`costs: false`). */
export async function modelsLayerBench(): Promise<Sample[]> {
  const raw = client();
  const layerOnly = wrappedClient({ costs: false });
  const [plainAdded, routedAdded] = await interleave(
    () => raw.chat.completions.create({ model: 'gpt-4o', messages }),
    [
      () => layerOnly.chat.completions.create({ model: 'gpt-4o', messages }),
      () => layerOnly.chat.completions.create({ model: 'fallback', messages }),
    ],
    { rounds, batch },
  );
  return [
    summary('added by the layer alone (costs: false): plain', plainAdded!, rounds * batch),
    summary('added by the layer alone (costs: false): fallback route', routedAdded!, rounds * batch),
  ];
}
