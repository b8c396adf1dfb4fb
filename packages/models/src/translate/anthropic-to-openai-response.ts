import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { toOpenAIFinishReason, toOpenAIUsage } from './mappings.js';
import { nowInSeconds, untranslatable } from './shared.js';

export interface AnthropicToOpenAIResponseOptions {
  /** The model name the caller asked for (e.g. the route alias); it is what the caller sees in `model`. */
  model: string;
}

/**
 * Translates an Anthropic `Message` into the `ChatCompletion` an OpenAI caller expects: text blocks
 * become `content`, `tool_use` blocks become `tool_calls` (input serialised as JSON arguments), the stop
 * reason and usage are mapped (see `mappings.ts`). Thinking and server-tool blocks throw a `TranslationError`.
 */
export function anthropicToOpenAIResponse(
  message: Anthropic.Message,
  options: AnthropicToOpenAIResponseOptions,
): OpenAI.Chat.ChatCompletion {
  let text: string | null = null;
  const toolCalls: OpenAI.Chat.ChatCompletionMessageFunctionToolCall[] = [];
  message.content.forEach((block, index) => {
    const field = `content[${index}]`;
    if (block.type === 'text') {
      if (block.citations && block.citations.length > 0) {
        untranslatable(`${field}.citations`, 'OpenAI chat completions have no citations; do not send documents');
      }
      text = (text ?? '') + block.text;
    } else if (block.type === 'tool_use') {
      toolCalls.push({
        id: block.id,
        type: 'function',
        function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
      });
    } else {
      untranslatable(`${field}.type`, unsupportedBlockMessage(block.type));
    }
  });

  const assistant: OpenAI.Chat.ChatCompletionMessage = { role: 'assistant', content: text, refusal: null };
  if (toolCalls.length > 0) assistant.tool_calls = toolCalls;
  return {
    id: message.id,
    object: 'chat.completion',
    created: nowInSeconds(),
    model: options.model,
    choices: [
      {
        index: 0,
        message: assistant,
        finish_reason: toOpenAIFinishReason(message.stop_reason, 'stop_reason'),
        logprobs: null,
      },
    ],
    usage: toOpenAIUsage(message.usage),
  };
}

/** Why an Anthropic content block type cannot be shown to an OpenAI caller. */
export function unsupportedBlockMessage(type: string): string {
  if (type === 'thinking' || type === 'redacted_thinking') {
    return `${type} blocks have no OpenAI chat completion equivalent; do not enable thinking on this route`;
  }
  return `${type} blocks (server tools) have no OpenAI chat completion equivalent; use function tools`;
}
