import {
  Attr,
  type Attributes,
  type EventBase,
  type EventName,
  errorType,
  Operation,
  type RedactValueOptions,
  redactValue,
  type Span,
  SpanKind,
  secretDetectors,
} from '@gatehouse/core';
import { monotonicNow } from '../context/clock.js';
import type { ModelApi, ModelContext, ModelResult, ResultSummary, Usage } from '../context/index.js';
import { mapStream } from '../context/index.js';
import { enterSteps, failSteps, leaveSteps, type ModelSteps, type StepsProgress } from '../context/steps.js';

/** One model call, as the `model-call` event tells it (the same facts as its span). */
export interface ModelCallEvent extends EventBase {
  api: ModelApi;
  /** The model the caller asked for (a route name or a provider's model). */
  model: string;
  /** The route, when `model` named one. */
  route: string | undefined;
  /** The target that answered or was tried last, e.g. `anthropic:claude-sonnet-4-5`. */
  target: string | undefined;
  /** `openai` or `anthropic`: the kind of provider that answered. */
  provider: string | undefined;
  responseModel: string | undefined;
  usage: Usage | undefined;
  /** What the call cost in US dollars, when the cost middleware priced it. */
  cost?: number | undefined;
  /** Upstream attempts, counting retries and fallbacks. */
  attempts: number;
  stream: boolean;
  /** From the call's start to its answer (for a stream, to its end). */
  latencyMs: number;
  outcome: 'success' | 'error';
  /** `error.type` of a failure: a Gatehouse code, an HTTP status or an error class. */
  errorType?: string | undefined;
  /** What the response cache did, when it covers the call: `hit` (no upstream call, zero usage), `miss`, `refresh`, `bypass`. */
  cache?: string | undefined;
}

declare module '@gatehouse/core' {
  interface GatehouseEventMap {
    'model-call': ModelCallEvent;
  }
}

/**
 * The event name, typed loosely: core's `EventName` does not yet pick up layers' `GatehouseEventMap`
 * augmentations through the package's re-export (reported to core); the payload is checked with `satisfies`.
 */
const modelCall = 'model-call' as EventName;

const operationOf: Record<ModelApi, string> = {
  chat: Operation.chat,
  messages: Operation.chat,
  responses: Operation.chat,
  embeddings: Operation.embeddings,
  'count-tokens': 'count_tokens',
};

/**
 * What every call runs in, outside its middleware: a `chat {model}` CLIENT span (`embeddings {model}` for embeddings) with
 * the GenAI semantic-convention attributes, the `gen_ai.client.operation.duration` and
 * `gen_ai.client.token.usage` metrics, and a `model-call` event. For a stream, all three close when the
 * stream ends. Attributes are built only when the span records; the event only when someone listens.
 *
 * With `createGateway({ telemetry: { recordContent: true } })` and a recording span, a chat call's span also
 * carries `gen_ai.input.messages` (chat `messages`, responses `input`, Anthropic `messages`),
 * `gen_ai.system_instructions` (Anthropic `system`, responses `instructions`) and `gen_ai.output.messages` (the
 * answer's message(s); for a stream, the text it carried, written when it ends or stops), as JSON with every
 * secret redacted.
 *
 * `steps` (the governance middleware that lead the chain, as steps) and `chain` run the call; `answer` turns its
 * result into what the caller gets, in the same step that closes the call's telemetry (one promise around the
 * whole call, not one per stage).
 */
export function observeCall<R>(
  context: ModelContext,
  steps: readonly ModelSteps[],
  chain: (context: ModelContext) => Promise<ModelResult>,
  answer: (result: ModelResult) => R,
  /** `telemetry.otelActive()`, read once for the call by the caller. */
  otel: boolean,
): Promise<R> {
  const { telemetry } = context;
  // With no tracer provider every span is a non-recording one: the one in force (which the context holds) serves
  // as this call's, instead of a new one per call.
  let span = context.span;
  // The call's own span, when one is started: the only one its end ends (the one in force is someone else's).
  let own: Span | undefined;
  if (span.isRecording() || telemetry.tracing(otel)) {
    own = span = telemetry.startSpan(`${operationOf[context.request.api]} ${context.model}`, SpanKind.CLIENT);
    context.span = span;
  }
  const recording = span.isRecording();
  const progress: StepsProgress | undefined =
    steps.length === 0 ? undefined : { entered: 0, states: new Array(steps.length) };
  let started: Promise<ModelResult>;
  try {
    if (recording) {
      startRecording(context, span);
      started = telemetry.withSpan(span, () =>
        progress === undefined ? chain(context) : enterSteps(context, steps, progress, chain),
      );
    } else started = progress === undefined ? chain(context) : enterSteps(context, steps, progress, chain);
  } catch (error) {
    started = Promise.reject(error);
  }
  // One `then` for the whole call: the leading steps' after-steps, the span, metrics and event, and the caller's
  // answer all happen here.
  return started.then(
    (result) => {
      if (progress !== undefined) {
        try {
          result = leaveSteps(context, steps, progress, result);
        } catch (error) {
          finish(context, own, recording, undefined, error, false, otel);
          throw error;
        }
      }
      return answer(recording ? recordedResult(context, span, result) : plainResult(context, own, result, otel));
    },
    (error: unknown) => {
      if (progress !== undefined) failSteps(context, steps, progress, error);
      finish(context, own, recording, undefined, error, false, otel);
      throw error;
    },
  );
}

/** The call's result, its span (if it started one) closed (for a stream: when it ends), when it does not record. */
function plainResult(context: ModelContext, span: Span | undefined, result: ModelResult, otel: boolean): ModelResult {
  if (result.type === 'response') {
    finish(context, span, false, result.summary, undefined, false, otel);
    return result;
  }
  const summary = result.summary;
  return mapStream(result, {
    end: () => finish(context, span, false, summary, undefined),
    stop: (error) => finish(context, span, false, summary, error, error === undefined),
  });
}

/** The request's attributes (and content, when asked for) on a recording call span. */
function startRecording(context: ModelContext, span: Span): void {
  const body = context.request.body;
  span.setAttributes({
    [Attr.operationName]: operationOf[context.request.api],
    [Attr.providerName]: context.request.kind,
    [Attr.requestModel]: context.model,
    [Attr.requestStream]: context.request.stream,
  });
  if (typeof body.max_tokens === 'number') span.setAttribute(Attr.requestMaxTokens, body.max_tokens);
  if (typeof body.temperature === 'number') span.setAttribute(Attr.requestTemperature, body.temperature);
  if (typeof body.top_p === 'number') span.setAttribute(Attr.requestTopP, body.top_p);
  if (context.route) span.setAttribute(Attr.route, context.route.name);
  if (context.principal.team) span.setAttribute(Attr.team, context.principal.team);
  if (context.principal.user) span.setAttribute(Attr.user, context.principal.user);
  if (recordsContent(context)) recordInput(span, context.request.api, body);
}

/** Content only on request, and only for a span that keeps it: otherwise nothing is computed. */
function recordsContent(context: ModelContext): boolean {
  return context.telemetry.recordContent && contentApis.has(context.request.api);
}

/** The call's result with its recording span closed (for a stream: when it ends), content written if asked. */
function recordedResult(context: ModelContext, span: Span, result: ModelResult): ModelResult {
  const content = recordsContent(context);
  if (result.type === 'response') {
    if (content) setContent(span, Attr.outputMessages, outputOf(context.request.api, result.data));
    finish(context, span, true, result.summary, undefined);
    return result;
  }
  const summary = result.summary;
  if (!content)
    return mapStream(result, {
      end: () => finish(context, span, true, summary, undefined),
      stop: (error) => finish(context, span, true, summary, error, error === undefined),
    });
  // The same pass over the chunks that closes the span also collects the streamed text.
  const api = context.request.api;
  const texts: string[] = [];
  const writeOutput = () =>
    setContent(
      span,
      Attr.outputMessages,
      texts.map((text) => ({ role: 'assistant', content: text })),
    );
  return mapStream(result, {
    chunk: (chunk) => {
      collectText(api, chunk, texts);
      return chunk;
    },
    end: () => {
      writeOutput();
      finish(context, span, true, summary, undefined);
    },
    stop: (error) => {
      writeOutput();
      finish(context, span, true, summary, error, error === undefined);
    },
  });
}

/** The generating APIs whose requests and answers are messages (embeddings and token counts are not). */
const contentApis: ReadonlySet<ModelApi> = new Set<ModelApi>(['chat', 'messages', 'responses']);

/**
 * Secrets only: the user asked for content, so personal data stays, but a credential in a prompt or an answer
 * never reaches a span. Each string is redacted before serialising: a key inside JSON text would be cut at its
 * first escape (`\n` in a PEM block) and partly survive.
 */
const contentRedaction: RedactValueOptions = { detectors: secretDetectors };

function setContent(span: Span, attribute: string, value: unknown): void {
  if (value === undefined) return;
  span.setAttribute(attribute, JSON.stringify(redactValue(value, contentRedaction)));
}

function recordInput(span: Span, api: ModelApi, body: Record<string, any>): void {
  if (api === 'responses') {
    setContent(span, Attr.inputMessages, body.input);
    setContent(span, Attr.systemInstructions, body.instructions ?? undefined);
    return;
  }
  setContent(span, Attr.inputMessages, body.messages);
  if (api === 'messages') setContent(span, Attr.systemInstructions, body.system ?? undefined);
}

/** The answer's message(s) in the caller's shape: chat choices' messages, an Anthropic message, responses output. */
function outputOf(api: ModelApi, data: any): unknown {
  if (!data || typeof data !== 'object') return undefined;
  if (api === 'chat')
    return Array.isArray(data.choices) ? data.choices.map((choice: any) => choice?.message) : undefined;
  if (api === 'messages') return [{ role: data.role ?? 'assistant', content: data.content }];
  return data.output;
}

/** Adds a streamed chunk's text to `texts` (one entry per chat choice). */
function collectText(api: ModelApi, chunk: any, texts: string[]): void {
  if (!chunk || typeof chunk !== 'object') return;
  if (api === 'chat') {
    const choices = chunk.choices;
    if (!Array.isArray(choices)) return;
    for (const choice of choices) {
      const text = choice?.delta?.content;
      if (typeof text !== 'string') continue;
      const index = typeof choice.index === 'number' ? choice.index : 0;
      while (texts.length <= index) texts.push('');
      texts[index] += text;
    }
    return;
  }
  let text: unknown;
  if (api === 'messages') text = chunk.type === 'content_block_delta' ? chunk.delta?.text : undefined;
  else text = chunk.type === 'response.output_text.delta' ? chunk.delta : undefined;
  if (typeof text !== 'string') return;
  if (texts.length === 0) texts.push(text);
  else texts[0] += text;
}

function finish(
  context: ModelContext,
  /** The call's own span (ended here); undefined when it started none. */
  span: Span | undefined,
  recording: boolean,
  summary: ResultSummary | undefined,
  error: unknown,
  cancelled = false,
  /** `telemetry.otelActive()` when the caller read it just now; read here otherwise (a stream's end). */
  otel?: boolean,
): void {
  const { telemetry, target } = context;
  const usage = summary?.usage;
  if (usage) context.usage = usage;
  const listened = context.events.has(modelCall);
  const metrics = telemetry.metrics(otel ?? telemetry.otelActive());
  const seconds = listened || metrics ? (monotonicNow() - context.startTime) / 1000 : 0;
  // No meter provider: the instruments are no-ops, so their attributes are not even built.
  if (metrics) {
    const metricAttributes: Attributes = {
      [Attr.operationName]: operationOf[context.request.api],
      [Attr.providerName]: target?.kind ?? context.request.kind,
      [Attr.requestModel]: context.model,
    };
    if (summary?.responseModel) metricAttributes[Attr.responseModel] = summary.responseModel;
    if (error !== undefined) metricAttributes[Attr.errorType] = errorType(error);
    telemetry.recordDuration(seconds, metricAttributes);
    if (usage) telemetry.recordTokens(usage.inputTokens, usage.outputTokens, metricAttributes);
  }
  if (recording && span) {
    if (target) {
      span.setAttribute(Attr.providerName, target.kind);
      span.setAttribute(Attr.target, target.id);
    }
    span.setAttribute(Attr.attempt, context.attempt);
    setSummaryAttributes(span, summary);
    if (cancelled) span.setAttribute('gatehouse.stream.cancelled', true);
  }
  if (span !== undefined) telemetry.endSpan(span, error);
  if (listened) {
    context.events.emit(modelCall, {
      time: Date.now(),
      principal: context.principal,
      sessionId: context.sessionId,
      traceId: recording ? span?.spanContext().traceId : undefined,
      api: context.request.api,
      model: context.model,
      route: context.route?.name,
      target: target?.id,
      provider: target?.kind,
      responseModel: summary?.responseModel,
      usage,
      cost: context.cost?.usd,
      attempts: context.attempt,
      stream: context.request.stream,
      latencyMs: seconds * 1000,
      outcome: error === undefined ? 'success' : 'error',
      errorType: error === undefined ? undefined : errorType(error),
      cache: context.metadata['gatehouse.cache'] as string | undefined,
    } satisfies ModelCallEvent as never);
  }
}

/** Writes response model, id, finish reasons and token counts on a recording span. */
export function setSummaryAttributes(span: Span, summary: ResultSummary | undefined): void {
  if (!summary) return;
  if (summary.responseModel) span.setAttribute(Attr.responseModel, summary.responseModel);
  if (summary.responseId) span.setAttribute(Attr.responseId, summary.responseId);
  if (summary.finishReasons) span.setAttribute(Attr.responseFinishReasons, summary.finishReasons);
  const usage = summary.usage;
  if (usage?.inputTokens !== undefined) span.setAttribute(Attr.usageInputTokens, usage.inputTokens);
  if (usage?.outputTokens !== undefined) span.setAttribute(Attr.usageOutputTokens, usage.outputTokens);
  if (usage?.cacheReadInputTokens !== undefined)
    span.setAttribute(Attr.usageCacheReadInputTokens, usage.cacheReadInputTokens);
  if (usage?.cacheCreationInputTokens !== undefined)
    span.setAttribute(Attr.usageCacheCreationInputTokens, usage.cacheCreationInputTokens);
}

/**
 * Runs one upstream attempt inside its own span (a child of the call's): `gatehouse.target`,
 * `gatehouse.attempt`, the target's provider and model. No span work at all when the call's span does not
 * record.
 */
export function attemptSpan(context: ModelContext, run: () => Promise<ModelResult>): Promise<ModelResult> {
  // Not async: a non-recording call gets the attempt's own promise back, without another promise around it.
  if (!context.span.isRecording()) return run();
  return recordedAttempt(context, run);
}

async function recordedAttempt(context: ModelContext, run: () => Promise<ModelResult>): Promise<ModelResult> {
  const { telemetry } = context;
  const target = context.target!;
  const operation = operationOf[context.request.api];
  const span = telemetry.startSpan(`${operation} ${target.model}`, SpanKind.CLIENT, {
    [Attr.operationName]: operation,
    [Attr.providerName]: target.kind,
    [Attr.requestModel]: target.model,
    [Attr.target]: target.id,
    [Attr.attempt]: context.attempt,
    ...(context.route ? { [Attr.route]: context.route.name } : {}),
  });
  try {
    const result = await run();
    // A stream's attempt span covers the wait for its first content; the call span covers the rest.
    setSummaryAttributes(span, result.summary);
    telemetry.endSpan(span);
    return result;
  } catch (error) {
    telemetry.endSpan(span, error);
    throw error;
  }
}
