import type Anthropic from '@anthropic-ai/sdk';
import { UpstreamError } from '@gatehouse/core';
import type OpenAI from 'openai';
import { unsupportedBlockMessage } from './anthropic-to-openai-response.js';
import { type AnthropicTokenCounts, type OpenAIFinishReason, toOpenAIFinishReason, toOpenAIUsage } from './mappings.js';
import { nowInSeconds, untranslatable } from './shared.js';

type Chunk = OpenAI.Chat.ChatCompletionChunk;
type Delta = OpenAI.Chat.ChatCompletionChunk.Choice.Delta;

export interface AnthropicToOpenAIStreamOptions {
  /** The model name the caller asked for; it is what the caller sees in each chunk's `model`. */
  model: string;
  /** Whether the caller asked for `stream_options.include_usage`: a last chunk with `choices: []` and usage. */
  includeUsage?: boolean;
}

/** Turns Anthropic stream events into OpenAI chunks, one event at a time. */
export interface AnthropicToOpenAIStream {
  /** Translates one event; returns the chunks to send now (often one, sometimes none). */
  push(event: Anthropic.RawMessageStreamEvent): Chunk[];
  /** Call when the upstream ends; throws an `UpstreamError` if it ended before `message_stop`. */
  end(): Chunk[];
}

interface ToolState {
  /** The OpenAI `tool_calls[].index`: tool calls are numbered apart from Anthropic's content indexes. */
  index: number;
  sentArguments: boolean;
}

/**
 * Creates a translator from Anthropic stream events to OpenAI chat completion chunks: a role chunk first,
 * text as `content` deltas, each `tool_use` block as a tool call chunk (index, id, name) followed by its
 * argument deltas, then a `finish_reason` chunk and, when `includeUsage`, a usage chunk with `choices: []`.
 * Accumulated, the chunks equal `anthropicToOpenAIResponse` of the final message.
 *
 * @example
 * const translator = createAnthropicToOpenAIStream({ model: 'contracts', includeUsage: true });
 * for await (const event of anthropicStream) for (const chunk of translator.push(event)) yield chunk;
 * for (const chunk of translator.end()) yield chunk;
 */
export function createAnthropicToOpenAIStream(options: AnthropicToOpenAIStreamOptions): AnthropicToOpenAIStream {
  let id = '';
  let created = 0;
  let started = false;
  let stopped = false;
  let finishReason: OpenAIFinishReason | undefined;
  let toolCount = 0;
  const tools = new Map<number, ToolState>();
  const usage: AnthropicTokenCounts = {
    input_tokens: 0,
    output_tokens: 0,
    cache_read_input_tokens: null,
    cache_creation_input_tokens: null,
  };

  function chunk(delta: Delta, finish: OpenAIFinishReason | null = null): Chunk {
    const result: Chunk = {
      id,
      object: 'chat.completion.chunk',
      created,
      model: options.model,
      choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    };
    // OpenAI sends `usage: null` on every chunk but the last when usage was asked for.
    if (options.includeUsage) result.usage = null;
    return result;
  }

  function toolArguments(state: ToolState, text: string): Chunk {
    state.sentArguments = true;
    return chunk({ tool_calls: [{ index: state.index, function: { arguments: text } }] });
  }

  function readUsage(source: Partial<AnthropicTokenCounts>): void {
    if (source.input_tokens != null) usage.input_tokens = source.input_tokens;
    if (source.output_tokens != null) usage.output_tokens = source.output_tokens;
    if (source.cache_read_input_tokens != null) usage.cache_read_input_tokens = source.cache_read_input_tokens;
    if (source.cache_creation_input_tokens != null) {
      usage.cache_creation_input_tokens = source.cache_creation_input_tokens;
    }
  }

  function push(event: Anthropic.RawMessageStreamEvent): Chunk[] {
    if (stopped) untranslatable(event.type, 'an event arrived after message_stop');
    if (!started && event.type !== 'message_start') {
      untranslatable(event.type, 'the stream must begin with message_start');
    }
    switch (event.type) {
      case 'message_start': {
        if (started) untranslatable('message_start', 'a second message_start arrived in one stream');
        started = true;
        id = event.message.id;
        created = nowInSeconds();
        readUsage(event.message.usage);
        return [chunk({ role: 'assistant', content: '' })];
      }
      case 'content_block_start': {
        const block = event.content_block;
        if (block.type === 'text') {
          return block.text === '' ? [] : [chunk({ content: block.text })];
        }
        if (block.type !== 'tool_use') {
          untranslatable(`content[${event.index}].type`, unsupportedBlockMessage(block.type));
        }
        const state: ToolState = { index: toolCount++, sentArguments: false };
        tools.set(event.index, state);
        const chunks = [
          chunk({
            tool_calls: [
              { index: state.index, id: block.id, type: 'function', function: { name: block.name, arguments: '' } },
            ],
          }),
        ];
        // Anthropic streams input as JSON deltas after an empty `{}`; a non-empty start input is the whole input.
        if (block.input != null && typeof block.input === 'object' && Object.keys(block.input).length > 0) {
          chunks.push(toolArguments(state, JSON.stringify(block.input)));
        }
        return chunks;
      }
      case 'content_block_delta': {
        const { delta } = event;
        switch (delta.type) {
          case 'text_delta':
            return delta.text === '' ? [] : [chunk({ content: delta.text })];
          case 'input_json_delta': {
            const state = tools.get(event.index);
            if (state === undefined) {
              untranslatable(`content[${event.index}]`, 'input_json_delta for a block that is not a tool_use');
            }
            return delta.partial_json === '' ? [] : [toolArguments(state, delta.partial_json)];
          }
          case 'citations_delta':
            return untranslatable(
              `content[${event.index}].citations`,
              'OpenAI chat completions have no citations; do not send documents',
            );
          default:
            return untranslatable(`content[${event.index}].type`, unsupportedBlockMessage('thinking'));
        }
      }
      case 'content_block_stop': {
        const state = tools.get(event.index);
        // A tool without parameters streams no input; the non-streamed answer says `{}`, so say it here too.
        if (state !== undefined && !state.sentArguments) return [toolArguments(state, '{}')];
        return [];
      }
      case 'message_delta': {
        if (event.delta.stop_reason !== null) {
          finishReason = toOpenAIFinishReason(event.delta.stop_reason, 'stop_reason');
        }
        readUsage(event.usage);
        return [];
      }
      case 'message_stop': {
        stopped = true;
        if (finishReason === undefined) {
          untranslatable('stop_reason', 'message_stop arrived without a stop reason in message_delta');
        }
        const chunks = [chunk({}, finishReason)];
        if (options.includeUsage) {
          chunks.push({
            id,
            object: 'chat.completion.chunk',
            created,
            model: options.model,
            choices: [],
            usage: toOpenAIUsage(usage),
          });
        }
        return chunks;
      }
      default: {
        // `ping` keeps the connection alive and carries nothing; anything else is new and must not vanish.
        const type = (event as { type: string }).type;
        if (type === 'ping') return [];
        return untranslatable(type, `unknown stream event "${type}"`);
      }
    }
  }

  function end(): Chunk[] {
    if (!stopped) {
      throw new UpstreamError({
        message: 'The Anthropic stream ended before message_stop; the answer is incomplete',
        isRetryable: true,
      });
    }
    return [];
  }

  return { push, end };
}
