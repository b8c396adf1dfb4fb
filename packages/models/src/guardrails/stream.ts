import { type ModelApi, type ModelStreamResult, pull, relaying, stopUnlessOver } from '../context/index.js';
import type { Trip } from './report.js';
import type { TextKind } from './text.js';

/** What a channel guard answers for a piece of streamed text. */
export interface Outcome {
  /** Text that may reach the caller now, in order (rewritten when redacting). */
  release: string;
  /** Cut the stream after `release` (the safe text before the offending one). */
  block?: Trip | undefined;
  /** Something was redacted or flagged in this release. */
  trip?: Trip | undefined;
}

/** Checks one channel of streamed text (one choice's content, one content block, one tool call's arguments). */
export interface ChannelGuard {
  push(text: string): Outcome;
  end(): Outcome | Promise<Outcome>;
}

/** A piece of text in a chunk, and the channel it continues. */
interface Piece {
  channel: string;
  /** Channels of a group close together (a chat choice's content and its tool calls). */
  group: string;
  kind: TextKind;
  text: string;
}

/** Where text lives in one API's stream chunks. */
interface StreamAdapter {
  pieces(chunk: any): Piece[];
  /** The chunk with its pieces' texts replaced (same order as `pieces`). */
  withTexts(chunk: any, texts: readonly string[]): any;
  /** Groups this chunk ends: their held text must be released before (or in) it. */
  closes(chunk: any): readonly string[];
  /** A chunk carrying `text` on a channel, modelled on `template` (a chunk that had a piece of it). */
  delta(template: any, piece: Piece, text: string): any;
  /** Replaces the complete texts that closing events repeat (responses' `*.done`, `response.completed`). */
  finalize?(chunk: any, released: (channel: string) => string | undefined): any;
}

const none: readonly string[] = [];

const chatAdapter: StreamAdapter = {
  pieces(chunk) {
    const pieces: Piece[] = [];
    const choices = chunk?.choices;
    if (!Array.isArray(choices)) return pieces;
    for (const choice of choices) {
      const delta = choice?.delta;
      if (!delta) continue;
      const group = String(choice.index);
      if (typeof delta.content === 'string' && delta.content !== '')
        pieces.push({ channel: group, group, kind: 'text', text: delta.content });
      if (Array.isArray(delta.tool_calls))
        for (const call of delta.tool_calls)
          if (typeof call?.function?.arguments === 'string' && call.function.arguments !== '')
            pieces.push({
              channel: `${group}:${call.index}`,
              group,
              kind: 'tool-arguments',
              text: call.function.arguments,
            });
    }
    return pieces;
  },
  withTexts(chunk, texts) {
    let index = 0;
    const choices = chunk.choices.map((choice: any) => {
      const delta = choice?.delta;
      if (!delta) return choice;
      let next = delta;
      if (typeof delta.content === 'string' && delta.content !== '') next = { ...next, content: texts[index++] };
      if (Array.isArray(delta.tool_calls))
        next = {
          ...next,
          tool_calls: delta.tool_calls.map((call: any) =>
            typeof call?.function?.arguments === 'string' && call.function.arguments !== ''
              ? { ...call, function: { ...call.function, arguments: texts[index++] } }
              : call,
          ),
        };
      return next === delta ? choice : { ...choice, delta: next };
    });
    return { ...chunk, choices };
  },
  closes(chunk) {
    const choices = chunk?.choices;
    if (!Array.isArray(choices)) return none;
    let groups: string[] | undefined;
    for (const choice of choices) if (choice?.finish_reason) (groups ??= []).push(String(choice.index));
    return groups ?? none;
  },
  delta(template, piece, text) {
    const index = Number(piece.group);
    const delta =
      piece.kind === 'text'
        ? { content: text }
        : {
            tool_calls: [{ index: Number(piece.channel.slice(piece.group.length + 1)), function: { arguments: text } }],
          };
    return { ...template, choices: [{ index, delta, finish_reason: null, logprobs: null }], usage: null };
  },
};

const anthropicAdapter: StreamAdapter = {
  pieces(chunk) {
    if (chunk?.type !== 'content_block_delta') return [];
    const delta = chunk.delta;
    const group = String(chunk.index);
    if (delta?.type === 'text_delta' && typeof delta.text === 'string' && delta.text !== '')
      return [{ channel: group, group, kind: 'text', text: delta.text }];
    if (delta?.type === 'input_json_delta' && typeof delta.partial_json === 'string' && delta.partial_json !== '')
      return [{ channel: group, group, kind: 'tool-arguments', text: delta.partial_json }];
    return [];
  },
  withTexts(chunk, texts) {
    const delta = chunk.delta;
    return delta.type === 'text_delta'
      ? { ...chunk, delta: { ...delta, text: texts[0] } }
      : { ...chunk, delta: { ...delta, partial_json: texts[0] } };
  },
  closes(chunk) {
    return chunk?.type === 'content_block_stop' ? [String(chunk.index)] : none;
  },
  delta(template, _piece, text) {
    const delta = template.delta;
    return delta.type === 'text_delta'
      ? { ...template, delta: { type: 'text_delta', text } }
      : { ...template, delta: { type: 'input_json_delta', partial_json: text } };
  },
};

const textChannel = (chunk: any) => `text:${chunk.item_id}:${chunk.content_index}`;
const argumentsChannel = (chunk: any) => `arguments:${chunk.item_id}`;

/** Responses' closing events repeat the whole text: they get what was released on the channel instead. */
function finalizeItem(item: any, released: (channel: string) => string | undefined): any {
  if (item?.type === 'function_call') {
    const text = released(`arguments:${item.id}`);
    return text === undefined ? item : { ...item, arguments: text };
  }
  if (item?.type !== 'message' || !Array.isArray(item.content)) return item;
  let changed = false;
  const content = item.content.map((part: any, index: number) => {
    const text = part?.type === 'output_text' ? released(`text:${item.id}:${index}`) : undefined;
    if (text === undefined) return part;
    changed = true;
    return { ...part, text };
  });
  return changed ? { ...item, content } : item;
}

const responsesAdapter: StreamAdapter = {
  pieces(chunk) {
    if (chunk?.type === 'response.output_text.delta' && typeof chunk.delta === 'string' && chunk.delta !== '') {
      const channel = textChannel(chunk);
      return [{ channel, group: channel, kind: 'text', text: chunk.delta }];
    }
    if (
      chunk?.type === 'response.function_call_arguments.delta' &&
      typeof chunk.delta === 'string' &&
      chunk.delta !== ''
    ) {
      const channel = argumentsChannel(chunk);
      return [{ channel, group: channel, kind: 'tool-arguments', text: chunk.delta }];
    }
    return [];
  },
  withTexts(chunk, texts) {
    return { ...chunk, delta: texts[0] };
  },
  closes(chunk) {
    if (chunk?.type === 'response.output_text.done') return [textChannel(chunk)];
    if (chunk?.type === 'response.function_call_arguments.done') return [argumentsChannel(chunk)];
    return none;
  },
  delta(template, _piece, text) {
    return { ...template, delta: text };
  },
  finalize(chunk, released) {
    switch (chunk?.type) {
      case 'response.output_text.done': {
        const text = released(textChannel(chunk));
        return text === undefined ? chunk : { ...chunk, text };
      }
      case 'response.function_call_arguments.done': {
        const text = released(argumentsChannel(chunk));
        return text === undefined ? chunk : { ...chunk, arguments: text };
      }
      case 'response.content_part.done': {
        const text = chunk.part?.type === 'output_text' ? released(textChannel(chunk)) : undefined;
        return text === undefined ? chunk : { ...chunk, part: { ...chunk.part, text } };
      }
      case 'response.output_item.done': {
        const item = finalizeItem(chunk.item, released);
        return item === chunk.item ? chunk : { ...chunk, item };
      }
      case 'response.completed':
      case 'response.incomplete': {
        const output = chunk.response?.output;
        if (!Array.isArray(output)) return chunk;
        const items = output.map((item: any) => finalizeItem(item, released));
        if (items.every((item: any, index: number) => item === output[index])) return chunk;
        const response = { ...chunk.response, output: items };
        if (typeof chunk.response.output_text === 'string') {
          let text = '';
          for (const item of items)
            if (item?.type === 'message')
              for (const part of item.content ?? []) if (part?.type === 'output_text') text += part.text;
          response.output_text = text;
        }
        return { ...chunk, response };
      }
      default:
        return chunk;
    }
  },
};

const adapters: Partial<Record<ModelApi, StreamAdapter>> = {
  chat: chatAdapter,
  messages: anthropicAdapter,
  responses: responsesAdapter,
};

/** One channel's state. */
interface Channel {
  guard: ChannelGuard | undefined;
  piece: Piece;
  template: any;
  closed: boolean;
  /** All text released so far, when it differs from what the model sent (a redaction happened). */
  released: string;
  changed: boolean;
}

export interface GuardStreamOptions {
  /** A guard for a new channel of this kind, or undefined to let it through unchecked. */
  open(kind: TextKind): ChannelGuard | undefined;
  /** Flag mode: text goes through unchanged and at once; the guards only observe. */
  observeOnly: boolean;
  /** Called once per trip: a block as it happens, redactions and flags merged when the stream stops. */
  report(trip: Trip, blocked: boolean): void;
  /** The error that cuts the stream. */
  error(trip: Trip): Error;
}

/**
 * Runs a stream's text through channel guards. Text a guard holds back is taken out of its chunk (the chunk is
 * still passed on, with less text) and released in later chunks of the same channel, or in a chunk made for it
 * just before the channel closes: no text is lost or reordered. A block passes on the safe text before the
 * offending one, aborts the upstream request and throws from the caller's iterator.
 */
export function guardStream(api: ModelApi, result: ModelStreamResult, options: GuardStreamOptions): ModelStreamResult {
  const adapter = adapters[api];
  if (!adapter) return result;
  const source = result.chunks;
  const chunks: AsyncIterable<any> = {
    [Symbol.asyncIterator]: () => run(adapter, source[Symbol.asyncIterator](), result.controller, options),
  };
  return { ...result, chunks };
}

async function* run(
  adapter: StreamAdapter,
  iterator: AsyncIterator<any>,
  controller: AbortController,
  options: GuardStreamOptions,
): AsyncGenerator<any> {
  const channels = new Map<string, Channel>();
  const tripped = new Set<string>();
  const reasons: string[] = [];
  const source = relaying(iterator);
  let cut = false;

  const note = (trip: Trip | undefined) => {
    if (!trip) return;
    for (const id of trip.detectors) tripped.add(id);
    if (trip.reason !== undefined && !reasons.includes(trip.reason)) reasons.push(trip.reason);
  };
  const fail = (trip: Trip): Error => {
    cut = true;
    options.report(trip, true);
    controller.abort();
    return options.error(trip);
  };
  const released = (name: string): string | undefined => {
    const channel = channels.get(name);
    return channel?.changed ? channel.released : undefined;
  };
  const keep = (channel: Channel, original: string, text: string): string => {
    if (options.observeOnly) return original;
    channel.released += text;
    return text;
  };
  /** Ends a channel: answers its last text (and a block, if its guard cuts). */
  const endChannel = async (channel: Channel): Promise<Outcome> => {
    channel.closed = true;
    if (!channel.guard) return { release: '' };
    const pending = channel.guard.end();
    const outcome = typeof (pending as Promise<Outcome>).then === 'function' ? await pending : (pending as Outcome);
    note(outcome.trip);
    return outcome;
  };

  try {
    while (true) {
      const step = await pull(source);
      if (step.done) break;
      let chunk = step.value;
      const pieces = adapter.pieces(chunk);
      const closing = adapter.closes(chunk);
      let block: Trip | undefined;
      let texts: string[] | undefined;

      if (pieces.length > 0) {
        texts = [];
        for (const piece of pieces) {
          if (block) {
            // After a cut nothing more is released, on any channel.
            texts.push('');
            continue;
          }
          let channel = channels.get(piece.channel);
          if (!channel || channel.closed) {
            channel = {
              guard: options.open(piece.kind),
              piece,
              template: chunk,
              closed: false,
              released: '',
              changed: false,
            };
            channels.set(piece.channel, channel);
          }
          if (!channel.guard) {
            texts.push(keep(channel, piece.text, piece.text));
            continue;
          }
          const outcome = channel.guard.push(piece.text);
          note(outcome.trip);
          let text = outcome.release;
          block = outcome.block;
          if (!block && closing.includes(piece.group)) {
            const last = await endChannel(channel);
            text += last.release;
            block = last.block;
          }
          if (text !== piece.text) channel.changed = true;
          texts.push(keep(channel, piece.text, text));
        }
      }
      // Channels this chunk closes without carrying their text: their held text goes out just before it.
      if (!block && closing.length > 0) {
        for (const channel of channels.values()) {
          if (channel.closed || !closing.includes(channel.piece.group)) continue;
          const last = await endChannel(channel);
          if (last.release !== '' && !options.observeOnly) {
            channel.changed = true;
            yield adapter.delta(channel.template, channel.piece, keep(channel, '', last.release));
          }
          if (last.block) {
            block = last.block;
            break;
          }
        }
      }
      if (texts) chunk = adapter.withTexts(chunk, texts);
      if (block) {
        // The safe text before the offending one still reaches the caller; the chunk's other fields do not matter.
        if (texts?.some((text) => text !== '')) yield chunk;
        throw fail(block);
      }
      if (adapter.finalize && !options.observeOnly) chunk = adapter.finalize(chunk, released);
      yield chunk;
    }
    // The stream ended with channels still open (no closing event): flush them in order.
    for (const channel of channels.values()) {
      if (channel.closed) continue;
      const last = await endChannel(channel);
      if (last.release !== '' && !options.observeOnly) {
        channel.changed = true;
        yield adapter.delta(channel.template, channel.piece, keep(channel, '', last.release));
      }
      if (last.block) throw fail(last.block);
    }
  } finally {
    if (!cut && tripped.size + reasons.length > 0)
      options.report({ detectors: [...tripped], reason: reasons.length > 0 ? reasons.join('; ') : undefined }, false);
    await stopUnlessOver(source);
  }
}
