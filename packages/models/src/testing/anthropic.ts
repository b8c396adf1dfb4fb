import { contentText, type RequestFacts, type ResolvedAnswer } from './answer.js';
import { type Endpoint, isObject, noFacts, type ProviderError, type RenderContext, type SseEvent } from './endpoint.js';
import type { FinishReason } from './reply.js';

// The shapes below follow what api.anthropic.com sends; the SDK's `messages.stream()` builds its
// `finalMessage()` from exactly this event order.

const stopReasons: Record<FinishReason, string> = {
  stop: 'end_turn',
  length: 'max_tokens',
  'tool-calls': 'tool_use',
  'content-filter': 'refusal',
};

const errorTypes: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

/** Anthropic's error body: `{ type: 'error', error: { type, message }, request_id }`. */
export function anthropicErrorBody(error: ProviderError, requestId: string): unknown {
  return {
    type: 'error',
    error: {
      type:
        error.errorType ?? errorTypes[error.status] ?? (error.status >= 500 ? 'api_error' : 'invalid_request_error'),
      message: error.message,
    },
    request_id: requestId,
  };
}

function invalid(message: string): ProviderError {
  return { status: 400, message };
}

/** The content block types the Messages API accepts in requests; it rejects any other tag. */
const blockTypes = [
  'text',
  'image',
  'document',
  'search_result',
  'thinking',
  'redacted_thinking',
  'tool_use',
  'tool_result',
  'server_tool_use',
  'web_search_tool_result',
  'web_fetch_tool_result',
  'code_execution_tool_result',
  'bash_code_execution_tool_result',
  'text_editor_code_execution_tool_result',
  'tool_search_tool_result',
  'mcp_tool_use',
  'mcp_tool_result',
  'container_upload',
];

function checkHeaders(headers: Record<string, string | string[] | undefined>): ProviderError | undefined {
  if (!headers['x-api-key'] && !headers.authorization) {
    return { status: 401, message: 'x-api-key header is required' };
  }
  if (!headers['anthropic-version']) return invalid('anthropic-version: header is required');
  return undefined;
}

function validateMessages(body: any, requireMaxTokens: boolean): ProviderError | undefined {
  if (!isObject(body)) return invalid('There was an error parsing the body of your request');
  if (typeof body.model !== 'string' || body.model === '') return invalid('model: Field required');
  if (requireMaxTokens) {
    if (body.max_tokens === undefined) return invalid('max_tokens: Field required');
    if (!Number.isInteger(body.max_tokens) || body.max_tokens < 1) {
      return invalid('max_tokens: Input should be a valid integer greater than or equal to 1');
    }
  }
  if (!Array.isArray(body.messages)) return invalid('messages: Field required');
  if (body.messages.length === 0) return invalid('messages: at least one message is required');
  if (typeof body.temperature === 'number' && (body.temperature < 0 || body.temperature > 1)) {
    return invalid('temperature: Input should be less than or equal to 1');
  }
  const messages: any[] = body.messages;
  for (const [index, message] of messages.entries()) {
    if (message?.role === 'system') {
      return invalid(
        'messages: Unexpected role "system". The Messages API accepts a top-level `system` parameter, not "system" as an input message role.',
      );
    }
    if (message?.role !== 'user' && message?.role !== 'assistant') {
      return invalid(`messages.${index}.role: Input should be 'user' or 'assistant'`);
    }
    if (typeof message.content !== 'string' && !Array.isArray(message.content)) {
      return invalid(`messages.${index}.content: Input should be a valid list`);
    }
    const blocks: any[] = Array.isArray(message.content) ? message.content : [];
    for (const [blockIndex, block] of blocks.entries()) {
      if (!blockTypes.includes(block?.type)) {
        return invalid(
          `messages.${index}.content.${blockIndex}: Input tag '${block?.type}' found using 'type' does not match any of the expected tags: ${blockTypes.map((type) => `'${type}'`).join(', ')}`,
        );
      }
    }
    // Each tool_result answers a tool_use of the message just before, and each tool_use is answered next.
    const previous = messages[index - 1];
    const offered = new Set(
      Array.isArray(previous?.content)
        ? previous.content.filter((block: any) => block?.type === 'tool_use').map((block: any) => block.id)
        : [],
    );
    for (const [blockIndex, block] of blocks.entries()) {
      if (block.type === 'tool_result' && (previous?.role !== 'assistant' || !offered.has(block.tool_use_id))) {
        return invalid(
          `messages.${index}.content.${blockIndex}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${block.tool_use_id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
        );
      }
    }
    const next = messages[index + 1];
    if (message.role === 'assistant' && next !== undefined) {
      const answered = new Set(
        Array.isArray(next.content)
          ? next.content.filter((block: any) => block?.type === 'tool_result').map((block: any) => block.tool_use_id)
          : [],
      );
      const unanswered = blocks.filter((block) => block.type === 'tool_use' && !answered.has(block.id));
      if (unanswered.length > 0) {
        return invalid(
          `messages.${index}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${unanswered.map((block) => block.id).join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
        );
      }
    }
  }
  return undefined;
}

function messagesFacts(body: any): RequestFacts {
  const messages: any[] = body.messages;
  const texts = messages.map((message) => contentText(message.content));
  const last = messages.findLastIndex((message) => message.role === 'user');
  const system = typeof body.system === 'string' ? body.system : contentText(body.system);
  return {
    lastUserText: last >= 0 ? (texts[last] ?? '') : '',
    inputText: [system, ...texts].filter(Boolean).join('\n'),
    maxOutputTokens: body.max_tokens,
  };
}

function messageUsage(answer: ResolvedAnswer, outputTokens: number) {
  const { usage } = answer;
  return {
    // Anthropic counts cache reads and writes apart from the other input tokens.
    input_tokens: Math.max(0, usage.inputTokens - usage.cacheReadTokens - usage.cacheWriteTokens),
    cache_creation_input_tokens: usage.cacheWriteTokens,
    cache_read_input_tokens: usage.cacheReadTokens,
    output_tokens: outputTokens,
    service_tier: 'standard',
  };
}

function toolInput(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    // A deliberately broken argument string cannot be a JSON `input`; the stream form still sends it as is.
    return {};
  }
}

interface Blocks {
  text?: string;
  tools: { id: string; name: string; arguments: string; argumentChunks: string[] }[];
}

function blocksOf(answer: ResolvedAnswer, context: RenderContext): Blocks {
  return {
    text: answer.text !== '' || answer.toolCalls.length === 0 ? answer.text : undefined,
    tools: answer.toolCalls.map((call) => ({ ...call, id: call.id ?? context.id('toolu_') })),
  };
}

function messageObject(answer: ResolvedAnswer, context: RenderContext, id: string, content: unknown[]) {
  return {
    id,
    type: 'message',
    role: 'assistant',
    model: context.model,
    content,
    stop_reason: null as string | null,
    stop_sequence: null,
    usage: messageUsage(answer, answer.usage.outputTokens),
  };
}

/** `POST /v1/messages`. */
export const messages: Endpoint = {
  provider: 'anthropic',
  validate: (body, headers) => checkHeaders(headers) ?? validateMessages(body, true),
  facts: messagesFacts,
  streams: (body) => body.stream === true,
  json(answer, context) {
    const blocks = blocksOf(answer, context);
    const content: unknown[] = [];
    if (blocks.text !== undefined) content.push({ type: 'text', text: blocks.text });
    for (const tool of blocks.tools) {
      content.push({ type: 'tool_use', id: tool.id, name: tool.name, input: toolInput(tool.arguments) });
    }
    const message = messageObject(answer, context, context.id('msg_'), content);
    message.stop_reason = stopReasons[answer.finishReason];
    return message;
  },
  events(answer, context) {
    const blocks = blocksOf(answer, context);
    const events: SseEvent[] = [];
    const emit = (type: string, payload: Record<string, unknown> = {}) =>
      events.push({ event: type, data: JSON.stringify({ type, ...payload }) });
    const start = messageObject(answer, context, context.id('msg_'), []);
    start.usage = messageUsage(answer, 1);
    emit('message_start', { message: start });
    let index = 0;
    // The API sends a ping early in every stream; clients must skip it.
    const ping = () => index === 0 && emit('ping');
    if (blocks.text !== undefined) {
      emit('content_block_start', { index, content_block: { type: 'text', text: '' } });
      ping();
      for (const piece of answer.textChunks) {
        emit('content_block_delta', { index, delta: { type: 'text_delta', text: piece } });
      }
      emit('content_block_stop', { index });
      index += 1;
    }
    for (const tool of blocks.tools) {
      emit('content_block_start', {
        index,
        content_block: { type: 'tool_use', id: tool.id, name: tool.name, input: {} },
      });
      ping();
      for (const piece of ['', ...tool.argumentChunks]) {
        emit('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: piece } });
      }
      emit('content_block_stop', { index });
      index += 1;
    }
    const { service_tier: _tier, ...usage } = messageUsage(answer, answer.usage.outputTokens);
    emit('message_delta', { delta: { stop_reason: stopReasons[answer.finishReason], stop_sequence: null }, usage });
    emit('message_stop');
    return events;
  },
  errorEvent(error) {
    const { request_id: _requestId, ...body } = anthropicErrorBody(error, '') as Record<string, unknown>;
    return { event: 'error', data: JSON.stringify(body) };
  },
};

/** `POST /v1/messages/count_tokens`: the same input count `messages` reports. */
export const messageTokenCount: Endpoint = {
  provider: 'anthropic',
  validate: (body, headers) => checkHeaders(headers) ?? validateMessages(body, false),
  facts: messagesFacts,
  streams: () => false,
  json: (answer) => ({ input_tokens: answer.usage.inputTokens }),
};

/** `GET /v1/models` with an `anthropic-version` header. */
export const anthropicModels: Endpoint = {
  provider: 'anthropic',
  validate: (_body, headers) => checkHeaders(headers),
  facts: () => noFacts,
  streams: () => false,
  json(_answer, context) {
    const data = context.models.map((id) => ({
      type: 'model',
      id,
      display_name: id,
      created_at: '2025-01-01T00:00:00Z',
    }));
    return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
  },
};
