import {
  type Attributes,
  type Context,
  context,
  createNoopMeter,
  type Histogram,
  INVALID_SPAN_CONTEXT,
  type Meter,
  metrics,
  ProxyTracerProvider,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { GatehouseError } from '../errors/index.js';

/**
 * The OpenTelemetry GenAI and MCP semantic-convention names Gatehouse writes, in one place.
 * Gatehouse's own attributes live under `gatehouse.*`.
 */
export const Attr = {
  operationName: 'gen_ai.operation.name',
  providerName: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  requestMaxTokens: 'gen_ai.request.max_tokens',
  requestTemperature: 'gen_ai.request.temperature',
  requestTopP: 'gen_ai.request.top_p',
  requestStream: 'gen_ai.request.stream',
  responseModel: 'gen_ai.response.model',
  responseId: 'gen_ai.response.id',
  responseFinishReasons: 'gen_ai.response.finish_reasons',
  usageInputTokens: 'gen_ai.usage.input_tokens',
  usageOutputTokens: 'gen_ai.usage.output_tokens',
  usageCacheReadInputTokens: 'gen_ai.usage.cache_read.input_tokens',
  usageCacheCreationInputTokens: 'gen_ai.usage.cache_creation.input_tokens',
  tokenType: 'gen_ai.token.type',
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
  systemInstructions: 'gen_ai.system_instructions',
  toolName: 'gen_ai.tool.name',
  toolCallId: 'gen_ai.tool.call.id',
  toolType: 'gen_ai.tool.type',
  toolCallArguments: 'gen_ai.tool.call.arguments',
  toolCallResult: 'gen_ai.tool.call.result',
  agentName: 'gen_ai.agent.name',
  agentId: 'gen_ai.agent.id',
  conversationId: 'gen_ai.conversation.id',
  mcpMethodName: 'mcp.method.name',
  mcpSessionId: 'mcp.session.id',
  errorType: 'error.type',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  route: 'gatehouse.route',
  target: 'gatehouse.target',
  attempt: 'gatehouse.attempt',
  costUsd: 'gatehouse.cost.usd',
  cacheHit: 'gatehouse.cache.hit',
  team: 'gatehouse.principal.team',
  user: 'gatehouse.principal.user',
  principalAgent: 'gatehouse.principal.agent',
  server: 'gatehouse.tool.server',
  decision: 'gatehouse.policy.decision',
} as const;

/** Values of `gen_ai.operation.name` and the span names built from them. */
export const Operation = {
  chat: 'chat',
  embeddings: 'embeddings',
  textCompletion: 'text_completion',
  generateContent: 'generate_content',
  executeTool: 'execute_tool',
  invokeAgent: 'invoke_agent',
  createAgent: 'create_agent',
} as const;

export const Metric = {
  tokenUsage: 'gen_ai.client.token.usage',
  operationDuration: 'gen_ai.client.operation.duration',
} as const;

export interface TelemetryOptions {
  /** A tracer to use instead of the global one (`trace.getTracer('@gatehouse/core')`). */
  tracer?: Tracer;
  /** A meter to use instead of the global one. */
  meter?: Meter;
  /** Record prompts, completions, tool arguments and results on spans. Off by default. */
  recordContent?: boolean;
}

const name = '@gatehouse/core';

/**
 * Spans and metrics through `@opentelemetry/api` only. Without an SDK registered by the app every call
 * here is a no-op on the API's non-recording span, and `isRecording()` lets callers skip building
 * attributes.
 */
export class Telemetry {
  readonly recordContent: boolean;
  readonly #tracer: Tracer | undefined;
  #globalProvider: TracerProvider | undefined;
  #globalTracer: Tracer | undefined;
  readonly #meter: Meter | undefined;
  #meterSource: object | undefined;
  #histograms: { duration: Histogram; tokenUsage: Histogram } | undefined;
  #metricsOn = false;

  constructor(options: TelemetryOptions = {}) {
    this.#tracer = options.tracer;
    this.#meter = options.meter;
    this.recordContent = options.recordContent ?? false;
  }

  /**
   * The global tracer is kept per global provider: `trace.getTracer()` allocates a proxy tracer on each call when
   * no SDK is registered, and that proxy already follows an SDK registered later. A new global provider (after
   * `trace.disable()`) gets a new tracer.
   */
  get tracer(): Tracer {
    if (this.#tracer) return this.#tracer;
    const provider = trace.getTracerProvider();
    if (provider !== this.#globalProvider) {
      this.#globalProvider = provider;
      this.#globalTracer = provider.getTracer(name);
    }
    return this.#globalTracer!;
  }

  /**
   * Whether spans go anywhere: false while no tracer provider is registered (and no `tracer` was given), when
   * every span started would be a non-recording one. Follows a provider registered later.
   */
  get tracingOn(): boolean {
    return this.tracing(this.otelActive());
  }

  /**
   * Whether anything is registered with `@opentelemetry/api` (a provider, a context manager, …): one property
   * read. A hot path reads it once and hands it to `tracing()`, `metrics()` and `currentSpan()`, each of which
   * would otherwise read it again (several microseconds a call in all, on a busy process).
   */
  otelActive(): boolean {
    return (globalThis as Record<symbol, unknown>)[otelGlobalKey] !== undefined;
  }

  /** `tracingOn`, with `otelActive()` already read. */
  tracing(otelActive: boolean): boolean {
    if (this.#tracer) return true;
    if (!otelActive) return false;
    const provider = trace.getTracerProvider();
    return !(provider instanceof ProxyTracerProvider) || provider.getDelegateTracer(name) !== undefined;
  }

  /** The span in force here (a non-recording span outside any). */
  activeSpan(): Span | undefined {
    return trace.getActiveSpan();
  }

  /** The span in force here, or a shared non-recording span outside any: a parent for the spans of a call. */
  currentSpan(otelActive = this.otelActive()): Span {
    if (!otelActive) return nonRecordingSpan;
    return trace.getActiveSpan() ?? nonRecordingSpan;
  }

  /** Starts a span as a child of the active one (or of `parent`). End it with `endSpan`. */
  startSpan(spanName: string, kind: SpanKind, attributes?: Attributes, parent?: Context): Span {
    return this.tracer.startSpan(spanName, { kind, attributes }, parent ?? context.active());
  }

  /** Runs `fn` with `span` as the active span, so spans started inside become its children. */
  withSpan<T>(span: Span, fn: () => T): T {
    return context.with(trace.setSpan(context.active(), span), fn);
  }

  /** Ends a span, marking it as failed with `error.type` when `error` is given. */
  endSpan(span: Span, error?: unknown): void {
    if (error !== undefined && span.isRecording()) {
      span.setAttribute(Attr.errorType, errorType(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
    }
    span.end();
  }

  /**
   * Whether metrics go anywhere: false while no meter provider is registered (and no `meter` was given), when
   * every instrument is the API's no-op one. Callers skip building metric attributes then. Follows a provider
   * registered later, like the tracer.
   */
  get metricsOn(): boolean {
    return this.metrics(this.otelActive());
  }

  /** `metricsOn`, with `otelActive()` already read. */
  metrics(otelActive: boolean): boolean {
    if (this.#meter === undefined && !otelActive) return false;
    this.#instruments();
    return this.#metricsOn;
  }

  /** Records `gen_ai.client.token.usage` for input and output tokens. */
  recordTokens(input: number | undefined, output: number | undefined, attributes: Attributes): void {
    const histogram = this.#instruments().tokenUsage;
    // The token type is written before the spread: V8 copies `{ ...attributes }` fast but adding a key after a
    // spread builds a new hidden class on every call (over 1 µs each). Callers never pass `gen_ai.token.type`.
    if (input !== undefined) histogram.record(input, { [Attr.tokenType]: 'input', ...attributes });
    if (output !== undefined) histogram.record(output, { [Attr.tokenType]: 'output', ...attributes });
  }

  /** Records `gen_ai.client.operation.duration` in seconds. */
  recordDuration(seconds: number, attributes: Attributes): void {
    this.#instruments().duration.record(seconds, attributes);
  }

  /** The GenAI histograms of the meter in force: made once per meter provider (the global one may change). */
  #instruments(): { duration: Histogram; tokenUsage: Histogram } {
    const provider = this.#meter ?? metrics.getMeterProvider();
    if (provider !== this.#meterSource || this.#histograms === undefined) {
      const meter = this.#meter ?? metrics.getMeter(name);
      this.#meterSource = provider;
      this.#histograms = {
        duration: meter.createHistogram(Metric.operationDuration, {
          unit: 's',
          description: 'GenAI operation duration',
        }),
        tokenUsage: meter.createHistogram(Metric.tokenUsage, {
          unit: '{token}',
          description: 'Number of input and output tokens used',
        }),
      };
      this.#metricsOn = this.#histograms.duration !== noopHistogram;
    }
    return this.#histograms;
  }
}

/**
 * Where `@opentelemetry/api` (major version 1, the range this package supports) keeps what an app registers:
 * while it is unset, no span records, no meter measures and no span is active.
 */
const otelGlobalKey = Symbol.for('opentelemetry.js.api.1');

/** The span of code that runs outside any span: records nothing, parents nothing. */
const nonRecordingSpan = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** What every no-op meter answers for a histogram: one shared instance. */
const noopHistogram = createNoopMeter().createHistogram('noop');

/** The `error.type` value for an error: a Gatehouse code, an HTTP status, or the class name. */
export function errorType(error: unknown): string {
  if (GatehouseError.isInstance(error)) return error.code;
  if (typeof error === 'object' && error !== null) {
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number') return String(status);
    const named = (error as { name?: unknown }).name;
    if (typeof named === 'string' && named !== 'Error') return named;
  }
  return '_OTHER';
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export type { Attributes, Span };
export { SpanKind, SpanStatusCode };
