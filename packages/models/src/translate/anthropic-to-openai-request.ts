import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { type AnthropicSamplingParams, untranslatable } from './shared.js';

export interface AnthropicToOpenAIRequestOptions {
  /** The OpenAI model to call (the route's target), which replaces the caller's `model`. */
  model: string;
}

type Params = Anthropic.MessageCreateParams & AnthropicSamplingParams;
type Key = keyof Params;
type OpenAIMessage = OpenAI.Chat.ChatCompletionMessageParam;
type OpenAIRequestBase = Omit<OpenAI.Chat.ChatCompletionCreateParamsNonStreaming, 'stream'> & { stream?: boolean };

const translatedKeys: ReadonlySet<string> = new Set<Key>([
  'model',
  'max_tokens',
  'messages',
  'system',
  'metadata',
  'stop_sequences',
  'stream',
  'temperature',
  'top_p',
  'top_k',
  'tools',
  'tool_choice',
  'thinking',
  'output_config',
]);

/** Keys accepted and not sent, each with why leaving it out does not change the answer. */
const ignoredKeys: Readonly<Partial<Record<Key, string>>> = {
  cache_control: 'a caching hint; OpenAI caches prompt prefixes on its own',
  service_tier: 'a capacity tier; the answer is the same',
  speed: 'an output speed mode; the answer is the same',
  diagnostics: 'asks Anthropic to explain cache misses; it does not change the answer',
};

/** Keys that cannot be carried, with what to do instead. */
const refusedKeys: Readonly<Partial<Record<Key, string>>> = {
  container: 'OpenAI has no code-execution container; remove `container` or route to an Anthropic target',
  inference_geo: 'OpenAI cannot honour an Anthropic inference region; route to an Anthropic target',
  user_profile_id: 'Anthropic user profiles do not exist on OpenAI; route to an Anthropic target',
  workspace_id: 'Anthropic workspaces do not exist on OpenAI; route to an Anthropic target',
};

const toolKeys: ReadonlySet<string> = new Set(['name', 'description', 'input_schema', 'strict', 'type']);
/** Tool keys accepted and not sent: both only tune how Anthropic caches or streams the tool. */
const ignoredToolKeys: ReadonlySet<string> = new Set(['cache_control', 'eager_input_streaming']);

const explicitBreakpoint = { mode: 'explicit' } as const;

/**
 * Translates an Anthropic Messages request into an OpenAI chat completion request: `system` becomes the
 * first message, `tool_result` blocks become `tool` messages right after the assistant turn that called
 * them, `tool_use` blocks become `tool_calls`. A streaming request asks for usage
 * (`stream_options.include_usage`), so the answer can report tokens as Anthropic does.
 */
export function anthropicToOpenAIRequest(
  params: Params,
  options: AnthropicToOpenAIRequestOptions,
): OpenAI.Chat.ChatCompletionCreateParams {
  for (const key of Object.keys(params)) {
    if (translatedKeys.has(key) || Object.hasOwn(ignoredKeys, key)) continue;
    const value = (params as unknown as Record<string, unknown>)[key];
    const refusal = refusedKeys[key as Key];
    if (refusal !== undefined) {
      if (value == null) continue;
      untranslatable(key, refusal);
    }
    untranslatable(key, 'unknown request field; remove it or route to an Anthropic target');
  }
  if (params.top_k != null) untranslatable('top_k', 'OpenAI has no top_k sampling; remove top_k or use top_p');
  if (params.thinking != null && params.thinking.type !== 'disabled') {
    untranslatable('thinking.type', 'extended thinking has no OpenAI chat completion equivalent; disable it');
  }

  const messages: OpenAIMessage[] = [];
  if (params.system !== undefined) messages.push(systemMessage(params.system, 'system'));
  params.messages.forEach((message, index) => {
    translateMessage(message, `messages[${index}]`, messages);
  });

  // Built on the base type: the streaming and non-streaming variants differ only in `stream`.
  const request: OpenAIRequestBase = {
    model: options.model,
    messages,
    max_completion_tokens: params.max_tokens,
  };
  if (params.stream) {
    request.stream = true;
    request.stream_options = { include_usage: true };
  }
  if (params.temperature != null) request.temperature = params.temperature;
  if (params.top_p != null) request.top_p = params.top_p;
  if (params.stop_sequences && params.stop_sequences.length > 0) request.stop = params.stop_sequences;
  if (params.metadata?.user_id != null) request.user = params.metadata.user_id;
  if (params.tools && params.tools.length > 0) request.tools = params.tools.map(translateTool);
  if (params.tool_choice !== undefined) translateToolChoice(params.tool_choice, request);

  const format = params.output_config?.format;
  if (format != null) {
    request.response_format = {
      type: 'json_schema',
      // OpenAI requires a name; Anthropic has none, so a fixed one stands in.
      json_schema: { name: 'response', schema: format.schema, strict: true },
    };
  }
  const effort = params.output_config?.effort;
  if (effort != null) request.reasoning_effort = effort;
  return request as OpenAI.Chat.ChatCompletionCreateParams;
}

function systemMessage(
  content: string | Anthropic.TextBlockParam[],
  field: string,
): OpenAI.Chat.ChatCompletionSystemMessageParam {
  if (typeof content === 'string') return { role: 'system', content };
  return { role: 'system', content: content.map((block, index) => textPart(block, `${field}[${index}]`)) };
}

function textPart(block: Anthropic.TextBlockParam, field: string): OpenAI.Chat.ChatCompletionContentPartText {
  if (block.type !== 'text') untranslatable(`${field}.type`, `"${String(block.type)}" blocks are not allowed here`);
  if (block.citations && block.citations.length > 0) {
    untranslatable(`${field}.citations`, 'OpenAI chat completions have no citations; remove them');
  }
  const part: OpenAI.Chat.ChatCompletionContentPartText = { type: 'text', text: block.text };
  if (block.cache_control) part.prompt_cache_breakpoint = explicitBreakpoint;
  return part;
}

function translateMessage(message: Anthropic.MessageParam, field: string, out: OpenAIMessage[]): void {
  if (message.role === 'system') {
    out.push(systemMessage(message.content, `${field}.content`));
    return;
  }
  if (message.role === 'assistant') {
    out.push(assistantMessage(message.content, `${field}.content`));
    return;
  }
  if (typeof message.content === 'string') {
    out.push({ role: 'user', content: message.content });
    return;
  }
  // OpenAI wants each tool result as its own `tool` message right after the assistant's tool calls, so
  // results go out first, then the rest of the user's turn.
  const parts: OpenAI.Chat.ChatCompletionContentPart[] = [];
  message.content.forEach((block, index) => {
    const blockField = `${field}.content[${index}]`;
    switch (block.type) {
      case 'tool_result':
        out.push(toolMessage(block, blockField));
        return;
      case 'text':
        parts.push(textPart(block, blockField));
        return;
      case 'image':
        parts.push(imagePart(block, blockField));
        return;
      default:
        untranslatable(`${blockField}.type`, unsupportedParamMessage(block.type));
    }
  });
  if (parts.length > 0) out.push({ role: 'user', content: parts });
}

function toolMessage(block: Anthropic.ToolResultBlockParam, field: string): OpenAI.Chat.ChatCompletionToolMessageParam {
  let content: string | OpenAI.Chat.ChatCompletionContentPartText[];
  if (block.content === undefined || typeof block.content === 'string') content = block.content ?? '';
  else {
    content = block.content.map((part, index) => {
      if (part.type !== 'text') {
        untranslatable(
          `${field}.content[${index}].type`,
          `OpenAI tool messages carry text only, not ${part.type}; return text from the tool`,
        );
      }
      return textPart(part, `${field}.content[${index}]`);
    });
  }
  // OpenAI tool messages have no error flag, so the failure is said in the text the model reads.
  if (block.is_error) {
    content = typeof content === 'string' ? `Error: ${content}` : [{ type: 'text', text: 'Error:' }, ...content];
  }
  return { role: 'tool', tool_call_id: block.tool_use_id, content };
}

function imagePart(block: Anthropic.ImageBlockParam, field: string): OpenAI.Chat.ChatCompletionContentPartImage {
  const { source } = block;
  let url: string;
  if (source.type === 'base64') url = `data:${source.media_type};base64,${source.data}`;
  else if (source.type === 'url') url = source.url;
  else {
    untranslatable(`${field}.source.type`, 'Anthropic file references cannot be read by OpenAI; send base64 or a URL');
  }
  if (block.transformations != null) {
    untranslatable(`${field}.transformations`, 'OpenAI cannot apply Anthropic image transformations; remove them');
  }
  const part: OpenAI.Chat.ChatCompletionContentPartImage = { type: 'image_url', image_url: { url } };
  if (block.cache_control) part.prompt_cache_breakpoint = explicitBreakpoint;
  return part;
}

function assistantMessage(
  content: string | Anthropic.ContentBlockParam[],
  field: string,
): OpenAI.Chat.ChatCompletionAssistantMessageParam {
  if (typeof content === 'string') return { role: 'assistant', content };
  let text: string | null = null;
  const toolCalls: OpenAI.Chat.ChatCompletionMessageFunctionToolCall[] = [];
  content.forEach((block, index) => {
    const blockField = `${field}[${index}]`;
    if (block.type === 'text') {
      textPart(block, blockField);
      text = (text ?? '') + block.text;
    } else if (block.type === 'tool_use') {
      toolCalls.push({
        id: block.id,
        type: 'function',
        function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
      });
    } else {
      untranslatable(`${blockField}.type`, unsupportedParamMessage(block.type));
    }
  });
  const message: OpenAI.Chat.ChatCompletionAssistantMessageParam = { role: 'assistant', content: text };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return message;
}

function unsupportedParamMessage(type: string): string {
  switch (type) {
    case 'document':
      return 'OpenAI chat completions do not take Anthropic documents; send the text or route to an Anthropic target';
    case 'thinking':
    case 'redacted_thinking':
      return `${type} blocks cannot be replayed to OpenAI; remove them from the history`;
    case 'image':
    case 'search_result':
      return `${type} blocks are not accepted here by OpenAI`;
    default:
      return `${type} blocks (server tools) have no OpenAI equivalent; use function tools`;
  }
}

function translateTool(tool: Anthropic.ToolUnion, index: number): OpenAI.Chat.ChatCompletionFunctionTool {
  const field = `tools[${index}]`;
  if (tool.type != null && tool.type !== 'custom') {
    untranslatable(`${field}.type`, `"${tool.type}" is an Anthropic server tool OpenAI cannot run; remove it`);
  }
  const custom = tool as Anthropic.Tool;
  for (const key of Object.keys(custom)) {
    if (toolKeys.has(key) || ignoredToolKeys.has(key)) continue;
    if ((custom as unknown as Record<string, unknown>)[key] == null) continue;
    untranslatable(`${field}.${key}`, 'OpenAI function tools have no such setting; remove it');
  }
  const definition: OpenAI.FunctionDefinition = {
    name: custom.name,
    parameters: custom.input_schema as OpenAI.FunctionParameters,
  };
  if (custom.description !== undefined) definition.description = custom.description;
  if (custom.strict !== undefined) definition.strict = custom.strict;
  return { type: 'function', function: definition };
}

function translateToolChoice(choice: Anthropic.ToolChoice, request: OpenAIRequestBase): void {
  switch (choice.type) {
    case 'auto':
      request.tool_choice = 'auto';
      break;
    case 'any':
      request.tool_choice = 'required';
      break;
    case 'none':
      request.tool_choice = 'none';
      return;
    case 'tool':
      request.tool_choice = { type: 'function', function: { name: choice.name } };
      break;
    default:
      untranslatable('tool_choice.type', `unknown tool_choice "${(choice as { type: string }).type}"`);
  }
  if (choice.disable_parallel_tool_use) request.parallel_tool_calls = false;
}
