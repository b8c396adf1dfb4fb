import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '@gatehouse/core';
import { resolveAnswer } from './answer.js';
import { anthropicErrorBody, anthropicModels, messages, messageTokenCount } from './anthropic.js';
import type { Endpoint, ProviderError, RenderContext, SseEvent } from './endpoint.js';
import { chatCompletions, embeddings, openaiErrorBody, openaiModels, responses } from './openai.js';
import type { AnswerStep, RecordedRequest, Step } from './reply.js';

export interface ProviderServerOptions {
  /** Listed first by `GET /v1/models`. Defaults to `gpt-4o-mini`. */
  defaultModel?: string;
  /** Waits this long before every answer (added to any scripted delay). */
  latencyMs?: number;
}

/** Restricts a scripted step to requests on one path and/or for one model. */
export interface ScriptMatch {
  /** e.g. `/v1/messages` or `/v1/chat/completions`. */
  path?: string;
  /** The request body's `model`. */
  model?: string;
}

/**
 * A local HTTP server speaking the OpenAI and Anthropic wire formats, for driving the real SDK clients in tests.
 *
 * Endpoints: `POST /v1/chat/completions`, `/v1/responses`, `/v1/embeddings`, `GET /v1/models` (OpenAI);
 * `POST /v1/messages`, `/v1/messages/count_tokens` (Anthropic). Requests are validated lightly the way each
 * provider does (Anthropic's required `max_tokens`, tool results matching tool calls, roles, content types …)
 * and rejected in the provider's error shape, so translation bugs fail loudly. Unknown paths get a 404.
 */
export interface ProviderServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** `${url}/v1`: `new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'test', maxRetries: 0 })`. */
  readonly openaiBaseURL: string;
  /** `url`: `new Anthropic({ baseURL: server.anthropicBaseURL, apiKey: 'test', maxRetries: 0 })`. */
  readonly anthropicBaseURL: string;
  /** Every request received, in order, including rejected ones. */
  readonly requests: RecordedRequest[];
  /** How many scripted steps are still waiting for a request. */
  readonly pending: number;
  /**
   * Queues answers, each used by one request, in order. With `match`, only requests on that path / for that
   * model take them. Requests with no matching step get the default answer: `Echo: <last user message>`.
   */
  script(steps: Step | readonly Step[], match?: ScriptMatch): void;
  /** Clears the scripted steps, the recorded requests and the id counter. */
  reset(): void;
  /** Stops listening and destroys every open connection. */
  close(): Promise<void>;
}

const defaultModels = ['gpt-4o', 'text-embedding-3-small', 'claude-opus-4-6', 'claude-haiku-4-5'];

const routes = new Map<string, Endpoint>([
  ['POST /v1/chat/completions', chatCompletions],
  ['POST /v1/responses', responses],
  ['POST /v1/embeddings', embeddings],
  ['POST /v1/messages', messages],
  ['POST /v1/messages/count_tokens', messageTokenCount],
]);

const sseHeaders = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

interface Queued {
  step: Step;
  match: ScriptMatch | undefined;
}

/** Everything one request is answered with. */
interface Exchange {
  request: IncomingMessage;
  response: ServerResponse;
  recorded: RecordedRequest;
  endpoint: Endpoint | undefined;
  provider: 'openai' | 'anthropic';
  requestId: string;
  /** Aborted when the connection closes, so pending waits stop. */
  signal: AbortSignal;
}

/**
 * Starts a provider server on 127.0.0.1 with a free port.
 *
 * @example
 * const server = await createProviderServer();
 * const openai = new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'test', maxRetries: 0 });
 * server.script([reply.error(429, { retryAfter: 1 }), reply.text('hello')]);
 * await expect(openai.chat.completions.create(params)).rejects.toBeInstanceOf(OpenAI.RateLimitError);
 * expect((await openai.chat.completions.create(params)).choices[0].message.content).toBe('hello');
 * await server.close();
 */
export async function createProviderServer(options: ProviderServerOptions = {}): Promise<ProviderServer> {
  const latencyMs = options.latencyMs ?? 0;
  if (!Number.isFinite(latencyMs) || latencyMs < 0) {
    throw new ConfigError({
      message: `latencyMs must be a number of milliseconds >= 0, got ${latencyMs}`,
      path: 'latencyMs',
    });
  }
  const models = [options.defaultModel ?? 'gpt-4o-mini', ...defaultModels];
  const requests: RecordedRequest[] = [];
  let queue: Queued[] = [];
  let counter = 0;
  const nextId = (prefix: string) => `${prefix}${String(++counter).padStart(6, '0')}`;

  function takeStep(recorded: RecordedRequest): Step | undefined {
    const index = queue.findIndex(
      ({ match }) =>
        !match ||
        ((match.path === undefined || match.path === recorded.path) &&
          (match.model === undefined || match.model === recorded.body?.model)),
    );
    if (index < 0) return undefined;
    return queue.splice(index, 1)[0]?.step;
  }

  function sendJson(exchange: Exchange, status: number, body: unknown, headers: Record<string, string> = {}) {
    exchange.response.writeHead(status, { 'content-type': 'application/json', ...idHeader(exchange), ...headers });
    exchange.response.end(typeof body === 'string' ? body : JSON.stringify(body));
  }

  function idHeader(exchange: Exchange): Record<string, string> {
    return exchange.provider === 'anthropic'
      ? { 'request-id': exchange.requestId }
      : { 'x-request-id': exchange.requestId };
  }

  function sendError(exchange: Exchange, error: ProviderError, headers: Record<string, string> = {}) {
    const body =
      exchange.provider === 'anthropic' ? anthropicErrorBody(error, exchange.requestId) : openaiErrorBody(error);
    sendJson(exchange, error.status, body, headers);
  }

  async function wait(ms: number, signal: AbortSignal): Promise<boolean> {
    if (ms > 0) await sleep(ms, undefined, { signal }).catch(() => undefined);
    return !signal.aborted;
  }

  async function perform(exchange: Exchange, step: Step, depth = 0): Promise<void> {
    const { endpoint, response } = exchange;
    if (depth > 20) throw new Error('scripted steps nest more than 20 deep (a step function returning itself?)');
    if (typeof step === 'function') {
      const next = await step(exchange.recorded);
      return perform(exchange, next ?? { type: 'answer' }, depth + 1);
    }
    const streams = endpoint?.streams(exchange.recorded.body) === true && endpoint.events !== undefined;
    switch (step.type) {
      case 'delay':
        if (await wait(step.ms, exchange.signal)) await perform(exchange, step.then ?? { type: 'answer' }, depth + 1);
        return;
      case 'reset':
        exchange.request.socket.resetAndDestroy();
        return;
      case 'raw': {
        const headers = { ...idHeader(exchange), ...step.headers };
        const json = typeof step.body !== 'string' && step.body !== undefined;
        response.writeHead(step.status, json ? { 'content-type': 'application/json', ...headers } : headers);
        response.end(step.body === undefined ? undefined : json ? JSON.stringify(step.body) : step.body);
        return;
      }
      case 'malformed':
        if (streams) {
          response.writeHead(200, { ...sseHeaders, ...idHeader(exchange) });
          const event = exchange.provider === 'anthropic' ? 'event: message_start\n' : '';
          response.end(`${event}data: {"type": "message_start", "id": \n\n`);
        } else {
          sendJson(exchange, 200, '{"id": "malformed", "object": ');
        }
        return;
      case 'error': {
        const headers: Record<string, string> = { ...step.headers };
        if (step.retryAfter !== undefined) headers['retry-after'] = String(step.retryAfter);
        if (step.retryAfterMs !== undefined) headers['retry-after-ms'] = String(step.retryAfterMs);
        const error = { status: step.status, message: step.message ?? defaultMessage(step.status), code: step.code };
        sendError(exchange, { ...error, errorType: step.errorType }, headers);
        return;
      }
      case 'answer':
        return answer(exchange, step, streams);
    }
  }

  async function answer(exchange: Exchange, step: AnswerStep, streams: boolean): Promise<void> {
    const { endpoint, response, signal } = exchange;
    if (!endpoint) return;
    const body = exchange.recorded.body;
    const resolved = resolveAnswer(step.answer, endpoint.facts(body));
    const context: RenderContext = {
      id: nextId,
      created: Math.floor(exchange.recorded.time / 1000),
      model: typeof body?.model === 'string' ? body.model : models[0]!,
      body,
      models,
    };
    const delivery = step.delivery ?? {};
    const failure = delivery.failWith && {
      status: delivery.failWith.status ?? 500,
      message: delivery.failWith.message ?? defaultMessage(delivery.failWith.status ?? 500),
      errorType: delivery.failWith.errorType,
    };
    if (failure && (!streams || !endpoint.errorEvent)) return sendError(exchange, failure);
    if (!streams || !endpoint.events) {
      if (!(await wait(delivery.firstTokenMs ?? 0, signal))) return;
      const text = JSON.stringify(endpoint.json(resolved, context));
      if (delivery.cutAfterChunks === undefined) return sendJson(exchange, 200, text);
      // A cut non-streaming answer: the headers and half the body, then the connection drops.
      response.writeHead(200, { 'content-type': 'application/json', ...idHeader(exchange) });
      await write(response, text.slice(0, Math.floor(text.length / 2)));
      exchange.request.socket.destroy();
      return;
    }
    const events = endpoint.events(resolved, context);
    response.writeHead(200, { ...sseHeaders, ...idHeader(exchange) });
    response.flushHeaders();
    for (const [index, event] of events.entries()) {
      if (delivery.cutAfterChunks !== undefined && index >= delivery.cutAfterChunks) {
        exchange.request.socket.destroy();
        return;
      }
      if (failure && endpoint.errorEvent && index >= (delivery.failAfterChunks ?? 0)) {
        await write(response, formatEvent(endpoint.errorEvent(failure, index)));
        break;
      }
      if (!(await wait((index === 0 ? delivery.firstTokenMs : delivery.chunkMs) ?? 0, signal))) return;
      await write(response, formatEvent(event));
    }
    response.end();
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    let parsed = true;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
        parsed = false;
      }
    }
    const path = (request.url ?? '/').split('?')[0]!;
    const method = request.method ?? 'GET';
    const recorded: RecordedRequest = { method, path, headers: { ...request.headers }, body, time: Date.now() };
    requests.push(recorded);
    const anthropicHeaders = request.headers['anthropic-version'] !== undefined;
    const endpoint =
      method === 'GET' && path === '/v1/models'
        ? anthropicHeaders
          ? anthropicModels
          : openaiModels
        : routes.get(`${method} ${path}`);
    const provider =
      endpoint?.provider ?? (anthropicHeaders || path.startsWith('/v1/messages') ? 'anthropic' : 'openai');
    const controller = new AbortController();
    response.on('close', () => controller.abort());
    const exchange: Exchange = {
      request,
      response,
      recorded,
      endpoint,
      provider,
      requestId: nextId('req_'),
      signal: controller.signal,
    };
    if (!endpoint) {
      const message = provider === 'anthropic' ? 'Not Found' : `Invalid URL (${method} ${path})`;
      return sendError(exchange, {
        status: 404,
        message,
        errorType: provider === 'anthropic' ? undefined : 'invalid_request_error',
      });
    }
    const invalid = parsed
      ? endpoint.validate(body, request.headers)
      : { status: 400, message: 'We could not parse the JSON body of your request.' };
    if (invalid) return sendError(exchange, invalid);
    if (!(await wait(latencyMs, controller.signal))) return;
    try {
      await perform(exchange, takeStep(recorded) ?? { type: 'answer' });
    } catch (error) {
      // A throwing step function still gets an answer, in the provider's shape, so the test sees why.
      if (response.headersSent) response.destroy();
      else sendError(exchange, { status: 500, message: `provider test server: ${errorMessage(error)}` });
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      // A bug here must not leave the client hanging.
      if (response.headersSent) {
        response.destroy();
        return;
      }
      const message = `provider test server: ${errorMessage(error)}`;
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { message, type: 'server_error', param: null, code: null } }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    openaiBaseURL: `${url}/v1`,
    anthropicBaseURL: url,
    requests,
    get pending() {
      return queue.length;
    },
    script(steps, match) {
      const list: readonly Step[] = Array.isArray(steps) ? steps : [steps as Step];
      for (const step of list) {
        if (
          typeof step !== 'function' &&
          (typeof step !== 'object' || step === null || typeof step.type !== 'string')
        ) {
          throw new ConfigError({ message: 'script() takes steps built with `reply` (or functions returning them)' });
        }
      }
      queue = queue.concat(list.map((step) => ({ step, match })));
    },
    reset() {
      queue = [];
      requests.length = 0;
      counter = 0;
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

function formatEvent(event: SseEvent): string {
  return event.event === undefined ? `data: ${event.data}\n\n` : `event: ${event.event}\ndata: ${event.data}\n\n`;
}

/** Resolves once the data is handed to the socket, so a cut after it still delivers it. */
function write(response: ServerResponse, data: string): Promise<void> {
  return new Promise((resolve) => {
    response.write(data, () => resolve());
  });
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function defaultMessage(status: number): string {
  const messages: Record<number, string> = {
    400: 'Bad request',
    401: 'Invalid API key',
    403: 'Permission denied',
    404: 'Not found',
    413: 'Request too large',
    429: 'Rate limit exceeded',
    500: 'Internal server error',
    502: 'Bad gateway',
    503: 'Service unavailable',
    529: 'Overloaded',
  };
  return messages[status] ?? `Error ${status}`;
}
