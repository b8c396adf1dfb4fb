import type { RequestFacts, ResolvedAnswer } from './answer.js';

export type Provider = 'openai' | 'anthropic';

/** Per-request values a renderer needs besides the answer. */
export interface RenderContext {
  /** Generates a deterministic id with this prefix (`chatcmpl-000001`). */
  id(prefix: string): string;
  /** Unix seconds. */
  created: number;
  /** The requested model, echoed in the answer. */
  model: string;
  /** The parsed request body. */
  body: any;
  /** The models the server lists (`GET /v1/models`). */
  models: readonly string[];
}

/** One server-sent event; `event` is the `event:` line, left out where the provider sends none. */
export interface SseEvent {
  event?: string;
  data: string;
}

/** An error the provider would answer, before it is put in the provider's JSON shape. */
export interface ProviderError {
  status: number;
  message: string;
  /** The provider's error type; the default for the status when left out. */
  errorType?: string;
  code?: string | null;
  param?: string | null;
}

/** One route of the server: how it validates a request and renders an answer in its wire format. */
export interface Endpoint {
  provider: Provider;
  /** The provider's answer to a request it would reject, or `undefined` when the request is acceptable. */
  validate(body: any, headers: Record<string, string | string[] | undefined>): ProviderError | undefined;
  facts(body: any): RequestFacts;
  /** Whether the request asked for a stream. */
  streams(body: any): boolean;
  json(answer: ResolvedAnswer, context: RenderContext): unknown;
  /** The stream events; endpoints that never stream leave this out. */
  events?(answer: ResolvedAnswer, context: RenderContext): SseEvent[];
  /** The event that reports an error inside a started stream; `sequence` is the number of events sent before. */
  errorEvent?(error: ProviderError, sequence: number): SseEvent;
}

/** Facts for endpoints that take no messages. */
export const noFacts: RequestFacts = { lastUserText: '', inputText: '' };

export function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
