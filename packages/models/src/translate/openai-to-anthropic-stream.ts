import type Anthropic from '@anthropic-ai/sdk';
import { UpstreamError } from '@gatehouse/core';
import type OpenAI from 'openai';
import { type OpenAIFinishReason, toAnthropicStopReason, toAnthropicUsage } from './mappings.js';
import { untranslatable } from './shared.js';

type Event = Anthropic.RawMessageStreamEvent;

export interface OpenAIToAnthropicStreamOptions {
  /** The model name the caller asked for; it is what the caller sees in `message.model`. */
  model: string;
}

/** Turns OpenAI chat completion chunks into Anthropic stream events, one chunk at a time. */
export interface OpenAIToAnthropicStream {
  /** Translates one chunk; returns the events to send now (possibly none). */
  push(chunk: OpenAI.Chat.ChatCompletionChunk): Event[];
  /** Call when the upstream ends; throws an `UpstreamError` if it ended before a `finish_reason`. */
  end(): Event[];
}

interface ToolCallState {
  kind: 'tool';
  id: string | undefined;
  name: string | undefined;
  /** Every argument fragment so far, to tell when the arguments form complete JSON. */
  arguments: string;
  /** Fragments received while another block was open, sent when this block opens. */
  buffered: string;
  status: 'queued' | 'open' | 'closed';
}

interface TextState {
  kind: 'text';
  buffered: string;
}

type BlockState = ToolCallState | TextState;

const direct: Anthropic.DirectCaller = { type: 'direct' };

/**
 * Creates a translator from OpenAI chunks to the Anthropic event sequence that `messages.stream()` and
 * `MessageStream` accept: `message_start`, then for each block `content_block_start`, deltas
 * (`text_delta`, `input_json_delta`) and `content_block_stop` with increasing indexes, then `message_delta`
 * (stop reason, usage) and `message_stop`.
 *
 * Anthropic blocks never interleave, while OpenAI may interleave tool call deltas. A block is streamed
 * live while it is the open one; fragments for another block wait until the open block is finished (text
 * always is, a tool call once its arguments are complete JSON) and are then sent in arrival order, so
 * nothing is dropped or reordered within a block.
 */
export function createOpenAIToAnthropicStream(options: OpenAIToAnthropicStreamOptions): OpenAIToAnthropicStream {
  let started = false;
  let finished = false;
  let done = false;
  let refused = false;
  let stopReason: Anthropic.StopReason | undefined;
  let usage: OpenAI.CompletionUsage | null | undefined;
  let nextBlockIndex = 0;
  let open: BlockState | undefined;
  const queue: BlockState[] = [];
  const tools = new Map<number, ToolCallState>();
  let queuedText: TextState | undefined;

  function start(chunk: OpenAI.Chat.ChatCompletionChunk, out: Event[]): void {
    started = true;
    out.push({
      type: 'message_start',
      message: {
        id: chunk.id,
        type: 'message',
        role: 'assistant',
        model: options.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        stop_details: null,
        container: null,
        diagnostics: null,
        // OpenAI reports usage only at the end; message_delta carries it then.
        usage: toAnthropicUsage(undefined),
      },
    });
  }

  function isFinished(block: BlockState): boolean {
    if (block.kind === 'text') return true;
    try {
      JSON.parse(block.arguments);
      return true;
    } catch {
      return false;
    }
  }

  function openBlock(block: BlockState, out: Event[]): void {
    const index = nextBlockIndex;
    if (block.kind === 'text') {
      out.push({ type: 'content_block_start', index, content_block: { type: 'text', text: '', citations: null } });
      if (block.buffered !== '')
        out.push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: block.buffered } });
      if (queuedText === block) queuedText = undefined;
    } else {
      out.push({
        type: 'content_block_start',
        index,
        content_block: { type: 'tool_use', id: block.id!, name: block.name!, input: {}, caller: direct },
      });
      if (block.buffered !== '') {
        out.push({
          type: 'content_block_delta',
          index,
          delta: { type: 'input_json_delta', partial_json: block.buffered },
        });
      }
      block.status = 'open';
    }
    block.buffered = '';
    open = block;
  }

  function closeOpen(out: Event[]): void {
    if (open === undefined) return;
    out.push({ type: 'content_block_stop', index: nextBlockIndex });
    if (open.kind === 'tool') open.status = 'closed';
    nextBlockIndex++;
    open = undefined;
  }

  function canOpen(block: BlockState): boolean {
    return block.kind === 'text' || (block.id !== undefined && block.name !== undefined);
  }

  /** Moves on to queued blocks while the open one is finished (or when `force`, at the end). */
  function advance(out: Event[], force: boolean): void {
    while (queue.length > 0 && (open === undefined || force || isFinished(open)) && canOpen(queue[0]!)) {
      closeOpen(out);
      openBlock(queue.shift()!, out);
    }
  }

  function text(fragment: string, out: Event[]): void {
    if (fragment === '') return;
    if (open?.kind === 'text') {
      out.push({ type: 'content_block_delta', index: nextBlockIndex, delta: { type: 'text_delta', text: fragment } });
      if (queue.length > 0) advance(out, false);
      return;
    }
    if (queuedText === undefined) {
      queuedText = { kind: 'text', buffered: '' };
      queue.push(queuedText);
    }
    queuedText.buffered += fragment;
    advance(out, false);
  }

  function toolCall(delta: OpenAI.Chat.ChatCompletionChunk.Choice.Delta.ToolCall, out: Event[]): void {
    const field = `choices[0].delta.tool_calls[${delta.index}]`;
    let state = tools.get(delta.index);
    if (state === undefined) {
      state = { kind: 'tool', id: undefined, name: undefined, arguments: '', buffered: '', status: 'queued' };
      tools.set(delta.index, state);
      queue.push(state);
    }
    if (delta.id != null && state.id === undefined) state.id = delta.id;
    if (delta.function?.name != null && state.name === undefined) state.name = delta.function.name;
    const fragment = delta.function?.arguments ?? '';
    if (state.status === 'closed') {
      // Complete JSON followed by whitespace is the same JSON; anything else cannot be added to a closed block.
      if (fragment.trim() !== '')
        untranslatable(`${field}.function.arguments`, 'arguments arrived after they formed complete JSON');
      return;
    }
    state.arguments += fragment;
    if (state.status === 'open') {
      if (fragment !== '') {
        out.push({
          type: 'content_block_delta',
          index: nextBlockIndex,
          delta: { type: 'input_json_delta', partial_json: fragment },
        });
      }
    } else {
      state.buffered += fragment;
    }
    advance(out, false);
  }

  function finish(out: Event[]): void {
    advance(out, true);
    if (queue.length > 0) {
      untranslatable('choices[0].delta.tool_calls', 'a tool call ended without an id or a function name');
    }
    closeOpen(out);
  }

  function stop(out: Event[]): void {
    done = true;
    const counts = toAnthropicUsage(usage);
    out.push({
      type: 'message_delta',
      delta: {
        stop_reason: stopReason!,
        stop_sequence: null,
        stop_details: stopReason === 'refusal' ? { type: 'refusal', category: null, explanation: null } : null,
        container: null,
      },
      usage: {
        input_tokens: counts.input_tokens,
        output_tokens: counts.output_tokens,
        cache_read_input_tokens: counts.cache_read_input_tokens,
        cache_creation_input_tokens: counts.cache_creation_input_tokens,
        output_tokens_details: null,
        server_tool_use: null,
      },
    });
    out.push({ type: 'message_stop' });
  }

  function push(chunk: OpenAI.Chat.ChatCompletionChunk): Event[] {
    if (done) untranslatable('choices', 'a chunk arrived after the stream was complete');
    const out: Event[] = [];
    if (!started) start(chunk, out);
    if (chunk.choices.length > 1) {
      untranslatable('choices', `Anthropic streams one answer, got ${chunk.choices.length} choices`);
    }
    const choice = chunk.choices[0];
    if (choice !== undefined) {
      if (choice.index !== 0) untranslatable('choices[0].index', 'Anthropic streams one answer (choice 0)');
      const { delta } = choice;
      if (finished && (delta.content || delta.refusal || delta.tool_calls?.length)) {
        untranslatable('choices[0].delta', 'content arrived after finish_reason');
      }
      if (delta.function_call != null) {
        untranslatable('choices[0].delta.function_call', 'the deprecated functions API is not translated');
      }
      if (delta.content != null) text(delta.content, out);
      if (delta.refusal != null && delta.refusal !== '') {
        refused = true;
        text(delta.refusal, out);
      }
      if (delta.tool_calls) for (const call of delta.tool_calls) toolCall(call, out);
      if (choice.finish_reason != null) {
        finished = true;
        // A refusal means the model refused, whatever finish_reason says (as in the non-streamed translation).
        stopReason = refused
          ? 'refusal'
          : toAnthropicStopReason(choice.finish_reason as OpenAIFinishReason, 'choices[0].finish_reason');
        finish(out);
      }
    }
    if (chunk.usage != null) {
      usage = chunk.usage;
      if (finished) stop(out);
    }
    return out;
  }

  function end(): Event[] {
    if (done) return [];
    if (!finished) {
      throw new UpstreamError({
        message: 'The OpenAI stream ended before a finish_reason; the answer is incomplete',
        isRetryable: true,
      });
    }
    // No usage chunk came (the server ignored stream_options.include_usage): report what is known.
    const out: Event[] = [];
    stop(out);
    return out;
  }

  return { push, end };
}
