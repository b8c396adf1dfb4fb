import { compose, type GatewayRuntime, type Handler, type Layer } from '@gatehouse/core';
import { monotonicNow } from '../context/clock.js';
import type { ModelApi, ModelContext, ModelResult, ProviderKind, TargetInfo } from '../context/index.js';
import { type ModelSteps, stepsOf } from '../context/steps.js';
import { type CostReport, type CostReportOptions, costReport } from '../cost/index.js';
import { flushCosts } from '../cost/ledger.js';
import { type CompiledRoute, compileOptions, type ModelsOptions, providerKind } from '../options/index.js';
import { breakerGuard, circuitBreakerMiddleware, type TargetHealth } from '../resilience/circuit-breaker-middleware.js';
import { deadlineSlot } from '../resilience/deadline.js';
import { retryAfterFailure } from '../resilience/retry-middleware.js';
import { timedAttempt } from '../resilience/timeout-middleware.js';
import { LatencyTracker, routeExecutor } from '../routing/index.js';
import { attemptSpan, observeCall } from '../telemetry/index.js';
import { callPassthrough, callTarget } from '../upstream/index.js';
import { createWrapper, unwrapClient } from '../wrap/index.js';
import { governanceMiddleware } from './governance.js';

/** What `gateway.models` offers. */
export interface ModelsApi {
  /** The names of the configured routes. */
  readonly routes: readonly string[];
  /**
   * Cost totals for a day or a month (UTC), read from the gateway's store: overall and by team, user, agent,
   * route, model and target.
   */
  costs(options: CostReportOptions): Promise<CostReport>;
  /**
   * Each route target the gateway has seen: circuit state (closed, open, half-open), consecutive failures and
   * the moving average of successful latency in milliseconds.
   */
  health(): Record<string, TargetHealth & { latencyMs: number | undefined }>;
}

/** Whether an object has an own enumerable key (no array made, unlike `Object.keys`). */
function hasKeys(object: object): boolean {
  for (const key in object) if (Object.hasOwn(object, key)) return true;
  return false;
}

/** The target of a call that is not a route: the client it was made on, with the model it names. */
function passthroughTarget(
  byModel: Map<string, TargetInfo>,
  client: object,
  kind: ProviderKind,
  model: string,
  providerNames: ReadonlyMap<object, string>,
): TargetInfo {
  let target = byModel.get(model);
  if (!target) {
    const provider = providerNames.get(client) ?? kind;
    target = Object.freeze({
      id: `${provider}:${model}`,
      provider,
      kind,
      model,
      parameters: undefined,
      timeoutMs: undefined,
      client,
    });
    // Bounded: a client used with endlessly many model names must not grow this without limit.
    if (byModel.size < 1000) byModel.set(model, target);
  }
  return target;
}

/**
 * The models layer: wrapped OpenAI and Anthropic clients whose generating calls run through one chain, routes
 * (model aliases) with fallback, weighted, least-latency and conditional strategies, retries, timeouts and
 * cooldown of failing targets, translation between OpenAI and Anthropic, spans, metrics and `model-call` events.
 *
 * Order of a call: telemetry sees it first, then `guardrails` → `cache` → `budgets` → cost, then your `middleware`
 * in order, then the route executor, which runs each target through retry → circuit breaker → timeout → the
 * upstream call (with its own attempt span).
 * A model name that is not a route goes to the client it was called on, unchanged: the SDK's own retries and
 * errors apply. On a route the gateway retries itself and sends `maxRetries: 0` to the provider client, so
 * retries never multiply; an upstream failure is an `UpstreamError` naming the target (the SDK error as its
 * `cause`), and all targets failing a `NoHealthyTargetError` with each target's error.
 *
 * @example
 * const gateway = createGateway({
 *   models: models({
 *     providers: { openai: new OpenAI(), anthropic: new Anthropic() },
 *     routes: {
 *       contracts: {
 *         targets: [
 *           { provider: 'openai', model: 'gpt-4o' },
 *           { provider: 'anthropic', model: 'claude-sonnet-4-5', parameters: { max_tokens: 4096 } },
 *         ],
 *       },
 *     },
 *   }),
 * });
 * const openai = gateway.wrap(new OpenAI());
 * await openai.chat.completions.create({ model: 'contracts', messages });
 */
export function models(options: ModelsOptions = {}): Layer<'models', ModelsApi> {
  // Validated here, so a bad option fails where it is written, before any gateway exists.
  const compiled = compileOptions(options, unwrapClient);
  const governance = governanceMiddleware(compiled.options);
  const providerNames = new Map<object, string>();
  for (const [name, provider] of compiled.providers) providerNames.set(provider.client, name);

  return {
    kind: 'models',
    attach(runtime: GatewayRuntime) {
      const latency = new LatencyTracker();
      const { telemetry } = runtime;
      const breaker = compiled.circuitBreaker === false ? undefined : circuitBreakerMiddleware(compiled.circuitBreaker);
      // `retry: false` leaves retrying to each SDK client; any retry setting (even `retries: 0`) makes the gateway
      // the only one that retries.
      const settings = { gatewayRetries: compiled.retry !== false };

      // Innermost: one upstream attempt in its own span.
      const attempt: Handler<ModelContext, ModelResult> = (context) => {
        context.attempt++;
        // The closure and the attempt span only when the call's span records.
        if (!context.span.isRecording()) return callTarget(context, settings);
        return attemptSpan(context, () => callTarget(context, settings));
      };
      // Per attempt at a target: the breaker, then the timeout (the breaker's steps run inside the timeout's
      // callbacks: one promise per attempt instead of two).
      let inner: Handler<ModelContext, ModelResult> = attempt;
      let attemptThen: Parameters<typeof routeExecutor>[3];
      if (compiled.timeout !== false) {
        const timed = timedAttempt(compiled.timeout, breaker && breakerGuard(breaker));
        inner = (context) => timed(context, attempt);
        // The route's steps after an attempt run in the timeout's own callbacks: one promise per attempt.
        attemptThen = (context, onAnswer, onFailure, start) => timed(context, attempt, onAnswer, onFailure, start);
      } else if (breaker) inner = compose([breaker], attempt);
      // The first attempt at each target runs straight through; the retry policy takes over after a failure.
      const retry = compiled.retry === false ? undefined : retryAfterFailure(compiled.retry);
      const executeRoute = routeExecutor(inner, retry, latency, attemptThen);

      const handler: Handler<ModelContext, ModelResult> = (context) => {
        const route = context.route as CompiledRoute | undefined;
        if (route) return executeRoute(context, route);
        context.attempt = 1;
        if (!context.span.isRecording()) return callPassthrough(context);
        return attemptSpan(context, () => callPassthrough(context));
      };
      // Built once: guardrails → cache → budgets → cost, then the user's middleware, then routing. Telemetry is
      // around it all (`observeCall`): its span covers everything.
      const middleware = [...governance, ...compiled.middleware];
      // The middleware that lead the chain and can run as steps do so inside the call's one promise step.
      const steps: ModelSteps[] = [];
      for (const each of middleware) {
        const own = stepsOf(each);
        if (own === undefined) break;
        steps.push(own);
      }
      const chain = compose(middleware.slice(steps.length), handler);

      // A scope's metadata is frozen: whether the last one is empty is known from then on, and a call under an empty
      // one starts from a new empty object instead of a copy.
      let lastMetadata: object | undefined;
      let lastMetadataEmpty = false;
      const metadataOf = (source: Readonly<Record<string, unknown>>): Record<string, unknown> => {
        if (source !== lastMetadata) {
          lastMetadata = source;
          lastMetadataEmpty = Object.isFrozen(source) && !hasKeys(source);
        }
        return lastMetadataEmpty ? {} : { ...source };
      };
      // The last model name's route, in front of the map: an app's calls name the same model one after another.
      let lastModel: string | undefined;
      let lastRoute: CompiledRoute | undefined;
      const run = <R>(
        client: object,
        kind: ProviderKind,
        api: ModelApi,
        body: Record<string, any>,
        requestOptions: Record<string, any> | undefined,
        answer: (result: ModelResult) => R,
        passthrough: Map<string, TargetInfo>,
      ): Promise<R> => {
        // The scope's fields straight into the call's context (no intermediate base context per call).
        const base = runtime.scope();
        // Read once per call: whether anything is registered with @opentelemetry/api.
        const otel = telemetry.otelActive();
        const model = typeof body?.model === 'string' ? body.model : '';
        let route: CompiledRoute | undefined;
        if (model === lastModel) route = lastRoute;
        else {
          route = compiled.routes.get(model);
          lastModel = model;
          lastRoute = route;
        }
        const callerSignal = requestOptions?.signal as AbortSignal | undefined;
        const signal =
          callerSignal && base.signal && callerSignal !== base.signal
            ? AbortSignal.any([base.signal, callerSignal])
            : (callerSignal ?? base.signal);
        // Every field written out: spreading `base` and then adding fields makes V8 build a new hidden class on
        // each call (about 10 µs), while a literal of a fixed shape costs next to nothing.
        const context: ModelContext = {
          principal: base.principal,
          sessionId: base.sessionId,
          // The call's own copy: middleware may add to it.
          metadata: metadataOf(base.metadata),
          signal,
          span: telemetry.currentSpan(otel),
          events: runtime.events,
          store: runtime.store,
          telemetry,
          request: { api, kind, body, stream: body?.stream === true, options: requestOptions },
          model,
          route,
          target: route ? undefined : passthroughTarget(passthrough, client, kind, model, providerNames),
          attemptSignal: undefined,
          attempt: 0,
          usage: undefined,
          // Born with every field a call may set (cost, the attempt deadline), so that setting one later does not
          // change the object's hidden class, which would make every later read of it slower.
          cost: undefined,
          [deadlineSlot]: undefined,
          startTime: monotonicNow(),
        } as ModelContext;
        return observeCall(context, steps, chain, answer, otel);
      };

      const wrap = createWrapper(run);
      return {
        api: {
          routes: [...compiled.routes.keys()],
          costs: (reportOptions) => costReport(runtime.store, reportOptions),
          health() {
            const view: Record<string, TargetHealth & { latencyMs: number | undefined }> = {};
            const states = breaker?.health() ?? {};
            const ids = new Set<string>(Object.keys(states));
            for (const route of compiled.routes.values()) for (const target of route.targets) ids.add(target.id);
            for (const id of ids)
              view[id] = {
                ...(states[id] ?? { state: 'closed', failures: 0, openUntil: 0 }),
                latencyMs: latency.average(id),
              };
            return view;
          },
        },
        wraps: (client: object) => providerKind(unwrapClient(client)) !== undefined,
        wrap,
        // Cost totals added up in the process are written before the store closes.
        close: () => flushCosts(runtime.store),
      };
    },
  };
}
