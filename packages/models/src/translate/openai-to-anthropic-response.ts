import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { toAnthropicStopReason, toAnthropicUsage } from './mappings.js';
import { parseArguments, untranslatable } from './shared.js';

export interface OpenAIToAnthropicResponseOptions {
  /** The model name the caller asked for; it is what the caller sees in `model`. */
  model: string;
}

const direct: Anthropic.DirectCaller = { type: 'direct' };

/**
 * Translates an OpenAI `ChatCompletion` into the Anthropic `Message` an Anthropic caller expects: the text
 * (or refusal) becomes a text block, each tool call a `tool_use` block with parsed input, and the finish
 * reason and usage are mapped (see `mappings.ts`).
 */
export function openaiToAnthropicResponse(
  completion: OpenAI.Chat.ChatCompletion,
  options: OpenAIToAnthropicResponseOptions,
): Anthropic.Message {
  if (completion.choices.length !== 1) {
    untranslatable('choices', `Anthropic messages carry one answer, got ${completion.choices.length} choices`);
  }
  const choice = completion.choices[0]!;
  const { message } = choice;
  if (message.audio != null) untranslatable('choices[0].message.audio', 'Anthropic messages cannot carry audio');
  if (message.function_call != null) {
    untranslatable('choices[0].message.function_call', 'the deprecated functions API is not translated');
  }
  if (message.annotations && message.annotations.length > 0) {
    untranslatable('choices[0].message.annotations', 'OpenAI web search annotations have no Anthropic equivalent');
  }

  const content: Anthropic.ContentBlock[] = [];
  if (message.content != null && message.content !== '') {
    content.push({ type: 'text', text: message.content, citations: null });
  }
  if (message.refusal != null && message.refusal !== '') {
    content.push({ type: 'text', text: message.refusal, citations: null });
  }
  message.tool_calls?.forEach((call, index) => {
    const field = `choices[0].message.tool_calls[${index}]`;
    if (call.type !== 'function') untranslatable(`${field}.type`, 'Anthropic supports function tool calls only');
    content.push({
      type: 'tool_use',
      id: call.id,
      name: call.function.name,
      input: parseArguments(call.function.arguments, `${field}.function.arguments`),
      caller: direct,
    });
  });

  // A refusal field means the model refused, whatever finish_reason says.
  const stopReason =
    message.refusal != null && message.refusal !== ''
      ? 'refusal'
      : toAnthropicStopReason(choice.finish_reason, 'choices[0].finish_reason');
  return {
    id: completion.id,
    type: 'message',
    role: 'assistant',
    model: options.model,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    stop_details: stopReason === 'refusal' ? { type: 'refusal', category: null, explanation: null } : null,
    container: null,
    diagnostics: null,
    usage: toAnthropicUsage(completion.usage),
  };
}
