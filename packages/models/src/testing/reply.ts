import { ConfigError } from '@gatehouse/core';

/** Why a scripted answer ended, in neutral terms; each wire format renders its own name for it. */
export type FinishReason = 'stop' | 'length' | 'tool-calls' | 'content-filter';

/**
 * Token counts of a scripted answer. Counts left out are derived from the request and the answer text
 * (about one token per four characters).
 */
export interface ScriptedUsage {
  /** All input tokens, cached ones included (OpenAI's `prompt_tokens`). Anthropic's `input_tokens` is rendered as this minus the cache reads and writes. */
  inputTokens?: number;
  /** All output tokens, reasoning included. */
  outputTokens?: number;
  /** Input tokens read from the prompt cache (`cached_tokens`, `cache_read_input_tokens`). */
  cacheReadTokens?: number;
  /** Input tokens written to the prompt cache (Anthropic's `cache_creation_input_tokens`). */
  cacheWriteTokens?: number;
  /** Output tokens spent on reasoning (OpenAI's `reasoning_tokens`). */
  reasoningTokens?: number;
}

/** A tool call the model makes. `arguments` may be an object or a JSON string (which may be deliberately invalid). */
export interface ScriptedToolCall {
  /** Defaults to a generated id (`call_…` for OpenAI, `toolu_…` for Anthropic). */
  id?: string;
  name: string;
  arguments: unknown;
}

/** One provider-neutral answer, rendered for whichever endpoint and stream mode the request used. */
export interface ScriptedAnswer {
  text?: string;
  toolCalls?: ScriptedToolCall[];
  /** Defaults to `tool-calls` when there are tool calls, `stop` otherwise. */
  finishReason?: FinishReason;
  usage?: ScriptedUsage;
  /** How the text is split into stream deltas; defaults to word by word. Joined, they must equal `text`. */
  chunks?: string[];
}

/** Pacing and faults of a streamed answer. */
export interface StreamDelivery {
  /** Wait before the first event after the headers. */
  firstTokenMs?: number;
  /** Wait between events. */
  chunkMs?: number;
  /** Send this many server-sent events, then destroy the socket. */
  cutAfterChunks?: number;
  /** Send `failAfterChunks` events, then the provider's in-stream error event (`failWith`), then end the stream. */
  failAfterChunks?: number;
  failWith?: StreamFailure;
}

/** An error a provider reports inside a stream that had started well (Anthropic's `event: error`, e.g. overloaded). */
export interface StreamFailure {
  /** Picks the default error type and message (529: `overloaded_error`); defaults to 500. */
  status?: number;
  message?: string;
  errorType?: string;
}

/** A model answer; without `answer` the server's default (an echo of the last user message) is used. */
export interface AnswerStep {
  type: 'answer';
  answer?: ScriptedAnswer;
  delivery?: StreamDelivery;
}

/** An error in the provider's own JSON shape. */
export interface ErrorStep {
  type: 'error';
  status: number;
  message?: string;
  /** The provider's error type; defaults to the one the provider uses for `status`. */
  errorType?: string;
  /** OpenAI's `code` (e.g. `rate_limit_exceeded`). */
  code?: string;
  /** Sent as `retry-after`, in seconds. */
  retryAfter?: number;
  /** Sent as `retry-after-ms`. */
  retryAfterMs?: number;
  headers?: Record<string, string>;
}

export interface DelayStep {
  type: 'delay';
  ms: number;
  then?: Step;
}

/** Destroys the socket without answering: the client sees a connection reset. */
export interface ResetStep {
  type: 'reset';
}

/** Answers 200 with a body (or stream event) that is not valid JSON. */
export interface MalformedStep {
  type: 'malformed';
}

export interface RawStep {
  type: 'raw';
  status: number;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** What the server received, as recorded in `server.requests` and given to function steps. */
export interface RecordedRequest {
  method: string;
  /** The path without the query string, e.g. `/v1/chat/completions`. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body; the raw text when it is not JSON; `undefined` when empty. */
  body: any;
  /** `Date.now()` when the request was received. */
  time: number;
}

/** A step decided when the request arrives; returning `undefined` gives the default answer. */
export type StepFunction = (request: RecordedRequest) => Step | undefined | Promise<Step | undefined>;

/** What the server does with one request. Build steps with `reply`. */
export type Step = AnswerStep | ErrorStep | DelayStep | ResetStep | MalformedStep | RawStep | StepFunction;

/** Options shared by the answer builders. */
export interface AnswerOptions {
  usage?: ScriptedUsage;
  finishReason?: FinishReason;
}

/**
 * Builders for scripted steps.
 *
 * @example
 * server.script([reply.error(429, { retryAfter: 1 }), reply.text('hello')]);
 * server.script(reply.toolCalls([{ name: 'weather', arguments: { city: 'Paris' } }]), { path: '/v1/messages' });
 */
export const reply = {
  /** A text answer. `chunks` sets how it is split into stream deltas. */
  text(text: string, options: AnswerOptions & { chunks?: string[] } = {}): AnswerStep {
    return reply.answer({ text, ...options });
  },

  /** An answer calling tools (finish reason `tool-calls`), optionally with text before the calls. */
  toolCalls(toolCalls: ScriptedToolCall[], options: AnswerOptions & { text?: string } = {}): AnswerStep {
    return { type: 'answer', answer: { toolCalls, ...options } };
  },

  /** Any neutral answer: text, tool calls, finish reason, usage. */
  answer(answer: ScriptedAnswer): AnswerStep {
    if (answer.chunks && answer.chunks.join('') !== (answer.text ?? '')) {
      throw new ConfigError({
        message: `reply chunks ${JSON.stringify(answer.chunks)} must join to the answer text ${JSON.stringify(answer.text ?? '')}`,
        path: 'chunks',
      });
    }
    return { type: 'answer', answer };
  },

  /** The server's default answer (an echo of the last user message), e.g. to follow a scripted failure. */
  echo(): AnswerStep {
    return { type: 'answer' };
  },

  /** An error in the provider's shape with this status (e.g. `429` with `{ retryAfter: 1 }`). */
  error(status: number, options: Omit<ErrorStep, 'type' | 'status'> = {}): ErrorStep {
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new ConfigError({
        message: `reply.error needs an HTTP error status (400-599), got ${status}`,
        path: 'status',
      });
    }
    return { type: 'error', status, ...options };
  },

  /** Waits `ms` before doing `then` (the default answer when left out); a client timeout fires meanwhile. */
  delay(ms: number, then?: Step): DelayStep {
    return { type: 'delay', ms, then };
  },

  /** Destroys the connection without answering. */
  reset(): ResetStep {
    return { type: 'reset' };
  },

  /** A 200 answer whose body (or first stream event) is invalid JSON. */
  malformed(): MalformedStep {
    return { type: 'malformed' };
  },

  /**
   * Streams `afterChunks` server-sent events of `answer` (default: the echo), then destroys the socket.
   * A non-streaming request gets half its JSON body before the cut.
   */
  cutStream(options: { afterChunks: number }, answer: AnswerStep = { type: 'answer' }): AnswerStep {
    return { ...answer, delivery: { ...answer.delivery, cutAfterChunks: options.afterChunks } };
  },

  /**
   * Streams `afterChunks` server-sent events of `answer` (default: the echo), then the provider's error event
   * (`event: error` for Anthropic and responses, a `data: {"error": …}` chunk for chat completions), then ends.
   * A non-streaming request gets the error as its answer.
   */
  streamError(options: { afterChunks: number } & StreamFailure, answer: AnswerStep = { type: 'answer' }): AnswerStep {
    const { afterChunks, ...failure } = options;
    return { ...answer, delivery: { ...answer.delivery, failAfterChunks: afterChunks, failWith: failure } };
  },

  /** Streams `answer` (default: the echo) slowly: `firstTokenMs` before the first event, `chunkMs` between events. */
  slowStream(
    options: { firstTokenMs?: number; chunkMs?: number },
    answer: AnswerStep = { type: 'answer' },
  ): AnswerStep {
    return { ...answer, delivery: { ...answer.delivery, ...options } };
  },

  /** Any status, body and headers, sent as given. */
  raw(status: number, body?: unknown, headers?: Record<string, string>): RawStep {
    return { type: 'raw', status, body, headers };
  },
};
