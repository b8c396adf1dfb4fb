import { createGateway } from '@gatehouse/core';
import { models, piiGuardrail } from '@gatehouse/models';
import type { Sample } from './measure.js';
import { memoryClient as client } from './memory-client.js';

const principal = { team: 'risk', user: 'ana' };

/** `scoped`: the principal is the gateway's `defaultScope` instead of a `gateway.run()` per call. */
function gatewayWith(governed: boolean, scoped = false) {
  return createGateway({
    ...(scoped ? { defaultScope: { principal } } : {}),
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
 * limit, cost with totals) against the raw client, and against the same route without guardrail, cost and budget,
 * all with the same in-memory `fetch`. The principal the budgets count by comes from a `gateway.run()` around each
 * call, and in a last row from the gateway's `defaultScope`: `run()` turns on Node's AsyncLocalStorage, whose
 * promise hooks then cost every promise of the process something (the raw client's too). Batches of each are
 * interleaved and the differences taken round by round, so load drifting over the run does not count.
 */
export async function governanceBench(): Promise<Sample[]> {
  const raw = client();
  const messages = [{ role: 'user' as const, content: 'Summarise the contract in one line.' }];
  const rawCall = () => raw.chat.completions.create({ model: 'gpt-4o', messages });

  // First, with no gateway.run() anywhere in the process (AsyncLocalStorage never turned on): the principal is
  // the gateway's defaultScope.
  const scoped = gatewayWith(true, true);
  const scopedClient = scoped.wrap(client());
  const scopedCall = () => scopedClient.chat.completions.create({ model: 'ask', messages });
  const scopedAdded = await interleave(rawCall, [scopedCall]);

  // Then with a gateway.run() around each call, as an app that sets the principal per request does.
  const plain = gatewayWith(false);
  const governed = gatewayWith(true);
  const plainClient = plain.wrap(client());
  const governedClient = governed.wrap(client());
  const scope = { principal };
  const plainCall = () => plain.run(scope, () => plainClient.chat.completions.create({ model: 'ask', messages }));
  const governedCall = () =>
    governed.run(scope, () => governedClient.chat.completions.create({ model: 'ask', messages }));
  const [governedAdded, routeAdded, rawTimes] = await interleave(rawCall, [governedCall, plainCall]);
  const governanceAdded = governedAdded!.map((value, round) => value - routeAdded![round]!);
  return [
    summary('raw client: chat.completions.create', rawTimes!),
    summary(
      'added by the full chain: route + retry + telemetry + PII guardrail + budget + cost, principal from gateway.run()',
      governedAdded!,
    ),
    summary('added by guardrail + budget + cost alone (vs the same route without them)', governanceAdded),
    summary(
      'added by the full chain, principal from defaultScope (no gateway.run(), no AsyncLocalStorage)',
      scopedAdded[0]!,
    ),
  ];
}

const rounds = 400;
const batch = 50;

/**
 * Batches of `base` and of each of `calls`, interleaved round by round after a warm-up: what each call adds over
 * `base` per round (nanoseconds), then `base`'s own times.
 */
async function interleave(base: () => Promise<unknown>, calls: (() => Promise<unknown>)[]): Promise<Float64Array[]> {
  for (let i = 0; i < 5_000; i++) {
    await base();
    for (const call of calls) await call();
  }
  const added = calls.map(() => new Float64Array(rounds));
  const baseTimes = new Float64Array(rounds);
  const time = async (fn: () => Promise<unknown>) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) await fn();
    return Number(process.hrtime.bigint() - start) / batch;
  };
  for (let round = 0; round < rounds; round++) {
    const baseline = await time(base);
    baseTimes[round] = baseline;
    for (let index = 0; index < calls.length; index++) added[index]![round] = (await time(calls[index]!)) - baseline;
  }
  return [...added, baseTimes];
}

function summary(name: string, values: Float64Array): Sample {
  const sorted = values.slice().sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  return { name, p50: at(0.5), p99: at(0.99), mean, samples: rounds * batch };
}
