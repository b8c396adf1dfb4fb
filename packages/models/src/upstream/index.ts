import { TranslationError, UpstreamError } from '@gatehouse/core';
import type { ModelApi, ModelContext, ModelResult, ResultSummary, TargetInfo } from '../context/index.js';
import { deadlineOf } from '../resilience/deadline.js';
import { isAbort, upstreamError } from '../resilience/errors.js';
import { emptySummary, isContentChunk, observeChunk, summarize } from '../usage/index.js';
import { crossProvider } from './cross-provider.js';
import { timedCopy } from './timed-client.js';

/** What an SDK generating method returns: an `APIPromise`. */
export interface SentRequest extends PromiseLike<any> {
  asResponse(): Promise<Response>;
  /** The Stainless `APIPromise`'s own parts: the response once its headers are in, and how it is parsed. */
  readonly responsePromise?: Promise<{ response: Response }>;
  readonly parseResponse?: (client: object, props: { response: Response }) => unknown;
  /** The parsed answer, memoised by the `APIPromise` (what its `then()` reads). */
  parse?(): Promise<unknown>;
}

const identity = (value: unknown) => value;

/**
 * The upstream `Response` and the parsed answer of an SDK request, as `withResponse()` gives them but read
 * through the `APIPromise`'s own parts (the response props, then the SDK's parser on them) instead of through
 * `asResponse()`, `then()` and `Promise.all`, which cost a promise and a turn each on every call. `client` is
 * the client the request was sent with.
 */
export function answerOf(sent: SentRequest, client: object): Promise<{ data: any; response: Response }> {
  return readAnswer(sent, client, (data, response) => ({ data, response }), undefined);
}

/**
 * Reads an SDK request's answer as `answerOf` does, and hands it to `use` (or a failure to `fail`) in the same
 * step: no async function and no intermediate object on every call (each promise costs, and more so under
 * `AsyncLocalStorage`'s promise hooks, which `gateway.run()` turns on).
 */
export function readAnswer<T>(
  sent: SentRequest,
  client: object,
  use: (data: any, response: Response) => T | Promise<T>,
  fail: ((error: unknown) => never) | undefined,
): Promise<T> {
  const { responsePromise, parseResponse } = sent;
  if (responsePromise === undefined || parseResponse === undefined) {
    // Not a Stainless `APIPromise` (a client subclass answering otherwise): the public methods.
    let response: Response;
    return sent
      .asResponse()
      .then((value) => {
        response = value;
        return sent.then(identity);
      })
      .then((data) => use(data, response), fail);
  }
  let response: Response;
  if (typeof sent.parse === 'function') {
    // The request's own `parse()`: its answer is parsed once, however many read it (a spy or a tracing library
    // that awaits the request too would otherwise find the body read). The response is kept as it comes, before
    // the parsed answer can (a reaction registered first runs first; the answer takes more steps after it).
    responsePromise.then((props) => {
      response = props.response;
    }, ignore);
    return sent.parse().then((data) => use(data, response), fail);
  }
  return responsePromise
    .then((props) => {
      response = props.response;
      return parseResponse(client, props);
    })
    .then((data) => use(data, response), fail);
}

const ignore = () => {};

/** Calls the SDK method of a raw client that serves `api` (a switch, not a closure made per call). */
export function send(client: any, api: ModelApi, body: unknown, options: unknown): SentRequest {
  switch (api) {
    case 'chat':
      return client.chat.completions.create(body, options);
    case 'responses':
      return client.responses.create(body, options);
    case 'embeddings':
      return client.embeddings.create(body, options);
    case 'messages':
      return client.messages.create(body, options);
    case 'count-tokens':
      return client.messages.countTokens(body, options);
  }
}

/** Options the SDKs keep for themselves (`__span`, `__binaryResponse`, …): meaningless on another client. */
function ownOptions(options: Record<string, any> | undefined): Record<string, any> {
  const own: Record<string, any> = {};
  if (options) for (const key in options) if (!key.startsWith('__')) own[key] = options[key];
  return own;
}

function isEmpty(object: Record<string, unknown>): boolean {
  for (const _ in object) return false;
  return true;
}

/** How long past an attempt's deadline the SDK's own timer aborts the request (after the `TimeoutError`). */
const sdkTimeoutGraceMs = 5;

export interface UpstreamSettings {
  /** The gateway retries a route's targets itself, so the SDK client must not (`maxRetries: 0`). */
  readonly gatewayRetries: boolean;
}

/**
 * Sends the context's request to `ctx.target` (a route's target): the body with the target's model and
 * parameter overrides, translated when the target is the other kind of provider. SDK failures become
 * `UpstreamError`s naming the target; a stream is held back until its first content (so that a failure before
 * it can still fail over) and fails with an `UpstreamError` if it ends before its end marker.
 */
export function callTarget(ctx: ModelContext, settings: UpstreamSettings): Promise<ModelResult> {
  const target = ctx.target!;
  const { request } = ctx;
  // SDK failures name the target; the caller's own abort stays what it is.
  const fail = (error: unknown): never => {
    throw isAbort(error) && ctx.signal?.aborted ? error : upstreamError(error, target.id);
  };
  try {
    const options = ownOptions(request.options);
    const client = target.client as { maxRetries?: unknown; timeout?: unknown };
    // The client the request goes out with: the target's, or a copy of it timed by the attempt's duration.
    let sender: object = client;
    let signal = ctx.attemptSignal ?? ctx.signal;
    const deadline = deadlineOf(ctx);
    if (deadline) {
      // Whether the SDK may retry: not under the gateway's retries; else the request's or the client's setting.
      const sdkRetries = settings.gatewayRetries ? 0 : (options.maxRetries ?? client.maxRetries);
      if (sdkRetries !== 0 || (target.kind === 'anthropic' && !request.stream)) {
        // The SDK may retry under its own timeout, or (Anthropic, not streaming) derives its timeout from
        // `max_tokens` and refuses long calls: a signal the deadline aborts leaves both as they are.
        signal = signal ? AbortSignal.any([signal, deadline.signal()]) : deadline.signal();
      } else {
        // The SDK's own timer aborts the request a little after the deadline, so the timeout middleware's
        // `TimeoutError` always comes first; a shorter timeout of the caller's or of the client's stays.
        const ms = deadline.remainingMs() + sdkTimeoutGraceMs;
        if (!((options.timeout ?? client.timeout) <= ms)) {
          // A whole attempt of an OpenAI target goes out through a copy of the client whose own timeout is `ms`:
          // a per-request `timeout` costs an `X-Stainless-Timeout` header (see `timedCopy`).
          const copy =
            deadline.whole && options.timeout === undefined && target.kind === 'openai' && request.kind === 'openai'
              ? timedCopy(client, request.api, ms)
              : undefined;
          if (copy === undefined) options.timeout = ms;
          else sender = copy;
        }
      }
    }
    // `maxRetries: 0` stops the SDK from retrying under the gateway's own retries (no multiplying); a timed copy
    // does not retry by itself.
    if (settings.gatewayRetries && (sender === client || options.maxRetries !== undefined)) options.maxRetries = 0;
    if (signal) options.signal = signal;
    if (request.kind !== target.kind) {
      if (request.api !== 'chat' && request.api !== 'messages')
        throw new TranslationError({
          message: `${request.api} calls cannot go to ${target.id}, a ${target.kind} provider; route them to ${request.kind} targets only`,
          field: 'model',
        });
      return crossProvider(request, options, target, deadline).catch(fail);
    }
    const body = { ...request.body, model: target.model, ...target.parameters };
    // No options left at all: none are sent, as a plain call sends none (the SDK's spread of them is not free).
    const sent = send(sender, request.api, body, isEmpty(options) ? undefined : options);
    deadline?.track(sent);
    if (!request.stream)
      return readAnswer(
        sent,
        sender,
        (data, response): ModelResult => ({
          type: 'response',
          data,
          response,
          target,
          summary: summarize(request.api, data),
        }),
        fail,
      );
    return readAnswer(
      sent,
      sender,
      (data, response) => {
        const summary = emptySummary();
        const chunks = checkedStream(request.api, data, summary, target, true);
        return holdUntilContent(request.api, chunks, data.controller, response, target, summary).catch(fail);
      },
      fail,
    );
  } catch (error) {
    return Promise.reject(error).catch(fail);
  }
}

/**
 * Sends the request, unchanged, to the client the call was made on (a model name that is not a route).
 * SDK errors surface as the SDK threw them, so `catch (e) { if (e instanceof OpenAI.RateLimitError) … }` keeps
 * working; the SDK client's own retries and timeout apply.
 */
export function callPassthrough(ctx: ModelContext): Promise<ModelResult> {
  const target = ctx.target!;
  const { request } = ctx;
  let options = request.options;
  // The scope's signal (from gateway.run) is merged in; the caller's own options are otherwise untouched.
  if (ctx.signal && ctx.signal !== options?.signal) options = { ...options, signal: ctx.signal };
  let sent: SentRequest;
  try {
    sent = send(target.client, request.api, request.body, options);
  } catch (error) {
    return Promise.reject(error);
  }
  return readAnswer(
    sent,
    target.client,
    (data, response): ModelResult => {
      if (!request.stream) return { type: 'response', data, response, target, summary: summarize(request.api, data) };
      const summary = emptySummary();
      return {
        type: 'stream',
        chunks: { [Symbol.asyncIterator]: () => checkedStream(request.api, data, summary, target, false) },
        controller: data.controller,
        response,
        target,
        summary,
      };
    },
    undefined,
  );
}

/**
 * Passes an SDK stream's chunks on, updating `summary`. Ending before the end marker is a failure (the SDKs
 * end such a stream quietly), unless the stream was aborted by its controller (the caller stopped it).
 */
export async function* checkedStream(
  api: ModelApi,
  stream: AsyncIterable<any> & { controller: AbortController },
  summary: ResultSummary,
  target: TargetInfo,
  wrapErrors: boolean,
): AsyncGenerator<any> {
  try {
    for await (const chunk of stream) {
      observeChunk(api, chunk, summary);
      yield chunk;
    }
  } catch (error) {
    throw wrapErrors ? upstreamError(error, target.id) : error;
  }
  if (!summary.completed && !stream.controller.signal.aborted)
    throw new UpstreamError({
      message: `${target.id}: the stream ended before its end marker; the answer is incomplete`,
      target: target.id,
      isRetryable: true,
    });
}

/**
 * Reads a stream until its first content chunk (or its end) and answers a stream result that replays what was
 * read, then the rest. A failure while reading ahead rejects, so the route can try again elsewhere: nothing has
 * reached the caller yet.
 */
export async function holdUntilContent(
  api: ModelApi,
  iterator: AsyncGenerator<any>,
  controller: AbortController,
  response: Response | undefined,
  target: TargetInfo,
  summary: ResultSummary,
): Promise<ModelResult> {
  const held: any[] = [];
  let done = false;
  try {
    while (true) {
      const step = await iterator.next();
      if (step.done) {
        done = true;
        break;
      }
      held.push(step.value);
      if (isContentChunk(api, step.value)) break;
    }
  } catch (error) {
    controller.abort();
    throw error;
  }
  return {
    type: 'stream',
    chunks: { [Symbol.asyncIterator]: () => replay(held, done ? undefined : iterator) },
    controller,
    response,
    target,
    summary,
  };
}

async function* replay(held: any[], rest: AsyncGenerator<any> | undefined): AsyncGenerator<any> {
  let finished = rest === undefined;
  try {
    for (const chunk of held) yield chunk;
    if (rest) {
      while (true) {
        let step: IteratorResult<any>;
        try {
          step = await rest.next();
        } catch (error) {
          finished = true;
          throw error;
        }
        if (step.done) break;
        yield step.value;
      }
    }
    finished = true;
  } finally {
    if (!finished) await rest?.return(undefined);
  }
}
