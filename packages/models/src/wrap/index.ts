import { ConfigError, InvalidInputError } from '@gatehouse/core';
import type { ModelApi, ModelResult, ModelStreamResult, ProviderKind, TargetInfo } from '../context/index.js';
import { providerKind } from '../options/index.js';
import { anthropicClasses, openaiClasses, type SdkClasses } from '../sdk/index.js';

/**
 * Runs one call through the layer's chain; `answer` makes what the caller gets from its result. `passthrough` is
 * the method's own memo of the targets of model names that are not routes (no lookup by client per call).
 */
export type CallRunner = <R>(
  client: object,
  kind: ProviderKind,
  api: ModelApi,
  body: Record<string, any>,
  options: Record<string, any> | undefined,
  answer: (result: ModelResult) => R,
  passthrough: Map<string, TargetInfo>,
) => Promise<R>;

/** The generating methods, by resource path. Everything else on a client passes through untouched. */
type Tree = { readonly [key: string]: Tree | ModelApi };
const trees: Record<ProviderKind, Tree> = {
  openai: {
    chat: { completions: { create: 'chat' } },
    responses: { create: 'responses' },
    embeddings: { create: 'embeddings' },
  },
  anthropic: { messages: { create: 'messages', countTokens: 'count-tokens' } },
};

const classesOf: Record<ProviderKind, SdkClasses | undefined> = { openai: openaiClasses, anthropic: anthropicClasses };

/** Drops headers that described the upstream body as it was on the wire (length, compression). */
function replayHeaders(response: Response | undefined, contentType: string): Headers {
  const headers = new Headers(response?.headers);
  headers.delete('content-length');
  headers.delete('content-encoding');
  headers.delete('transfer-encoding');
  headers.set('content-type', contentType);
  return headers;
}

function encodeEvent(kind: ProviderKind, api: ModelApi, chunk: any): string {
  // OpenAI chat chunks are bare `data:` lines; typed events (Anthropic, Responses) name their type.
  if (kind === 'openai' && api === 'chat') return `data: ${JSON.stringify(chunk)}\n\n`;
  return `event: ${chunk?.type}\ndata: ${JSON.stringify(chunk)}\n\n`;
}

/** One wrapped method: what every call of it shares, made once. */
interface MethodInfo {
  readonly kind: ProviderKind;
  readonly api: ModelApi;
  readonly classes: SdkClasses;
  readonly client: object;
}

/** `props.options` as the SDK's helpers read it; shared, since only `stream` is looked at. */
const responseOptions: Readonly<Record<string, unknown>> = Object.freeze({ stream: false });
const streamOptions: Readonly<Record<string, unknown>> = Object.freeze({ stream: true });

/**
 * What the SDK's `APIPromise` reads: the answer (parsed by the chain already) and a `Response`. The response
 * is built only when asked for (`asResponse()`, `withResponse()`), from the answer: the upstream one's body
 * was read by the SDK, or there was none (a translated or cached answer). Everything but the answer is a
 * getter, so a call that only awaits the answer allocates nothing more.
 */
class ResultProps {
  readonly #result: ModelResult;
  readonly #method: MethodInfo;
  #response: Response | undefined;
  #stream: unknown;
  #consumed = false;

  constructor(result: ModelResult, method: MethodInfo) {
    this.#result = result;
    this.#method = method;
  }

  // What the SDK's own parser would log; ours never reads them. Getters: nothing stored per call.
  get requestLogID(): string {
    return 'gatehouse';
  }

  get retryOfRequestLogID(): undefined {
    return undefined;
  }

  get startTime(): number {
    return Date.now();
  }

  get options(): Readonly<Record<string, unknown>> {
    return this.#result.type === 'stream' ? streamOptions : responseOptions;
  }

  get controller(): AbortController | undefined {
    return this.#result.type === 'stream' ? this.#result.controller : undefined;
  }

  /** The answer: the data, or one SDK `Stream` over the chunks (made on first read). */
  get value(): unknown {
    const result = this.#result;
    if (result.type === 'response') return result.data;
    this.#stream ??= new this.#method.classes.Stream(() => this.#take(), result.controller, this.#method.client);
    return this.#stream;
  }

  /** One iteration only, shared by the SDK `Stream` and the body of `asResponse()`, like the raw SDK's. */
  #take(): AsyncIterator<any> {
    if (this.#consumed)
      throw new InvalidInputError({
        message: 'Cannot iterate over a consumed stream, use `.tee()` to split the stream.',
      });
    this.#consumed = true;
    return (this.#result as ModelStreamResult).chunks[Symbol.asyncIterator]();
  }

  get response(): Response {
    if (this.#response) return this.#response;
    const result = this.#result;
    const status = result.response?.status ?? 200;
    if (result.type === 'response') {
      this.#response = new Response(JSON.stringify(result.data), {
        status,
        headers: replayHeaders(result.response, 'application/json'),
      });
      return this.#response;
    }
    const take = () => this.#take();
    const { kind, api } = this.#method;
    const encoder = new TextEncoder();
    let iterator: AsyncIterator<any> | undefined;
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          iterator ??= take();
          const step = await iterator.next();
          if (step.done) {
            if (kind === 'openai' && api === 'chat') controller.enqueue(encoder.encode('data: [DONE]\n\n'));
            controller.close();
          } else controller.enqueue(encoder.encode(encodeEvent(kind, api, step.value)));
        },
        async cancel() {
          await iterator?.return?.();
        },
        // No read-ahead: the body takes the stream only when someone reads it (helpers call withResponse()).
      },
      { highWaterMark: 0 },
    );
    this.#response = new Response(body, { status, headers: replayHeaders(result.response, 'text/event-stream') });
    return this.#response;
  }
}

/** Every wrapped client of any gateway, to its raw client: wrapping twice, or a wrapped provider, never loops. */
const raws = new WeakMap<object, object>();

/** The raw client behind a wrapped one (or the client itself). */
export function unwrapClient(client: object): object {
  return raws.get(client) ?? client;
}

const parseResult = (_client: unknown, props: ResultProps) => props.value;

/**
 * Builds `gateway.wrap(client)` for OpenAI and Anthropic clients: a Proxy made once per client that swaps in
 * the generating methods (OpenAI `chat.completions.create`, `responses.create`, `embeddings.create`;
 * Anthropic `messages.create`, `messages.countTokens`) and passes everything else through. The SDKs' helpers
 * (`chat.completions.stream()`/`parse()`, `responses.stream()`, `messages.stream()`) call `create` through
 * `this._client`, which the Proxy answers with the wrapped client, so they run through the chain too.
 */
export function createWrapper(run: CallRunner) {
  const proxies = new WeakMap<object, object>();

  function wrapMethod(raw: object, kind: ProviderKind, api: ModelApi, classes: SdkClasses) {
    const method: MethodInfo = { kind, api, classes, client: raw };
    // Made once per method, not per call.
    const toProps = (result: ModelResult) => new ResultProps(result, method);
    const passthrough = new Map<string, TargetInfo>();
    const { APIPromise } = classes;
    return (body: Record<string, any>, options?: Record<string, any>) =>
      new APIPromise(raw, run(raw, kind, api, body, options, toProps, passthrough), parseResult);
  }

  function wrap<T extends object>(client: T): T {
    const raw = unwrapClient(client) as T;
    const existing = proxies.get(raw);
    if (existing) return existing as T;
    const kind = providerKind(raw);
    if (!kind) throw new ConfigError({ message: 'gateway.wrap(): expected an OpenAI or Anthropic client' });
    const classes = classesOf[kind];
    if (!classes)
      throw new ConfigError({
        message: `gateway.wrap(): could not load the ${kind === 'openai' ? 'openai' : '@anthropic-ai/sdk'} package this client comes from`,
      });
    const bound = new WeakMap<Function, Function>();
    let root: T;

    /**
     * A resource on the path to a generating method (`chat`, `chat.completions`, `messages`), seen through an
     * object whose prototype is the raw resource: the wrapped methods and `_client` (the wrapped client, which
     * the SDK helpers call `create` through) are its own properties, everything else is the raw resource's.
     * A plain object, not a Proxy: reaching `create` costs property loads, not a trap per step.
     */
    const resourceView = (resource: object, tree: Tree): object => {
      const view = Object.create(resource) as Record<string, unknown>;
      Object.defineProperty(view, '_client', { value: root, writable: true, configurable: true, enumerable: false });
      for (const key of Object.keys(tree)) {
        const node = tree[key]!;
        view[key] =
          typeof node === 'string'
            ? wrapMethod(raw, kind, node, classes)
            : resourceView(Reflect.get(resource, key) as object, node);
      }
      return view;
    };

    const rootTree = trees[kind];
    const rootCache = new Map<PropertyKey, unknown>();
    // The last resource view asked for, in front of the map: an app calls the same method again and again.
    let lastKey: PropertyKey | undefined;
    let lastView: unknown;
    root = new Proxy(raw, {
      get(target, key) {
        if (key === lastKey) return lastView;
        const cached = rootCache.get(key);
        if (cached !== undefined) return cached;
        const value = Reflect.get(target, key);
        if (typeof key === 'string' && Object.hasOwn(rootTree, key) && typeof value === 'object' && value !== null) {
          const view = resourceView(value, rootTree[key] as Tree);
          rootCache.set(key, view);
          lastKey = key;
          lastView = view;
          return view;
        }
        if (key === 'withOptions' && typeof value === 'function')
          return (...args: unknown[]) => wrap((value as Function).apply(target, args));
        if (typeof value !== 'function' || key === 'constructor') return value;
        // The client's own methods use private fields: they must run on the raw client, not the Proxy.
        let fn = bound.get(value);
        if (!fn) bound.set(value, (fn = value.bind(target)));
        return fn;
      },
    }) as T;
    proxies.set(raw, root);
    raws.set(root, raw);
    return root;
  }

  return wrap;
}
