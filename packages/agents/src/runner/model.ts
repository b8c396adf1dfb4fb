import { UpstreamError } from '@gatehouse/core';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageFunctionToolCall,
} from 'openai/resources/chat/completions';

/**
 * What the runner needs from a model client: OpenAI's `chat.completions.create`. A real `OpenAI` client
 * (wrapped by the models layer, so routes may reach Anthropic targets), or the testing kit's `scriptedModel`.
 */
export interface ChatClient {
  chat: {
    completions: {
      create(params: any, options?: { signal?: AbortSignal }): Promise<any>;
    };
  };
}

/**
 * Calls the model. With `onDelta`, asks for a stream and assembles it into one `ChatCompletion`, passing each
 * text delta on as it arrives.
 */
export async function callModel(
  client: ChatClient,
  params: ChatCompletionCreateParamsNonStreaming,
  signal: AbortSignal | undefined,
  onDelta?: (text: string) => void,
): Promise<ChatCompletion> {
  const options = signal ? { signal } : undefined;
  if (!onDelta) {
    const response = (await client.chat.completions.create(params, options)) as ChatCompletion;
    if (!response?.choices?.[0]?.message) {
      throw new UpstreamError({ message: `the model answered no choice for ${params.model}`, target: params.model });
    }
    return response;
  }
  const stream = (await client.chat.completions.create(
    { ...params, stream: true, stream_options: { include_usage: true } },
    options,
  )) as AsyncIterable<ChatCompletionChunk>;
  return assemble(stream, params.model, onDelta);
}

/** Folds stream chunks into the completion a non-streaming call would have answered. */
async function assemble(
  stream: AsyncIterable<ChatCompletionChunk>,
  model: string,
  onDelta: (text: string) => void,
): Promise<ChatCompletion> {
  let id = '';
  let created = 0;
  let responseModel = model;
  let text = '';
  let finishReason: ChatCompletion.Choice['finish_reason'] | null = null;
  let usage: ChatCompletion['usage'];
  const calls: ChatCompletionMessageFunctionToolCall[] = [];
  for await (const chunk of stream) {
    id ||= chunk.id;
    created ||= chunk.created;
    responseModel = chunk.model || responseModel;
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices?.[0];
    if (!choice) continue;
    const delta = choice.delta;
    if (delta?.content) {
      text += delta.content;
      onDelta(delta.content);
    }
    for (const part of delta?.tool_calls ?? []) {
      const call = (calls[part.index] ??= { id: '', type: 'function', function: { name: '', arguments: '' } });
      if (part.id) call.id = part.id;
      if (part.function?.name) call.function.name += part.function.name;
      if (part.function?.arguments) call.function.arguments += part.function.arguments;
    }
    if (choice.finish_reason) finishReason = choice.finish_reason;
  }
  if (finishReason === null) {
    throw new UpstreamError({
      message: `the model's stream for ${model} ended without a finish reason`,
      target: model,
    });
  }
  return {
    id,
    object: 'chat.completion',
    created,
    model: responseModel,
    choices: [
      {
        index: 0,
        finish_reason: finishReason,
        logprobs: null,
        message: {
          role: 'assistant',
          content: text === '' && calls.length > 0 ? null : text,
          refusal: null,
          ...(calls.length > 0 ? { tool_calls: calls.filter(Boolean) } : {}),
        },
      },
    ],
    ...(usage ? { usage } : {}),
  };
}
