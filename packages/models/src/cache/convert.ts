import type { ModelApi } from '../context/index.js';

// Converts a cached answer between its two forms: the chunks of a streamed answer assembled into the complete
// answer the same call without `stream` gets, and a complete answer split into the stream events the SDKs'
// stream helpers read. Each converter answers `undefined` when it cannot do so faithfully (the cache then
// treats the call as a miss). The inputs are freshly parsed from the cache, so they may be changed in place.

/** The complete answer a streamed answer's chunks add up to, or `undefined` when they cannot be assembled. */
export function assemble(api: ModelApi, chunks: any[]): any | undefined {
  switch (api) {
    case 'chat':
      return assembleChat(chunks);
    case 'messages':
      return assembleMessage(chunks);
    case 'responses':
      return assembleResponse(chunks);
    default:
      return undefined;
  }
}

/** The stream events that replay a complete answer, or `undefined` for an API that does not stream. */
export function split(api: ModelApi, data: any, includeUsage: boolean): any[] | undefined {
  switch (api) {
    case 'chat':
      return splitChat(data, includeUsage);
    case 'messages':
      return splitMessage(data);
    case 'responses':
      return splitResponse(data);
    default:
      return undefined;
  }
}

/** Whether a chat chunk is the usage-only chunk sent last when `stream_options.include_usage` is set. */
export function isUsageChunk(chunk: any): boolean {
  return Array.isArray(chunk?.choices) && chunk.choices.length === 0 && chunk.usage != null;
}

function assembleChat(chunks: any[]): any | undefined {
  const first = chunks[0];
  if (!first) return undefined;
  const choices: any[] = [];
  let usage: unknown;
  for (const chunk of chunks) {
    if (chunk.usage) usage = chunk.usage;
    for (const part of chunk.choices ?? []) {
      const choice = (choices[part.index] ??= {
        index: part.index,
        message: { role: 'assistant', content: null, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: null,
      });
      const delta = part.delta ?? {};
      const message = choice.message;
      if (delta.role) message.role = delta.role;
      if (typeof delta.content === 'string') message.content = (message.content ?? '') + delta.content;
      if (typeof delta.refusal === 'string') message.refusal = (message.refusal ?? '') + delta.refusal;
      for (const call of delta.tool_calls ?? []) {
        const calls = (message.tool_calls ??= []);
        const existing = (calls[call.index ?? 0] ??= {
          id: '',
          type: 'function',
          function: { name: '', arguments: '' },
        });
        if (call.id) existing.id = call.id;
        if (call.type) existing.type = call.type;
        if (call.function?.name) existing.function.name = call.function.name;
        if (call.function?.arguments) existing.function.arguments += call.function.arguments;
      }
      if (part.logprobs) {
        choice.logprobs ??= { content: null, refusal: null };
        for (const key of ['content', 'refusal'] as const)
          if (Array.isArray(part.logprobs[key]))
            choice.logprobs[key] = [...(choice.logprobs[key] ?? []), ...part.logprobs[key]];
      }
      if (part.finish_reason) choice.finish_reason = part.finish_reason;
    }
  }
  // A complete chat answer always carries usage: without the usage chunk the stream cannot stand in for it.
  if (!usage || choices.length === 0 || choices.some((choice) => !choice?.finish_reason)) return undefined;
  const completion: Record<string, unknown> = {
    id: first.id,
    object: 'chat.completion',
    created: first.created,
    model: first.model,
    choices,
    usage,
  };
  if (first.system_fingerprint !== undefined) completion.system_fingerprint = first.system_fingerprint;
  if (first.service_tier !== undefined) completion.service_tier = first.service_tier;
  return completion;
}

function splitChat(completion: any, includeUsage: boolean): any[] | undefined {
  if (!Array.isArray(completion?.choices)) return undefined;
  const base: Record<string, unknown> = {
    id: completion.id,
    object: 'chat.completion.chunk',
    created: completion.created,
    model: completion.model,
  };
  if (completion.system_fingerprint !== undefined) base.system_fingerprint = completion.system_fingerprint;
  if (completion.service_tier !== undefined) base.service_tier = completion.service_tier;
  // With include_usage every chunk carries `usage: null` but the last, which carries only usage.
  if (includeUsage) base.usage = null;
  const chunks: any[] = [];
  for (const choice of completion.choices) {
    const message = choice.message ?? {};
    const delta: Record<string, unknown> = { role: message.role ?? 'assistant' };
    if (typeof message.content === 'string') delta.content = message.content;
    if (typeof message.refusal === 'string') delta.refusal = message.refusal;
    if (Array.isArray(message.tool_calls))
      delta.tool_calls = message.tool_calls.map((call: any, index: number) => ({ index, ...call }));
    chunks.push({
      ...base,
      choices: [{ index: choice.index, delta, logprobs: choice.logprobs ?? null, finish_reason: null }],
    });
    chunks.push({
      ...base,
      choices: [{ index: choice.index, delta: {}, logprobs: null, finish_reason: choice.finish_reason }],
    });
  }
  if (includeUsage) {
    if (!completion.usage) return undefined;
    chunks.push({ ...base, choices: [], usage: completion.usage });
  }
  return chunks;
}

function assembleMessage(events: any[]): any | undefined {
  let message: any;
  const json: (string | undefined)[] = [];
  let stopped = false;
  for (const event of events) {
    switch (event.type) {
      case 'message_start':
        message = event.message;
        message.content = [];
        break;
      case 'content_block_start':
        message.content[event.index] = event.content_block;
        if (event.content_block?.type?.endsWith('tool_use')) json[event.index] = '';
        break;
      case 'content_block_delta': {
        const block = message.content[event.index];
        const delta = event.delta;
        if (delta.type === 'text_delta') block.text += delta.text;
        else if (delta.type === 'input_json_delta') json[event.index] += delta.partial_json;
        else if (delta.type === 'thinking_delta') block.thinking += delta.thinking;
        else if (delta.type === 'signature_delta') block.signature = delta.signature;
        else if (delta.type === 'citations_delta') (block.citations ??= []).push(delta.citation);
        break;
      }
      case 'content_block_stop': {
        const text = json[event.index];
        if (text !== undefined) message.content[event.index].input = text === '' ? {} : JSON.parse(text);
        break;
      }
      case 'message_delta':
        message.stop_reason = event.delta?.stop_reason ?? message.stop_reason;
        message.stop_sequence = event.delta?.stop_sequence ?? message.stop_sequence;
        // Counts in message_delta are cumulative; a null one means "unchanged since message_start".
        for (const [key, value] of Object.entries(event.usage ?? {})) if (value != null) message.usage[key] = value;
        break;
      case 'message_stop':
        stopped = true;
        break;
    }
  }
  return stopped && message ? message : undefined;
}

function splitMessage(message: any): any[] | undefined {
  if (!Array.isArray(message?.content)) return undefined;
  const usage = message.usage ?? {};
  const events: any[] = [
    {
      type: 'message_start',
      message: {
        ...message,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...usage, output_tokens: 0 },
      },
    },
  ];
  message.content.forEach((block: any, index: number) => {
    const deltas: any[] = [];
    let start = block;
    if (block.type === 'text') {
      start = { ...block, text: '' };
      if (Array.isArray(block.citations)) {
        start.citations = [];
        for (const citation of block.citations) deltas.push({ type: 'citations_delta', citation });
      }
      deltas.push({ type: 'text_delta', text: block.text });
    } else if (block.type === 'tool_use' || block.type === 'server_tool_use') {
      start = { ...block, input: {} };
      deltas.push({ type: 'input_json_delta', partial_json: JSON.stringify(block.input ?? {}) });
    } else if (block.type === 'thinking') {
      start = { ...block, thinking: '', signature: '' };
      deltas.push({ type: 'thinking_delta', thinking: block.thinking });
      deltas.push({ type: 'signature_delta', signature: block.signature });
    }
    events.push({ type: 'content_block_start', index, content_block: start });
    for (const delta of deltas) events.push({ type: 'content_block_delta', index, delta });
    events.push({ type: 'content_block_stop', index });
  });
  events.push({
    type: 'message_delta',
    delta: { stop_reason: message.stop_reason, stop_sequence: message.stop_sequence ?? null },
    usage,
  });
  events.push({ type: 'message_stop' });
  return events;
}

const responseEnds = new Set(['response.completed', 'response.incomplete']);

function assembleResponse(events: any[]): any | undefined {
  // The end event carries the whole response, exactly as the complete answer.
  for (let index = events.length - 1; index >= 0; index--)
    if (responseEnds.has(events[index]?.type)) return events[index].response;
  return undefined;
}

function splitResponse(response: any): any[] | undefined {
  if (!Array.isArray(response?.output)) return undefined;
  if (response.status !== 'completed' && response.status !== 'incomplete') return undefined;
  const events: any[] = [];
  let sequence = 0;
  const emit = (type: string, fields: Record<string, unknown>) => {
    events.push({ type, sequence_number: sequence++, ...fields });
  };
  const started = { ...response, status: 'in_progress', output: [], usage: null, incomplete_details: null };
  emit('response.created', { response: started });
  emit('response.in_progress', { response: started });
  response.output.forEach((item: any, outputIndex: number) => {
    if (item.type === 'message' && Array.isArray(item.content)) {
      emit('response.output_item.added', {
        output_index: outputIndex,
        item: { ...item, status: 'in_progress', content: [] },
      });
      item.content.forEach((part: any, contentIndex: number) => {
        const at = { item_id: item.id, output_index: outputIndex, content_index: contentIndex };
        if (part.type === 'output_text') {
          emit('response.content_part.added', { ...at, part: { ...part, text: '', annotations: [] } });
          emit('response.output_text.delta', { ...at, delta: part.text, logprobs: part.logprobs ?? [] });
          emit('response.output_text.done', { ...at, text: part.text, logprobs: part.logprobs ?? [] });
        } else if (part.type === 'refusal') {
          emit('response.content_part.added', { ...at, part: { ...part, refusal: '' } });
          emit('response.refusal.delta', { ...at, delta: part.refusal });
          emit('response.refusal.done', { ...at, refusal: part.refusal });
        } else emit('response.content_part.added', { ...at, part });
        emit('response.content_part.done', { ...at, part });
      });
    } else if (item.type === 'function_call') {
      emit('response.output_item.added', {
        output_index: outputIndex,
        item: { ...item, status: 'in_progress', arguments: '' },
      });
      const at = { item_id: item.id, output_index: outputIndex };
      emit('response.function_call_arguments.delta', { ...at, delta: item.arguments });
      emit('response.function_call_arguments.done', { ...at, name: item.name, arguments: item.arguments });
    } else emit('response.output_item.added', { output_index: outputIndex, item });
    emit('response.output_item.done', { output_index: outputIndex, item });
  });
  emit(response.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response });
  return events;
}
