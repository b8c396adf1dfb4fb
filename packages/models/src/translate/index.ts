/**
 * Translation between OpenAI chat completions and Anthropic messages, so a route can send an OpenAI-shaped
 * call to an Anthropic target and back. Pure functions over the SDKs' types; neither SDK is needed at run
 * time. Whatever cannot be carried faithfully throws a `TranslationError` naming the field.
 */
export {
  type AnthropicToOpenAIRequestOptions,
  anthropicToOpenAIRequest,
} from './anthropic-to-openai-request.js';
export {
  type AnthropicToOpenAIResponseOptions,
  anthropicToOpenAIResponse,
} from './anthropic-to-openai-response.js';
export {
  type AnthropicToOpenAIStream,
  type AnthropicToOpenAIStreamOptions,
  createAnthropicToOpenAIStream,
} from './anthropic-to-openai-stream.js';
export {
  type AnthropicTokenCounts,
  anthropicToOpenAIFinishReason,
  type OpenAIFinishReason,
  openAIToAnthropicStopReason,
  toAnthropicStopReason,
  toAnthropicUsage,
  toOpenAIFinishReason,
  toOpenAIUsage,
} from './mappings.js';
export {
  type AnthropicMessageCreateParams,
  type OpenAIToAnthropicRequestOptions,
  openaiToAnthropicRequest,
} from './openai-to-anthropic-request.js';
export {
  type OpenAIToAnthropicResponseOptions,
  openaiToAnthropicResponse,
} from './openai-to-anthropic-response.js';
export {
  createOpenAIToAnthropicStream,
  type OpenAIToAnthropicStream,
  type OpenAIToAnthropicStreamOptions,
} from './openai-to-anthropic-stream.js';
export type { AnthropicSamplingParams } from './shared.js';
