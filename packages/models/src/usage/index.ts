import type { ModelApi, ResultSummary } from '../context/index.js';

/** A fresh summary; filled by `summarize` (a complete answer) or `observeChunk` (each chunk of a stream). */
export function emptySummary(): ResultSummary {
  return {
    usage: undefined,
    responseModel: undefined,
    responseId: undefined,
    finishReasons: undefined,
    completed: false,
  };
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

function openaiUsage(usage: any): ResultSummary['usage'] {
  if (!usage || typeof usage !== 'object') return undefined;
  // `prompt_tokens` / `input_tokens` already include the cached tokens; reasoning is part of the output.
  return {
    inputTokens: num(usage.prompt_tokens ?? usage.input_tokens),
    outputTokens: num(usage.completion_tokens ?? usage.output_tokens),
    cacheReadInputTokens: num(usage.prompt_tokens_details?.cached_tokens ?? usage.input_tokens_details?.cached_tokens),
    cacheCreationInputTokens: undefined,
    reasoningTokens: num(
      usage.completion_tokens_details?.reasoning_tokens ?? usage.output_tokens_details?.reasoning_tokens,
    ),
  };
}

/**
 * Anthropic counts `input_tokens` apart from cache reads and writes; the GenAI conventions (and OpenAI) count
 * them in, so `inputTokens` here is the sum. Streams repeat counts cumulatively in `message_delta`, so a field
 * an event leaves out keeps what an earlier event told.
 */
function anthropicUsage(usage: any, previous: ResultSummary['usage']): ResultSummary['usage'] {
  if (!usage || typeof usage !== 'object') return previous;
  const previousRead = previous?.cacheReadInputTokens;
  const previousWrite = previous?.cacheCreationInputTokens;
  const previousUncached =
    previous?.inputTokens === undefined ? undefined : previous.inputTokens - (previousRead ?? 0) - (previousWrite ?? 0);
  const uncached = num(usage.input_tokens) ?? previousUncached;
  const read = num(usage.cache_read_input_tokens) ?? previousRead;
  const write = num(usage.cache_creation_input_tokens) ?? previousWrite;
  return {
    inputTokens: uncached === undefined ? undefined : uncached + (read ?? 0) + (write ?? 0),
    outputTokens: num(usage.output_tokens) ?? previous?.outputTokens,
    cacheReadInputTokens: read,
    cacheCreationInputTokens: write,
    reasoningTokens: undefined,
  };
}

/** Reads usage, model, id and finish reasons from a complete answer of `api`. */
export function summarize(api: ModelApi, data: any, summary: ResultSummary = emptySummary()): ResultSummary {
  summary.completed = true;
  if (!data || typeof data !== 'object') return summary;
  summary.responseModel = typeof data.model === 'string' ? data.model : undefined;
  summary.responseId = typeof data.id === 'string' ? data.id : undefined;
  switch (api) {
    case 'chat':
      summary.usage = openaiUsage(data.usage);
      summary.finishReasons = Array.isArray(data.choices)
        ? data.choices.map((choice: any) => String(choice?.finish_reason))
        : undefined;
      break;
    case 'responses':
      summary.usage = openaiUsage(data.usage);
      summary.finishReasons = typeof data.status === 'string' ? [data.status] : undefined;
      break;
    case 'embeddings':
      summary.usage = openaiUsage(data.usage);
      break;
    case 'messages':
      summary.usage = anthropicUsage(data.usage, undefined);
      summary.finishReasons = data.stop_reason ? [String(data.stop_reason)] : undefined;
      break;
    case 'count-tokens':
      break;
  }
  return summary;
}

/**
 * Updates `summary` from one streamed chunk of `api`: model and id from the first, usage as it comes, and
 * `completed` on the end marker (a `finish_reason`, `message_stop`, or `response.completed`/`incomplete`/`failed`).
 */
export function observeChunk(api: ModelApi, chunk: any, summary: ResultSummary): void {
  if (!chunk || typeof chunk !== 'object') return;
  if (api === 'chat') {
    if (summary.responseModel === undefined && typeof chunk.model === 'string') summary.responseModel = chunk.model;
    if (summary.responseId === undefined && typeof chunk.id === 'string') summary.responseId = chunk.id;
    if (chunk.usage) summary.usage = openaiUsage(chunk.usage);
    const choices = chunk.choices;
    if (Array.isArray(choices))
      for (const choice of choices)
        if (choice?.finish_reason) {
          (summary.finishReasons ??= []).push(String(choice.finish_reason));
          summary.completed = true;
        }
    return;
  }
  if (api === 'messages') {
    switch (chunk.type) {
      case 'message_start':
        summary.responseModel = chunk.message?.model;
        summary.responseId = chunk.message?.id;
        summary.usage = anthropicUsage(chunk.message?.usage, summary.usage);
        break;
      case 'message_delta':
        if (chunk.delta?.stop_reason) summary.finishReasons = [String(chunk.delta.stop_reason)];
        summary.usage = anthropicUsage(chunk.usage, summary.usage);
        break;
      case 'message_stop':
        summary.completed = true;
        break;
    }
    return;
  }
  if (api === 'responses') {
    const type = chunk.type;
    if (
      type === 'response.created' ||
      type === 'response.completed' ||
      type === 'response.incomplete' ||
      type === 'response.failed'
    ) {
      const response = chunk.response;
      summary.responseModel = response?.model ?? summary.responseModel;
      summary.responseId = response?.id ?? summary.responseId;
      if (type !== 'response.created') {
        summary.usage = openaiUsage(response?.usage);
        summary.finishReasons = response?.status ? [String(response.status)] : undefined;
        summary.completed = true;
      }
    }
  }
}

const preamble = new Set(['response.created', 'response.in_progress', 'response.queued', 'message_start', 'ping']);

/**
 * Whether a streamed chunk carries content the caller would act on (text, a tool call, a finish), as opposed
 * to a preamble (a role-only delta, `message_start`, `response.created`). Until one arrives a stream can still
 * fail over to another target without the caller noticing.
 */
export function isContentChunk(api: ModelApi, chunk: any): boolean {
  if (!chunk || typeof chunk !== 'object') return false;
  if (api === 'chat') {
    const choices = chunk.choices;
    if (!Array.isArray(choices) || choices.length === 0) return chunk.usage != null;
    for (const choice of choices) {
      const delta = choice?.delta;
      if (choice?.finish_reason || delta?.content || delta?.refusal || delta?.tool_calls?.length) return true;
    }
    return false;
  }
  return !preamble.has(chunk.type);
}
