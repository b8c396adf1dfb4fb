import { createGateway } from '@gatehouse/core';
import { models, piiGuardrail } from '@gatehouse/models';
import { interleave, type Sample, summary } from './measure.js';
import { memoryClient as client, fallbackTargets } from './memory-client.js';

const principal = { team: 'risk', user: 'ana' };

/** `scoped`: the principal is the gateway's `defaultScope` instead of a `gateway.run()` per call. */
function gatewayWith(governed: boolean, scoped = false) {
  return createGateway({
    ...(scoped ? { defaultScope: { principal } } : {}),
    models: models({
      providers: { openai: client() },
      routes: {
        ask: {
          targets: fallbackTargets,
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

const rounds = 400;
const batch = 50;
const messages = [{ role: 'user' as const, content: 'Summarise the contract in one line.' }];
const scope = { principal };

/** Batches of `calls` interleaved with the raw client's (see `interleave`), in this file's rounds. */
function againstRaw(calls: (() => Promise<unknown>)[]): Promise<Float64Array[]> {
  const raw = client();
  return interleave(() => raw.chat.completions.create({ model: 'gpt-4o', messages }), calls, { rounds, batch });
}

/**
 * What governance adds to a chat completion: the full default chain (telemetry without an SDK, a fallback route,
 * retry, a PII-redacting guardrail on input and output, budget on the memory store with a dollar and a request
 * limit, cost with totals) against the raw client with the same in-memory `fetch`, batches of each interleaved
 * and the differences taken round by round, so that load drifting over the run does not count.
 *
 * Each case runs in a process of its own, one gateway configuration per process as in an app. Here the
 * principal the budgets count by is the gateway's `defaultScope`: no `gateway.run()` anywhere in the process, so
 * Node's AsyncLocalStorage is never turned on (`governance-run` has a `run()` around each call: its promise hooks
 * then cost every promise of the process something, the raw client's too).
 */
export async function governanceBench(): Promise<Sample[]> {
  const governed = gatewayWith(true, true).wrap(client());
  const [added] = await againstRaw([() => governed.chat.completions.create({ model: 'ask', messages })]);
  return [
    summary(
      'added by the full chain, principal from defaultScope (no gateway.run(), no AsyncLocalStorage)',
      added!,
      rounds * batch,
    ),
  ];
}

/** The full chain with the principal from a `gateway.run()` around each call, as an app that sets it per request. */
export async function governanceRunBench(): Promise<Sample[]> {
  const gateway = gatewayWith(true);
  const governed = gateway.wrap(client());
  const [added, rawTimes] = await againstRaw([
    () => gateway.run(scope, () => governed.chat.completions.create({ model: 'ask', messages })),
  ]);
  return [
    summary('raw client: chat.completions.create (AsyncLocalStorage on)', rawTimes!, rounds * batch),
    summary(
      'added by the full chain: route + retry + telemetry + PII guardrail + budget + cost, principal from gateway.run()',
      added!,
      rounds * batch,
    ),
  ];
}

/**
 * Guardrail, budget and cost alone: the governed gateway against one with the same route and none of them, both
 * under `gateway.run()` in one process.
 */
export async function governancePartsBench(): Promise<Sample[]> {
  const plain = gatewayWith(false);
  const governed = gatewayWith(true);
  const plainClient = plain.wrap(client());
  const governedClient = governed.wrap(client());
  const [governedAdded, routeAdded] = await againstRaw([
    () => governed.run(scope, () => governedClient.chat.completions.create({ model: 'ask', messages })),
    () => plain.run(scope, () => plainClient.chat.completions.create({ model: 'ask', messages })),
  ]);
  const governanceAdded = governedAdded!.map((value, round) => value - routeAdded![round]!);
  return [
    summary(
      'added by guardrail + budget + cost alone (vs the same route without them)',
      governanceAdded,
      rounds * batch,
    ),
  ];
}
