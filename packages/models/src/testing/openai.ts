import { contentText, type RequestFacts, type ResolvedAnswer } from './answer.js';
import { type Endpoint, isObject, noFacts, type ProviderError, type RenderContext, type SseEvent } from './endpoint.js';
import type { FinishReason } from './reply.js';

// The shapes below follow what api.openai.com sends, so the SDK's own accumulators (`chat.completions.stream()`,
// `responses.stream()`) and the base64 embedding decoder run for real against them.

const finishReasons: Record<FinishReason, string> = {
  stop: 'stop',
  length: 'length',
  'tool-calls': 'tool_calls',
  'content-filter': 'content_filter',
};

const errorTypes: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'invalid_request_error',
  403: 'permission_error',
  404: 'invalid_request_error',
  409: 'conflict_error',
  422: 'invalid_request_error',
  429: 'requests',
};

const errorCodes: Record<number, string> = { 401: 'invalid_api_key', 429: 'rate_limit_exceeded' };

/** OpenAI's error body: `{ error: { message, type, param, code } }`. */
export function openaiErrorBody(error: ProviderError): unknown {
  return {
    error: {
      message: error.message,
      type:
        error.errorType ?? errorTypes[error.status] ?? (error.status >= 500 ? 'server_error' : 'invalid_request_error'),
      param: error.param ?? null,
      code: error.code === undefined ? (errorCodes[error.status] ?? null) : error.code,
    },
  };
}

function invalid(message: string, param: string | null = null, code: string | null = null): ProviderError {
  return { status: 400, message, param, code };
}

function missing(param: string): ProviderError {
  return invalid(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter');
}

function checkAuthorization(headers: Record<string, string | string[] | undefined>): ProviderError | undefined {
  if (headers.authorization) return undefined;
  return {
    status: 401,
    message: "You didn't provide an API key. You need to provide your API key in an Authorization header.",
    code: null,
  };
}

function checkModel(body: Record<string, any>): ProviderError | undefined {
  if (typeof body.model === 'string' && body.model.length > 0) return undefined;
  return invalid('you must provide a model parameter', 'model');
}

const chatRoles = ['system', 'developer', 'user', 'assistant', 'tool', 'function'];
const partTypes: Record<string, string[]> = {
  user: ['text', 'image_url', 'input_audio', 'file'],
  assistant: ['text', 'refusal'],
  system: ['text'],
  developer: ['text'],
  tool: ['text'],
};

function supported(values: readonly string[]): string {
  const quoted = values.map((value) => `'${value}'`);
  return quoted.length > 1 ? `${quoted.slice(0, -1).join(', ')}, and ${quoted.at(-1)}` : (quoted[0] ?? '');
}

function validateChat(body: any, headers: Record<string, string | string[] | undefined>): ProviderError | undefined {
  const authorization = checkAuthorization(headers);
  if (authorization) return authorization;
  if (!isObject(body)) return invalid('We could not parse the JSON body of your request.');
  const model = checkModel(body);
  if (model) return model;
  if (!Array.isArray(body.messages)) return missing('messages');
  if (body.messages.length === 0) {
    return invalid(
      "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      'messages',
      'empty_array',
    );
  }
  if (body.stream_options != null && body.stream !== true) {
    return invalid("The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options');
  }
  if (typeof body.temperature === 'number' && (body.temperature < 0 || body.temperature > 2)) {
    return invalid(
      `Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got ${body.temperature} instead.`,
      'temperature',
      'decimal_above_max_value',
    );
  }
  // Tool calls still waiting for a `tool` message, from the latest assistant message that made some.
  let open = new Set<string>();
  let openAt = -1;
  for (const [index, message] of body.messages.entries()) {
    if (!isObject(message) || !chatRoles.includes(message.role)) {
      return invalid(
        `Invalid value: '${message?.role}'. Supported values are: ${supported(chatRoles)}.`,
        `messages[${index}].role`,
        'invalid_value',
      );
    }
    if (Array.isArray(message.content)) {
      const allowed = partTypes[message.role] ?? [];
      for (const [partIndex, part] of message.content.entries()) {
        if (!allowed.includes(part?.type)) {
          return invalid(
            `Invalid value: '${part?.type}'. Supported values are: ${supported(allowed)}.`,
            `messages[${index}].content[${partIndex}].type`,
            'invalid_value',
          );
        }
      }
    }
    if (message.role === 'tool') {
      if (typeof message.tool_call_id !== 'string') return missing(`messages[${index}].tool_call_id`);
      if (!open.delete(message.tool_call_id)) {
        return invalid(
          "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
          `messages.[${index}].role`,
        );
      }
      continue;
    }
    if (open.size > 0) break;
    if (message.role === 'assistant' && Array.isArray(message.tool_calls)) {
      open = new Set(message.tool_calls.map((call: any) => call?.id));
      openAt = index;
    }
  }
  if (open.size > 0) {
    return invalid(
      `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...open].join(', ')}`,
      `messages.[${openAt}].role`,
    );
  }
  return undefined;
}

function chatFacts(body: any): RequestFacts {
  const messages: any[] = body.messages;
  const texts = messages.map((message) => contentText(message.content));
  const last = messages.findLastIndex((message) => message.role === 'user' || message.role === 'tool');
  return {
    lastUserText: last >= 0 ? (texts[last] ?? '') : '',
    inputText: texts.join('\n'),
    maxOutputTokens: body.max_completion_tokens ?? body.max_tokens ?? undefined,
  };
}

function chatUsage(answer: ResolvedAnswer) {
  const { usage } = answer;
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cacheReadTokens, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: usage.reasoningTokens,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function toolCallIds(answer: ResolvedAnswer, context: RenderContext): string[] {
  return answer.toolCalls.map((call) => call.id ?? context.id('call_'));
}

/** `POST /v1/chat/completions`. */
export const chatCompletions: Endpoint = {
  provider: 'openai',
  validate: validateChat,
  facts: chatFacts,
  streams: (body) => body.stream === true,
  json(answer, context) {
    const ids = toolCallIds(answer, context);
    const toolCalls = answer.toolCalls.map((call, index) => ({
      id: ids[index],
      type: 'function',
      function: { name: call.name, arguments: call.arguments },
    }));
    return {
      id: context.id('chatcmpl-'),
      object: 'chat.completion',
      created: context.created,
      model: context.model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: answer.text === '' && toolCalls.length > 0 ? null : answer.text,
            refusal: null,
            annotations: [],
            ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          },
          logprobs: null,
          finish_reason: finishReasons[answer.finishReason],
        },
      ],
      usage: chatUsage(answer),
      service_tier: 'default',
      system_fingerprint: null,
    };
  },
  events(answer, context) {
    const includeUsage = context.body.stream_options?.include_usage === true;
    const base = {
      id: context.id('chatcmpl-'),
      object: 'chat.completion.chunk',
      created: context.created,
      model: context.model,
      service_tier: 'default',
      system_fingerprint: null,
    };
    // With `include_usage` every chunk carries `usage: null` and a last chunk with no choices carries the usage.
    const chunk = (delta: unknown, finishReason: string | null = null): SseEvent => ({
      data: JSON.stringify({
        ...base,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
        ...(includeUsage ? { usage: null } : {}),
      }),
    });
    const events = [chunk({ role: 'assistant', content: '', refusal: null })];
    for (const piece of answer.textChunks) events.push(chunk({ content: piece }));
    const ids = toolCallIds(answer, context);
    for (const [index, call] of answer.toolCalls.entries()) {
      events.push(
        chunk({
          tool_calls: [{ index, id: ids[index], type: 'function', function: { name: call.name, arguments: '' } }],
        }),
      );
      for (const piece of call.argumentChunks) {
        events.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
      }
    }
    events.push(chunk({}, finishReasons[answer.finishReason]));
    if (includeUsage) events.push({ data: JSON.stringify({ ...base, choices: [], usage: chatUsage(answer) }) });
    events.push({ data: '[DONE]' });
    return events;
  },
  // Chat completions have no error event: the API sends a chunk holding an `error`, which the SDK throws.
  errorEvent: (error) => ({ data: JSON.stringify(openaiErrorBody(error)) }),
};

function validateResponses(body: any, headers: Record<string, string | string[] | undefined>) {
  const authorization = checkAuthorization(headers);
  if (authorization) return authorization;
  if (!isObject(body)) return invalid('We could not parse the JSON body of your request.');
  const model = checkModel(body);
  if (model) return model;
  if (body.input !== undefined && typeof body.input !== 'string' && !Array.isArray(body.input)) {
    return invalid("Invalid type for 'input': expected one of a string or array of input items.", 'input');
  }
  return undefined;
}

function responsesFacts(body: any): RequestFacts {
  const items: any[] = typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : (body.input ?? []);
  const texts = items.map((item) =>
    item?.type === 'function_call_output' ? String(item.output) : contentText(item?.content),
  );
  const last = items.findLastIndex((item) => item?.role === 'user' || item?.type === 'function_call_output');
  return {
    lastUserText: last >= 0 ? (texts[last] ?? '') : '',
    inputText: [body.instructions ?? '', ...texts].filter(Boolean).join('\n'),
    maxOutputTokens: body.max_output_tokens ?? undefined,
  };
}

/** The response object, in progress (no output yet) or finished. */
function responseObject(answer: ResolvedAnswer, context: RenderContext, id: string, output: unknown[] | undefined) {
  const body = context.body;
  const incomplete =
    answer.finishReason === 'length'
      ? { reason: 'max_output_tokens' }
      : answer.finishReason === 'content-filter'
        ? { reason: 'content_filter' }
        : null;
  const { usage } = answer;
  return {
    id,
    object: 'response',
    created_at: context.created,
    status: output === undefined ? 'in_progress' : incomplete ? 'incomplete' : 'completed',
    background: false,
    error: null,
    incomplete_details: output === undefined ? null : incomplete,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    metadata: body.metadata ?? {},
    model: context.model,
    output: output ?? [],
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: { effort: body.reasoning?.effort ?? null, summary: null },
    store: body.store ?? true,
    temperature: body.temperature ?? 1,
    text: body.text ?? { format: { type: 'text' } },
    tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [],
    top_p: body.top_p ?? 1,
    truncation: 'disabled',
    usage:
      output === undefined
        ? null
        : {
            input_tokens: usage.inputTokens,
            input_tokens_details: { cached_tokens: usage.cacheReadTokens },
            output_tokens: usage.outputTokens,
            output_tokens_details: { reasoning_tokens: usage.reasoningTokens },
            total_tokens: usage.inputTokens + usage.outputTokens,
          },
    user: null,
  };
}

interface ResponseItems {
  message?: { id: string; text: string };
  calls: { id: string; callId: string; name: string; arguments: string; argumentChunks: string[] }[];
}

function responseItems(answer: ResolvedAnswer, context: RenderContext): ResponseItems {
  const message =
    answer.text !== '' || answer.toolCalls.length === 0 ? { id: context.id('msg_'), text: answer.text } : undefined;
  const calls = answer.toolCalls.map((call) => {
    const callId = call.id ?? context.id('call_');
    return {
      id: `fc_${callId}`,
      callId,
      name: call.name,
      arguments: call.arguments,
      argumentChunks: call.argumentChunks,
    };
  });
  return { message, calls };
}

function outputText(text: string) {
  return { type: 'output_text', text, annotations: [], logprobs: [] };
}

function messageItem(id: string, status: string, content: unknown[]) {
  return { id, type: 'message', status, role: 'assistant', content };
}

function functionCallItem(call: ResponseItems['calls'][number], status: string, args: string) {
  return { id: call.id, type: 'function_call', status, arguments: args, call_id: call.callId, name: call.name };
}

function finishedOutput(items: ResponseItems): unknown[] {
  const output: unknown[] = [];
  if (items.message) output.push(messageItem(items.message.id, 'completed', [outputText(items.message.text)]));
  for (const call of items.calls) output.push(functionCallItem(call, 'completed', call.arguments));
  return output;
}

/** `POST /v1/responses`. */
export const responses: Endpoint = {
  provider: 'openai',
  validate: validateResponses,
  facts: responsesFacts,
  streams: (body) => body.stream === true,
  json(answer, context) {
    return responseObject(answer, context, context.id('resp_'), finishedOutput(responseItems(answer, context)));
  },
  events(answer, context) {
    const id = context.id('resp_');
    const items = responseItems(answer, context);
    const events: SseEvent[] = [];
    // Each event names its type twice, in the `event:` line and the payload, with a running sequence number.
    const emit = (type: string, payload: Record<string, unknown>) =>
      events.push({ event: type, data: JSON.stringify({ type, sequence_number: events.length, ...payload }) });
    emit('response.created', { response: responseObject(answer, context, id, undefined) });
    emit('response.in_progress', { response: responseObject(answer, context, id, undefined) });
    let outputIndex = 0;
    if (items.message) {
      const { id: itemId, text } = items.message;
      const at = { item_id: itemId, output_index: outputIndex, content_index: 0 };
      emit('response.output_item.added', { output_index: outputIndex, item: messageItem(itemId, 'in_progress', []) });
      emit('response.content_part.added', { ...at, part: outputText('') });
      for (const piece of answer.textChunks) emit('response.output_text.delta', { ...at, delta: piece, logprobs: [] });
      emit('response.output_text.done', { ...at, text, logprobs: [] });
      emit('response.content_part.done', { ...at, part: outputText(text) });
      emit('response.output_item.done', {
        output_index: outputIndex,
        item: messageItem(itemId, 'completed', [outputText(text)]),
      });
      outputIndex += 1;
    }
    for (const call of items.calls) {
      const at = { item_id: call.id, output_index: outputIndex };
      emit('response.output_item.added', {
        output_index: outputIndex,
        item: functionCallItem(call, 'in_progress', ''),
      });
      for (const piece of call.argumentChunks) emit('response.function_call_arguments.delta', { ...at, delta: piece });
      emit('response.function_call_arguments.done', { ...at, name: call.name, arguments: call.arguments });
      emit('response.output_item.done', {
        output_index: outputIndex,
        item: functionCallItem(call, 'completed', call.arguments),
      });
      outputIndex += 1;
    }
    const finished = responseObject(answer, context, id, finishedOutput(items));
    emit(finished.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response: finished });
    return events;
  },
  errorEvent(error, sequence) {
    const { error: body } = openaiErrorBody(error) as { error: { code: string | null; param: string | null } };
    const data = {
      type: 'error',
      code: body.code,
      message: error.message,
      param: body.param,
      sequence_number: sequence,
    };
    return { event: 'error', data: JSON.stringify(data) };
  },
};

function embeddingTexts(input: unknown): string[] {
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input)) return [];
  // Token arrays (number[] or number[][]) stand for their own text here.
  if (input.every((item) => typeof item === 'number')) return [input.join(' ')];
  return input.map((item) => (typeof item === 'string' ? item : Array.isArray(item) ? item.join(' ') : ''));
}

/** A unit vector that depends only on the text (FNV-1a seeded xorshift), rounded to float32 like the API's. */
export function embeddingVector(text: string, dimensions: number): number[] {
  let seed = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) seed = Math.imul(seed ^ text.charCodeAt(index), 0x01000193);
  const values: number[] = [];
  let norm = 0;
  for (let index = 0; index < dimensions; index++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    const value = ((seed >>> 0) / 0xffffffff) * 2 - 1;
    values.push(value);
    norm += value * value;
  }
  const length = Math.sqrt(norm) || 1;
  return values.map((value) => Math.fround(value / length));
}

/** `POST /v1/embeddings`: deterministic vectors, as floats or as base64 float32 (what the SDK asks for by default). */
export const embeddings: Endpoint = {
  provider: 'openai',
  validate(body, headers) {
    const authorization = checkAuthorization(headers);
    if (authorization) return authorization;
    if (!isObject(body)) return invalid('We could not parse the JSON body of your request.');
    const model = checkModel(body);
    if (model) return model;
    if (body.input === undefined) return missing('input');
    const texts = embeddingTexts(body.input);
    if (texts.length === 0 || texts.some((text) => text === '')) {
      return invalid(
        "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
      );
    }
    if (body.encoding_format !== undefined && body.encoding_format !== 'float' && body.encoding_format !== 'base64') {
      return invalid(
        `Invalid value: '${body.encoding_format}'. Supported values are: 'float' and 'base64'.`,
        'encoding_format',
      );
    }
    return undefined;
  },
  facts: (body) => ({ ...noFacts, inputText: embeddingTexts(body.input).join('') }),
  streams: () => false,
  json(answer, context) {
    const dimensions = Number.isInteger(context.body.dimensions) ? context.body.dimensions : 1536;
    const base64 = context.body.encoding_format === 'base64';
    const texts = embeddingTexts(context.body.input);
    const inputTokens = answer.usage.inputTokens;
    return {
      object: 'list',
      data: texts.map((text, index) => {
        const vector = embeddingVector(text, dimensions);
        return {
          object: 'embedding',
          index,
          embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector,
        };
      }),
      model: context.model,
      usage: { prompt_tokens: inputTokens, total_tokens: inputTokens },
    };
  },
};

/** `GET /v1/models` without an `anthropic-version` header. */
export const openaiModels: Endpoint = {
  provider: 'openai',
  validate: (_body, headers) => checkAuthorization(headers),
  facts: () => noFacts,
  streams: () => false,
  json(_answer, context) {
    return {
      object: 'list',
      data: context.models.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'gatehouse-test' })),
    };
  },
};
