import type { ModelRequest, ModelResult, TargetInfo } from '../context/index.js';
import {
  anthropicToOpenAIRequest,
  anthropicToOpenAIResponse,
  createAnthropicToOpenAIStream,
  createOpenAIToAnthropicStream,
  openaiToAnthropicRequest,
  openaiToAnthropicResponse,
} from '../translate/index.js';
import { emptySummary, summarize } from '../usage/index.js';
import { answerOf, checkedStream, holdUntilContent, send } from './index.js';

/** The few per-request options that mean the same on both SDKs; the rest belong to the caller's client. */
function portableOptions(options: Record<string, any>): Record<string, any> {
  const portable: Record<string, any> = {};
  for (const key of ['signal', 'maxRetries', 'timeout'] as const)
    if (options[key] !== undefined) portable[key] = options[key];
  return portable;
}

/**
 * Sends an OpenAI chat call to an Anthropic target, or an Anthropic messages call to an OpenAI target:
 * the request is translated, the target's parameters (in the target's own shape) applied over it, and the
 * answer or each stream chunk translated back. `summary` describes the upstream answer (real model, usage).
 */
export async function crossProvider(
  request: ModelRequest,
  options: Record<string, any>,
  target: TargetInfo,
  /** The attempt's deadline, told of the SDK request once sent (it aborts the request on expiry). */
  deadline?: { track(request: object): void },
): Promise<ModelResult> {
  const upstreamApi = request.api === 'chat' ? 'messages' : 'chat';
  const translated: Record<string, any> =
    request.api === 'chat'
      ? openaiToAnthropicRequest(request.body as any, { model: target.model })
      : anthropicToOpenAIRequest(request.body as any, { model: target.model });
  const body = { ...translated, ...target.parameters };
  if (request.stream) body.stream = true;
  const sent = send(target.client, upstreamApi, body, portableOptions(options));
  deadline?.track(sent);
  const { data, response } = await answerOf(sent, target.client);
  const summary = emptySummary();
  if (!request.stream) {
    summarize(upstreamApi, data, summary);
    const answer =
      request.api === 'chat'
        ? anthropicToOpenAIResponse(data, { model: target.model })
        : openaiToAnthropicResponse(data, { model: target.model });
    return { type: 'response', data: answer, response, target, summary };
  }
  const upstream = checkedStream(upstreamApi, data, summary, target, true);
  const chunks =
    request.api === 'chat'
      ? translate(
          upstream,
          createAnthropicToOpenAIStream({
            model: target.model,
            includeUsage: request.body.stream_options?.include_usage === true,
          }),
        )
      : translate(upstream, createOpenAIToAnthropicStream({ model: target.model }));
  return holdUntilContent(request.api, chunks, data.controller, response, target, summary);
}

async function* translate(
  upstream: AsyncGenerator<any>,
  translator: { push(item: any): any[]; end(): any[] },
): AsyncGenerator<any> {
  for await (const item of upstream) for (const out of translator.push(item)) yield out;
  for (const out of translator.end()) yield out;
}
