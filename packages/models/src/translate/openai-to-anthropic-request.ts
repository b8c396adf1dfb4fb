import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { type AnthropicSamplingParams, parseArguments, parseDataUrl, untranslatable } from './shared.js';

/** What `openaiToAnthropicRequest` returns: Anthropic params plus the sampling fields the API still takes. */
export type AnthropicMessageCreateParams = Anthropic.MessageCreateParams & AnthropicSamplingParams;

export interface OpenAIToAnthropicRequestOptions {
  /** The Anthropic model to call (the route's target), which replaces the caller's `model`. */
  model: string;
  /** `max_tokens` when the caller set neither `max_completion_tokens` nor `max_tokens`; Anthropic requires one. */
  defaultMaxTokens?: number;
}

type Params = OpenAI.Chat.ChatCompletionCreateParams;
type Key = keyof Params;

/**
 * Keys read below. A key outside this list, `ignoredKeys` and `refusedKeys` is unknown (a newer SDK, a
 * typo) and fails, so nothing the caller asked for is dropped without a word.
 */
const translatedKeys: ReadonlySet<string> = new Set<Key>([
  'messages',
  'model',
  'max_completion_tokens',
  'max_tokens',
  'temperature',
  'top_p',
  'stop',
  'stream',
  'stream_options',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'user',
  'safety_identifier',
  'response_format',
  'reasoning_effort',
  'n',
  'logprobs',
  'top_logprobs',
  'frequency_penalty',
  'presence_penalty',
  'logit_bias',
  'modalities',
]);

/** Keys accepted and not sent, each with why leaving it out does not change the answer. */
const ignoredKeys: Readonly<Partial<Record<Key, string>>> = {
  store: 'OpenAI-side storage of the completion for evals and distillation; Anthropic keeps no such store',
  metadata: 'tags for OpenAI stored completions (used with `store`); they never reach the model',
  service_tier: 'a latency/price tier; the answer is the same',
  prompt_cache_key: 'a cache routing hint; Anthropic caches by prefix without one',
  prompt_cache_retention: 'how long OpenAI keeps a cached prefix; a cost setting, not a meaning',
  prompt_cache_options: 'OpenAI cache policy; breakpoints themselves are carried as cache_control',
  prediction: 'a latency optimisation (predicted output); the answer is the same without it',
};

/** Keys that cannot be carried, with what to do instead. Null and default values pass (see `isDefault`). */
const refusedKeys: Readonly<Partial<Record<Key, string>>> = {
  audio: 'Anthropic cannot produce audio; remove `audio` or route to an OpenAI target',
  seed: 'Anthropic has no deterministic sampling seed; remove `seed` or route to an OpenAI target',
  functions: 'the deprecated functions API is not translated; use `tools`',
  function_call: 'the deprecated functions API is not translated; use `tool_choice`',
  verbosity: 'Anthropic has no verbosity control; remove `verbosity` or ask for length in the prompt',
  web_search_options: 'OpenAI web search is a server tool Anthropic cannot run; remove it',
  moderation: 'OpenAI moderation results have no Anthropic equivalent; remove `moderation`',
};

/** Anthropic's `output_config.effort` levels that have the same name in OpenAI's `reasoning_effort`. */
const effortLevels: ReadonlySet<string> = new Set(['low', 'medium', 'high', 'xhigh', 'max']);

const imageMediaTypes: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

const breakpoint: Anthropic.CacheControlEphemeral = { type: 'ephemeral' };

/**
 * Translates an OpenAI chat completion request into an Anthropic Messages request.
 *
 * System and developer messages before the conversation become `system`; consecutive same-role turns are
 * merged (Anthropic requires alternation); `tool` messages become `tool_result` blocks in one user turn.
 * Anything Anthropic cannot honour throws a `TranslationError` naming the field.
 *
 * @example
 * const body = openaiToAnthropicRequest(params, { model: 'claude-sonnet-4-5' });
 * const message = await anthropic.messages.create(body);
 */
export function openaiToAnthropicRequest(
  params: Params,
  options: OpenAIToAnthropicRequestOptions,
): AnthropicMessageCreateParams {
  for (const key of Object.keys(params)) {
    if (translatedKeys.has(key) || Object.hasOwn(ignoredKeys, key)) continue;
    const refusal = refusedKeys[key as Key];
    if (refusal !== undefined) {
      if (isDefault(key, (params as unknown as Record<string, unknown>)[key])) continue;
      untranslatable(key, refusal);
    }
    untranslatable(key, 'unknown request field; remove it or route to an OpenAI target');
  }
  refuseNonDefault(params);

  const { system, messages } = translateMessages(params.messages);
  // Built on the base type: the streaming and non-streaming variants differ only in `stream`.
  const request: Omit<Anthropic.MessageCreateParamsNonStreaming, 'stream'> & {
    stream?: boolean;
  } & AnthropicSamplingParams = {
    model: options.model,
    max_tokens: params.max_completion_tokens ?? params.max_tokens ?? options.defaultMaxTokens ?? 4096,
    messages,
  };
  if (system !== undefined) request.system = system;
  if (params.stream) request.stream = true;

  if (params.temperature != null) {
    if (params.temperature > 1) {
      untranslatable(
        'temperature',
        `${params.temperature} is above Anthropic's maximum of 1; use a value between 0 and 1 for this route`,
      );
    }
    request.temperature = params.temperature;
  }
  if (params.top_p != null) request.top_p = params.top_p;

  if (params.stop != null) {
    const stops = typeof params.stop === 'string' ? [params.stop] : params.stop;
    if (stops.length > 0) request.stop_sequences = stops;
  }

  const userId = userIdOf(params);
  if (userId !== undefined) request.metadata = { user_id: userId };

  if (params.tools && params.tools.length > 0) request.tools = params.tools.map(translateTool);
  const toolChoice = translateToolChoice(params);
  if (toolChoice !== undefined) request.tool_choice = toolChoice;

  const outputConfig = translateOutputConfig(params);
  if (outputConfig !== undefined) request.output_config = outputConfig;
  return request as AnthropicMessageCreateParams;
}

function isDefault(key: string, value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (key === 'seed' || key === 'audio' || key === 'moderation') return false;
  if (Array.isArray(value)) return value.length === 0;
  return false;
}

function refuseNonDefault(params: Params): void {
  if (params.n != null && params.n !== 1) {
    untranslatable('n', 'Anthropic returns one choice per call; set n to 1 or leave it out');
  }
  if (params.logprobs) untranslatable('logprobs', 'Anthropic does not return log probabilities; remove logprobs');
  if (params.top_logprobs != null) {
    untranslatable('top_logprobs', 'Anthropic does not return log probabilities; remove top_logprobs');
  }
  if (params.frequency_penalty != null && params.frequency_penalty !== 0) {
    untranslatable('frequency_penalty', 'Anthropic has no frequency penalty; set it to 0 or leave it out');
  }
  if (params.presence_penalty != null && params.presence_penalty !== 0) {
    untranslatable('presence_penalty', 'Anthropic has no presence penalty; set it to 0 or leave it out');
  }
  if (params.logit_bias != null && Object.keys(params.logit_bias).length > 0) {
    untranslatable('logit_bias', 'Anthropic has no logit bias; remove logit_bias');
  }
  if (params.modalities?.some((modality) => modality !== 'text')) {
    untranslatable('modalities', 'Anthropic answers in text only; ask for ["text"] or route to an OpenAI target');
  }
}

function userIdOf(params: Params): string | undefined {
  const { user, safety_identifier: safetyIdentifier } = params;
  if (user != null && safetyIdentifier != null && user !== safetyIdentifier) {
    untranslatable(
      'safety_identifier',
      'Anthropic takes one user id (metadata.user_id); set user or safety_identifier',
    );
  }
  return safetyIdentifier ?? user ?? undefined;
}

function translateOutputConfig(params: Params): Anthropic.OutputConfig | undefined {
  const config: Anthropic.OutputConfig = {};
  const format = params.response_format;
  if (format != null && format.type !== 'text') {
    if (format.type === 'json_object') {
      untranslatable(
        'response_format.type',
        'Anthropic has no free-form JSON mode; use response_format json_schema with a schema',
      );
    }
    if (format.json_schema.description != null) {
      untranslatable(
        'response_format.json_schema.description',
        'Anthropic takes the schema only; move the description into the schema or the prompt',
      );
    }
    if (format.json_schema.schema == null) {
      untranslatable('response_format.json_schema.schema', 'Anthropic needs a JSON schema to constrain the output');
    }
    // `strict: false` asks for best effort; Anthropic always constrains, which satisfies it too.
    config.format = { type: 'json_schema', schema: format.json_schema.schema };
  }
  const effort = params.reasoning_effort;
  if (effort != null) {
    if (!effortLevels.has(effort)) {
      untranslatable('reasoning_effort', `Anthropic has no "${effort}" effort; use low, medium, high, xhigh or max`);
    }
    config.effort = effort as Anthropic.OutputConfig['effort'];
  }
  return config.format === undefined && config.effort === undefined ? undefined : config;
}

function translateTool(tool: OpenAI.Chat.ChatCompletionTool, index: number): Anthropic.Tool {
  const field = `tools[${index}]`;
  if (tool.type !== 'function') {
    untranslatable(`${field}.type`, 'Anthropic supports function tools only; describe the tool with a JSON schema');
  }
  const { name, description, parameters, strict } = tool.function;
  if (parameters !== undefined && parameters.type !== 'object') {
    untranslatable(`${field}.function.parameters.type`, 'Anthropic tool input must be a JSON schema of type object');
  }
  const translated: Anthropic.Tool = {
    name,
    input_schema: (parameters ?? { type: 'object', properties: {} }) as Anthropic.Tool.InputSchema,
  };
  if (description !== undefined) translated.description = description;
  if (strict != null) translated.strict = strict;
  return translated;
}

function translateToolChoice(params: Params): Anthropic.ToolChoice | undefined {
  const choice = params.tool_choice;
  const disableParallel = params.parallel_tool_calls === false;
  let translated: Anthropic.ToolChoice;
  if (choice === undefined) {
    // Without tools there is nothing to choose; Anthropic refuses a tool_choice with no tools.
    if (!disableParallel || !params.tools || params.tools.length === 0) return undefined;
    translated = { type: 'auto' };
  } else if (choice === 'auto') translated = { type: 'auto' };
  else if (choice === 'none') return { type: 'none' };
  else if (choice === 'required') translated = { type: 'any' };
  else if (choice.type === 'function') translated = { type: 'tool', name: choice.function.name };
  else {
    untranslatable(
      `tool_choice.type`,
      `"${choice.type}" has no Anthropic equivalent; use auto, none, required or a function`,
    );
  }
  if (disableParallel) translated.disable_parallel_tool_use = true;
  return translated;
}

type UserBlock = Anthropic.ContentBlockParam;

interface TranslatedMessages {
  system: string | Anthropic.TextBlockParam[] | undefined;
  messages: Anthropic.MessageParam[];
}

function translateMessages(input: readonly OpenAI.Chat.ChatCompletionMessageParam[]): TranslatedMessages {
  const systemParts: Anthropic.TextBlockParam[] = [];
  const messages: Anthropic.MessageParam[] = [];
  let conversationStarted = false;

  input.forEach((message, index) => {
    const field = `messages[${index}]`;
    if (message.role !== 'function' && 'name' in message && message.name != null) {
      untranslatable(`${field}.name`, 'Anthropic messages have no participant name; put it in the content');
    }
    switch (message.role) {
      case 'system':
      case 'developer': {
        const blocks = systemTextBlocks(message.content, `${field}.content`);
        if (!conversationStarted) systemParts.push(...blocks);
        else messages.push({ role: 'system', content: blocks });
        return;
      }
      case 'user':
        conversationStarted = true;
        append(messages, 'user', userContent(message.content, `${field}.content`));
        return;
      case 'assistant': {
        conversationStarted = true;
        const content = assistantContent(message, field);
        if (content.length > 0) append(messages, 'assistant', content);
        return;
      }
      case 'tool': {
        conversationStarted = true;
        const result: Anthropic.ToolResultBlockParam = {
          type: 'tool_result',
          tool_use_id: message.tool_call_id,
          content:
            typeof message.content === 'string'
              ? message.content
              : message.content.map((part, partIndex) => textBlock(part, `${field}.content[${partIndex}]`)),
        };
        append(messages, 'user', [result]);
        return;
      }
      case 'function':
        untranslatable(`${field}.role`, 'the deprecated function role is not translated; use tool messages');
        return;
      default:
        untranslatable(`${field}.role`, `unknown role "${(message as { role: string }).role}"`);
    }
  });

  let system: TranslatedMessages['system'];
  if (systemParts.length > 0) {
    // A cache breakpoint marks a position inside the prompt, so keep blocks when one is set.
    system = systemParts.some((part) => part.cache_control)
      ? systemParts
      : systemParts.map((part) => part.text).join('\n\n');
  }
  return { system, messages };
}

/** Adds a turn, merging it into the previous one when the role repeats: Anthropic requires alternation. */
function append(messages: Anthropic.MessageParam[], role: 'user' | 'assistant', content: string | UserBlock[]): void {
  const previous = messages.at(-1);
  if (previous === undefined || previous.role !== role) {
    messages.push({ role, content });
    return;
  }
  previous.content = [...asBlocks(previous.content), ...asBlocks(content)];
}

function asBlocks(content: string | UserBlock[]): UserBlock[] {
  return typeof content === 'string' ? [{ type: 'text', text: content }] : content;
}

function systemTextBlocks(
  content: string | OpenAI.Chat.ChatCompletionContentPartText[],
  field: string,
): Anthropic.TextBlockParam[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return content.map((part, index) => textBlock(part, `${field}[${index}]`));
}

function textBlock(part: OpenAI.Chat.ChatCompletionContentPartText, field: string): Anthropic.TextBlockParam {
  if (part.type !== 'text') untranslatable(`${field}.type`, `"${String(part.type)}" parts are not allowed here`);
  const block: Anthropic.TextBlockParam = { type: 'text', text: part.text };
  if (part.prompt_cache_breakpoint) block.cache_control = breakpoint;
  return block;
}

function userContent(content: string | OpenAI.Chat.ChatCompletionContentPart[], field: string): string | UserBlock[] {
  if (typeof content === 'string') return content;
  return content.map((part, index): UserBlock => {
    const partField = `${field}[${index}]`;
    switch (part.type) {
      case 'text':
        return textBlock(part, partField);
      case 'image_url':
        return imageBlock(part, partField);
      case 'input_audio':
        return untranslatable(`${partField}.type`, 'Anthropic does not accept audio input; transcribe it to text');
      case 'file':
        return untranslatable(
          `${partField}.type`,
          'file parts are not translated; send text or images, or route to an OpenAI target',
        );
      default:
        return untranslatable(`${partField}.type`, `unknown content part "${(part as { type: string }).type}"`);
    }
  });
}

function imageBlock(part: OpenAI.Chat.ChatCompletionContentPartImage, field: string): Anthropic.ImageBlockParam {
  // `detail` only trades resolution for cost on OpenAI; Anthropic sizes images itself.
  const url = part.image_url.url;
  let source: Anthropic.ImageBlockParam['source'];
  if (url.startsWith('data:')) {
    const { mediaType, data } = parseDataUrl(url, `${field}.image_url.url`);
    if (!imageMediaTypes.has(mediaType)) {
      untranslatable(`${field}.image_url.url`, `Anthropic accepts JPEG, PNG, GIF and WebP images, not ${mediaType}`);
    }
    source = { type: 'base64', media_type: mediaType as Anthropic.Base64ImageSource['media_type'], data };
  } else if (url.startsWith('https://') || url.startsWith('http://')) {
    source = { type: 'url', url };
  } else {
    untranslatable(`${field}.image_url.url`, 'use an http(s) URL or a base64 data URL');
  }
  const block: Anthropic.ImageBlockParam = { type: 'image', source };
  if (part.prompt_cache_breakpoint) block.cache_control = breakpoint;
  return block;
}

function assistantContent(message: OpenAI.Chat.ChatCompletionAssistantMessageParam, field: string): UserBlock[] {
  if (message.audio != null) {
    untranslatable(`${field}.audio`, 'Anthropic cannot replay audio turns; send the transcript as content');
  }
  if (message.function_call != null) {
    untranslatable(`${field}.function_call`, 'the deprecated functions API is not translated; use tool_calls');
  }
  const blocks: UserBlock[] = [];
  const { content } = message;
  if (typeof content === 'string') {
    // Anthropic refuses empty text blocks; an empty string says nothing.
    if (content !== '') blocks.push({ type: 'text', text: content });
  } else if (content != null) {
    for (const part of content) {
      // A refusal in history is what the assistant said; Anthropic keeps it as text.
      const text = part.type === 'refusal' ? part.refusal : part.text;
      if (text !== '') blocks.push({ type: 'text', text });
    }
  }
  if (message.refusal != null && message.refusal !== '') blocks.push({ type: 'text', text: message.refusal });
  message.tool_calls?.forEach((call, index) => {
    const callField = `${field}.tool_calls[${index}]`;
    if (call.type !== 'function') {
      untranslatable(`${callField}.type`, 'Anthropic supports function tool calls only');
    }
    blocks.push({
      type: 'tool_use',
      id: call.id,
      name: call.function.name,
      input: parseArguments(call.function.arguments, `${callField}.function.arguments`),
    });
  });
  return blocks;
}
