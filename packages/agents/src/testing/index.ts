import { AbortedError, InvalidInputError } from '@gatehouse/core';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParams,
} from 'openai/resources/chat/completions';
import { z } from 'zod';
import { type LocalTool, type ToolExecution, tool } from '../tool/index.js';

/** One scripted model answer: text, tool calls, or both. */
export interface ScriptedAnswer {
  text?: string;
  toolCalls?: { id?: string; name: string; arguments?: unknown }[];
  usage?: { inputTokens?: number; outputTokens?: number };
  /** Waits this long before answering (honours the call's abort signal). */
  delayMs?: number;
  /** Throws this instead of answering (a provider failure). */
  error?: unknown;
}

/** A string is a text answer; a function answers from the request. */
export type Script = string | ScriptedAnswer | ((request: ChatCompletionCreateParams) => string | ScriptedAnswer);

/** An OpenAI-shaped client that answers a script, for tests. */
export interface ScriptedModel {
  chat: {
    completions: {
      create(params: ChatCompletionCreateParams, options?: { signal?: AbortSignal }): Promise<any>;
    };
  };
  /** Every request received, in order. */
  readonly requests: ChatCompletionCreateParams[];
  /** Answers not used yet. */
  readonly remaining: number;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError({ message: 'the model call was aborted' }));
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(new AbortedError({ message: 'the model call was aborted' }));
      },
      { once: true },
    );
  });
}

/**
 * A model client answering `answers` in order (texts and tool calls), recording each request. A call past
 * the end of the script throws, so a test sees an unexpected extra step at once. Streams (`stream: true`)
 * are answered as OpenAI chunks.
 *
 * @example
 * const model = scriptedModel([{ toolCalls: [{ name: 'lookup', arguments: { id: 7 } }] }, 'Done: 7 found']);
 * agents({ client: model });
 */
export function scriptedModel(answers: readonly Script[]): ScriptedModel {
  const queue = [...answers];
  const requests: ChatCompletionCreateParams[] = [];
  let counter = 0;
  const create = async (params: ChatCompletionCreateParams, options?: { signal?: AbortSignal }) => {
    requests.push(params);
    const next = queue.shift();
    if (next === undefined) {
      throw new InvalidInputError({
        message: `scriptedModel: request #${requests.length} has no scripted answer (the script had ${requests.length - 1})`,
      });
    }
    const scripted = typeof next === 'function' ? next(params) : next;
    const answer: ScriptedAnswer = typeof scripted === 'string' ? { text: scripted } : scripted;
    if (answer.delayMs) await sleep(answer.delayMs, options?.signal);
    if (answer.error !== undefined) throw answer.error;
    const number = ++counter;
    const calls = (answer.toolCalls ?? []).map((call, index) => ({
      id: call.id ?? `call_${number}_${index}`,
      type: 'function' as const,
      function: {
        name: call.name,
        arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments ?? {}),
      },
    }));
    const text = answer.text ?? (calls.length > 0 ? null : '');
    const inputTokens = answer.usage?.inputTokens ?? Math.ceil(JSON.stringify(params.messages).length / 4);
    const outputTokens = answer.usage?.outputTokens ?? Math.ceil(((text ?? '') + JSON.stringify(calls)).length / 4);
    const usage = {
      prompt_tokens: inputTokens,
      completion_tokens: outputTokens,
      total_tokens: inputTokens + outputTokens,
    };
    const finish = calls.length > 0 ? ('tool_calls' as const) : ('stop' as const);
    const id = `chatcmpl-scripted-${number}`;
    const created = 0;
    if (params.stream) return chunks(id, created, params.model, text, calls, finish, usage);
    const completion: ChatCompletion = {
      id,
      object: 'chat.completion',
      created,
      model: params.model,
      choices: [
        {
          index: 0,
          finish_reason: finish,
          logprobs: null,
          message: {
            role: 'assistant',
            content: text,
            refusal: null,
            ...(calls.length > 0 ? { tool_calls: calls } : {}),
          },
        },
      ],
      usage,
    };
    return completion;
  };
  return {
    chat: { completions: { create } },
    requests,
    get remaining() {
      return queue.length;
    },
  };
}

async function* chunks(
  id: string,
  created: number,
  model: string,
  text: string | null,
  calls: { id: string; type: 'function'; function: { name: string; arguments: string } }[],
  finish: 'stop' | 'tool_calls',
  usage: ChatCompletion['usage'],
): AsyncGenerator<ChatCompletionChunk> {
  const base = { id, object: 'chat.completion.chunk' as const, created, model };
  // As OpenAI does: the first chunk carries the role, which the SDK's accumulator requires.
  yield { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] };
  for (const word of text?.match(/\S+\s*|\s+/g) ?? []) {
    yield { ...base, choices: [{ index: 0, delta: { content: word }, finish_reason: null }] };
  }
  for (const [index, call] of calls.entries()) {
    yield {
      ...base,
      choices: [
        {
          index: 0,
          delta: {
            tool_calls: [
              { index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } },
            ],
          },
          finish_reason: null,
        },
      ],
    };
    yield {
      ...base,
      choices: [
        {
          index: 0,
          delta: { tool_calls: [{ index, function: { arguments: call.function.arguments } }] },
          finish_reason: null,
        },
      ],
    };
  }
  yield { ...base, choices: [{ index: 0, delta: {}, finish_reason: finish }] };
  yield { ...base, choices: [], usage };
}

/** A local tool for tests that records its calls. */
export type FakeTool = LocalTool<Record<string, unknown>> & {
  readonly calls: { input: Record<string, unknown>; execution: ToolExecution }[];
};

/**
 * A local tool that records each call and answers `result` (a value, or a function of the input).
 *
 * @example
 * const lookup = fakeTool('lookup', { result: ({ id }) => ({ id, name: 'ACME' }), idempotent: true });
 */
export function fakeTool(
  name: string,
  options: {
    result?: ((input: Record<string, unknown>, execution: ToolExecution) => unknown) | {} | null;
    description?: string;
    idempotent?: boolean;
    needsApproval?: boolean;
  } = {},
): FakeTool {
  const calls: FakeTool['calls'] = [];
  const built = tool({
    name,
    description: options.description ?? `The ${name} test tool`,
    input: z.looseObject({}),
    idempotent: options.idempotent ?? false,
    needsApproval: options.needsApproval ?? false,
    execute: (input: Record<string, unknown>, execution) => {
      calls.push({ input, execution });
      const result = options.result;
      return typeof result === 'function' ? result(input, execution) : result === undefined ? 'ok' : result;
    },
  });
  return Object.freeze({ ...built, calls });
}
