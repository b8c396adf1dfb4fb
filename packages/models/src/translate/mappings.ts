import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { untranslatable } from './shared.js';

export type OpenAIFinishReason = OpenAI.Chat.ChatCompletion.Choice['finish_reason'];

/**
 * Anthropic stop reason -> OpenAI finish reason. `pause_turn` only happens with server tools, which are
 * refused on the way in, so it has no row. `model_context_window_exceeded` is the model running out of
 * room, which OpenAI reports as `length`.
 */
export const anthropicToOpenAIFinishReason: Readonly<Partial<Record<Anthropic.StopReason, OpenAIFinishReason>>> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

/**
 * OpenAI finish reason -> Anthropic stop reason. OpenAI does not say whether `stop` came from a stop
 * sequence or the end of a turn, so `stop` reads as `end_turn`. `function_call` (the deprecated
 * functions API) has no row: `functions` is refused on the way in.
 */
export const openAIToAnthropicStopReason: Readonly<Partial<Record<OpenAIFinishReason, Anthropic.StopReason>>> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  content_filter: 'refusal',
};

export function toOpenAIFinishReason(reason: Anthropic.StopReason | null, field: string): OpenAIFinishReason {
  const mapped = reason === null ? undefined : anthropicToOpenAIFinishReason[reason];
  if (mapped === undefined) {
    untranslatable(field, `stop reason ${String(reason)} has no OpenAI finish_reason`);
  }
  return mapped;
}

export function toAnthropicStopReason(reason: OpenAIFinishReason | null, field: string): Anthropic.StopReason {
  const mapped = reason === null ? undefined : openAIToAnthropicStopReason[reason];
  if (mapped === undefined) {
    untranslatable(field, `finish_reason ${String(reason)} has no Anthropic stop_reason`);
  }
  return mapped;
}

/** The Anthropic usage counters both directions read; every Anthropic usage shape has them. */
export interface AnthropicTokenCounts {
  input_tokens: number | null;
  output_tokens: number;
  cache_read_input_tokens: number | null;
  cache_creation_input_tokens: number | null;
}

/**
 * Anthropic counts cached input apart from `input_tokens`; OpenAI's `prompt_tokens` includes it, with the
 * cached share in `prompt_tokens_details`.
 */
export function toOpenAIUsage(usage: AnthropicTokenCounts): OpenAI.CompletionUsage {
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const cacheWrite = usage.cache_creation_input_tokens ?? 0;
  const promptTokens = (usage.input_tokens ?? 0) + cacheRead + cacheWrite;
  const details: OpenAI.CompletionUsage.PromptTokensDetails = { cached_tokens: cacheRead };
  if (cacheWrite > 0) details.cache_write_tokens = cacheWrite;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: usage.output_tokens,
    total_tokens: promptTokens + usage.output_tokens,
    prompt_tokens_details: details,
  };
}

/** The inverse of `toOpenAIUsage`: uncached input is what is left of `prompt_tokens` after the cache. */
export function toAnthropicUsage(usage: OpenAI.CompletionUsage | null | undefined): Anthropic.Usage {
  const cacheRead = usage?.prompt_tokens_details?.cached_tokens ?? 0;
  const cacheWrite = usage?.prompt_tokens_details?.cache_write_tokens ?? 0;
  return {
    input_tokens: Math.max(0, (usage?.prompt_tokens ?? 0) - cacheRead - cacheWrite),
    output_tokens: usage?.completion_tokens ?? 0,
    cache_read_input_tokens: cacheRead,
    cache_creation_input_tokens: cacheWrite,
    cache_creation: null,
    inference_geo: null,
    output_tokens_details: null,
    server_tool_use: null,
    service_tier: null,
    speed: null,
  };
}
