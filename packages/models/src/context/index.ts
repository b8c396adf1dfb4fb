import type { BaseContext, Middleware } from '@gatehouse/core';
import type { Cost } from '../cost/index.js';

/** The two client kinds the models layer wraps. OpenAI-compatible servers (vLLM, Ollama) are `openai`. */
export type ProviderKind = 'openai' | 'anthropic';

/**
 * Which generating method was called: OpenAI `chat.completions.create` (`chat`), `responses.create`,
 * `embeddings.create`; Anthropic `messages.create` (`messages`) and `messages.countTokens` (`count-tokens`).
 */
export type ModelApi = 'chat' | 'responses' | 'embeddings' | 'messages' | 'count-tokens';

/** The call as the application made it, normalised. Middleware may replace `body` or `options`. */
export interface ModelRequest {
  readonly api: ModelApi;
  /** The kind of the client the call was made on: the shape of `body` and of the result. */
  readonly kind: ProviderKind;
  /** The request parameters as passed to the SDK method (`model`, `messages`, …). */
  body: Record<string, any>;
  /** Whether the caller asked for a stream (`stream: true`, or one of the SDK stream helpers). */
  readonly stream: boolean;
  /** The per-request options passed to the SDK method (headers, signal, timeout, …). */
  options: Record<string, any> | undefined;
}

/**
 * Token counts, normalised across providers per the GenAI conventions: `inputTokens` includes the cache reads
 * and writes (Anthropic reports them apart; they are added in), `outputTokens` includes reasoning.
 */
export interface Usage {
  inputTokens?: number | undefined;
  outputTokens?: number | undefined;
  cacheReadInputTokens?: number | undefined;
  cacheCreationInputTokens?: number | undefined;
  /** The part of `outputTokens` spent on reasoning (OpenAI `reasoning_tokens`), for reporting. */
  reasoningTokens?: number | undefined;
}

/** One concrete place a call can go: a provider client and a model. */
export interface TargetInfo {
  /** `provider:model`, e.g. `anthropic:claude-sonnet-4-5`; the key for health, latency and spans. */
  readonly id: string;
  /** The provider's name in `models({ providers })`, or the client's kind for a call that is not a route. */
  readonly provider: string;
  readonly kind: ProviderKind;
  readonly model: string;
  /** Parameters that override the caller's for this target (`temperature`, `max_tokens`, …). */
  readonly parameters: Readonly<Record<string, unknown>> | undefined;
  /** Overrides the layer's timeout for this target, in milliseconds. */
  readonly timeoutMs: number | undefined;
  /** The raw SDK client the call is sent with. */
  readonly client: object;
}

/** What a route resolved to, as middleware sees it. */
export interface RouteInfo {
  readonly name: string;
  readonly strategy: 'fallback' | 'weighted' | 'least-latency' | 'conditional';
}

/**
 * Facts about an answer, read from the response or, for a stream, filled in as its chunks pass (complete once
 * the stream has ended). Shared by reference between a result and the results derived from it.
 */
export interface ResultSummary {
  usage: Usage | undefined;
  responseModel: string | undefined;
  responseId: string | undefined;
  finishReasons: string[] | undefined;
  /** For a stream: whether it reached its end marker (`finish_reason`, `message_stop`, `response.completed`). */
  completed: boolean;
}

interface ResultBase {
  /** The target that answered. */
  readonly target: TargetInfo;
  /** The upstream HTTP response (its body already read), when there was one. */
  readonly response: Response | undefined;
  readonly summary: ResultSummary;
}

/** A complete answer, in the shape of the caller's client (`ChatCompletion`, `Message`, …). */
export interface ModelResponseResult extends ResultBase {
  readonly type: 'response';
  readonly data: any;
}

/**
 * A streamed answer, in the shape of the caller's client (`ChatCompletionChunk`, `RawMessageStreamEvent`, …).
 * A middleware may replace `chunks` with a wrapped iterable (see `mapStream`) to observe, rewrite or cut it;
 * `controller` aborts the upstream request.
 */
export interface ModelStreamResult extends ResultBase {
  readonly type: 'stream';
  readonly chunks: AsyncIterable<any>;
  readonly controller: AbortController;
}

export type ModelResult = ModelResponseResult | ModelStreamResult;

/**
 * What a models-layer middleware receives: the scope's principal, session, metadata and signal (from core's
 * `BaseContext`), the normalised request, and the route, target and attempt as the call proceeds.
 */
export interface ModelContext extends BaseContext {
  request: ModelRequest;
  /** The model name the caller asked for: a route name or a provider's model. */
  readonly model: string;
  /** The route `model` named, or undefined when the call goes to the client it was made on, unchanged. */
  readonly route: RouteInfo | undefined;
  /** The target being tried (set by the route executor before each attempt) or that answered. */
  target: TargetInfo | undefined;
  /**
   * A signal for the current upstream attempt, set by a middleware that wants the attempt aborted with it; the
   * upstream call uses it when present, else `signal`. The layer's own timeout middleware leaves it unset: it
   * bounds each attempt through the SDK's per-request timeout and the request's own controller (an
   * `AbortSignal` per attempt would cost several microseconds).
   */
  attemptSignal: AbortSignal | undefined;
  /** 1 for the first upstream attempt, counting retries and fallbacks. */
  attempt: number;
  /** Set once known (for a stream, when it ends). */
  usage: Usage | undefined;
  /** What the call cost, set by the cost middleware once usage is known (for a stream, when it ends). */
  cost?: Cost | undefined;
  /** `performance.now()` when the call started. */
  readonly startTime: number;
}

/**
 * A models-layer middleware: `(ctx, next) => Promise<ModelResult>`.
 *
 * @example
 * const tagMiddleware: ModelMiddleware = async (ctx, next) => {
 *   ctx.request.body = { ...ctx.request.body, user: ctx.principal.user };
 *   return next();
 * };
 */
export type ModelMiddleware = Middleware<ModelContext, ModelResult>;

/** Hooks for `mapStream`. */
export interface StreamHooks {
  /** Sees each chunk; returns the chunk to pass on (possibly rewritten), or throws to cut the stream there. */
  chunk?(chunk: any): any;
  /** Runs once when the stream ended normally. */
  end?(): void;
  /** Runs once when the stream failed or the caller stopped reading early (`error` undefined then). */
  stop?(error: unknown): void;
}

/**
 * Wraps the chunks of a stream result so a middleware can observe, rewrite or cut them; a non-stream result
 * is returned as it is. Stopping early (`break` in the caller's loop) is passed on to the upstream.
 *
 * @example
 * const result = await next();
 * return mapStream(result, { chunk: (chunk) => (containsSecret(chunk) ? cut() : chunk) });
 */
export function mapStream(result: ModelResult, hooks: StreamHooks): ModelResult {
  if (result.type !== 'stream') return result;
  const source = result.chunks;
  const chunks: AsyncIterable<any> = {
    [Symbol.asyncIterator]: () => mapIterator(source[Symbol.asyncIterator](), hooks),
  };
  return { ...result, chunks };
}

async function* mapIterator(iterator: AsyncIterator<any>, hooks: StreamHooks): AsyncGenerator<any> {
  const source = relaying(iterator);
  let reported = false;
  try {
    while (true) {
      const step = await pull(source);
      if (step.done) break;
      yield hooks.chunk ? hooks.chunk(step.value) : step.value;
    }
    reported = true;
    hooks.end?.();
  } catch (error) {
    if (!reported) {
      reported = true;
      hooks.stop?.(error);
    }
    throw error;
  } finally {
    if (!reported) hooks.stop?.(undefined);
    await stopUnlessOver(source);
  }
}

/** A stream being passed on by a generator: its iterator, and whether it is over (it ended or threw). */
export interface Relayed<T> {
  readonly iterator: AsyncIterator<T>;
  over: boolean;
}

/** Starts passing `iterator` on (see `pull` and `stopUnlessOver`). */
export function relaying<T>(iterator: AsyncIterator<T>): Relayed<T> {
  return { iterator, over: false };
}

/** The next step of a relayed stream; it is over once it ends or throws. */
export function pull<T>(source: Relayed<T>): Promise<IteratorResult<T>> {
  return source.iterator.next().then(
    (step) => {
      if (step.done) source.over = true;
      return step;
    },
    (error: unknown) => {
      source.over = true;
      throw error;
    },
  );
}

/**
 * For a relaying generator's `finally`: a stream that is not over is told to stop (aborting its upstream), since
 * the caller stopped reading early or a step after it threw.
 */
export async function stopUnlessOver(source: Relayed<unknown>): Promise<void> {
  if (!source.over) await source.iterator.return?.();
}
