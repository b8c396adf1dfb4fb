import type { ModelApi } from '../context/index.js';

/** What a piece of text is: prose the model or the user wrote, or the arguments of a tool call. */
export type TextKind = 'text' | 'tool-arguments';

/** Answers the text to put in place of `text` (the same string when nothing changes). */
export type TextMapper = (text: string, kind: TextKind) => string;

// Copy on write: a request or an answer is rebuilt only along the paths where a text changed, so the caller's
// objects are never mutated and an unchanged body stays the very same object (no allocation on the clean path).

function mapArray(items: readonly any[], map: (item: any) => any): readonly any[] {
  let copy: any[] | undefined;
  for (let index = 0; index < items.length; index++) {
    const before = items[index];
    const after = map(before);
    if (after !== before) {
      copy ??= items.slice();
      copy[index] = after;
    }
  }
  return copy ?? items;
}

/**
 * `object` with `key` set to `after`, copied only when `after` is not `before` (the field's value as the caller
 * read it by name: a keyed read here would meet every shape of every caller at one site).
 */
function withField(object: any, key: string, before: unknown, after: unknown): any {
  return after === before ? object : { ...object, [key]: after };
}

function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null;
}

/** A string, or an array of parts of which those with `types` carry a `text`. */
function mapContent(content: unknown, types: ReadonlySet<string>, map: TextMapper): unknown {
  if (typeof content === 'string') return map(content, 'text');
  if (!Array.isArray(content)) return content;
  return mapArray(content, (part) =>
    isObject(part) && types.has(part.type) && typeof part.text === 'string'
      ? withField(part, 'text', part.text, map(part.text, 'text'))
      : part,
  );
}

const chatParts = new Set(['text']);
const responsesParts = new Set(['input_text', 'output_text']);
const anthropicBlocks = new Set(['text']);

/** Every string leaf of a JSON-like value (a tool call's parsed input), mapped. */
function mapLeaves(value: unknown, map: TextMapper, depth = 0): unknown {
  if (typeof value === 'string') return map(value, 'tool-arguments');
  if (depth > 32 || !isObject(value)) return value;
  if (Array.isArray(value)) return mapArray(value, (item) => mapLeaves(item, map, depth + 1));
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const after = mapLeaves(value[key], map, depth + 1);
    if (after !== value[key]) {
      copy ??= { ...value };
      copy[key] = after;
    }
  }
  return copy ?? value;
}

function mapAnthropicContent(content: unknown, map: TextMapper): unknown {
  if (typeof content === 'string') return map(content, 'text');
  if (!Array.isArray(content)) return content;
  return mapArray(content, (block) => {
    if (!isObject(block)) return block;
    if (block.type === 'text' && typeof block.text === 'string')
      return withField(block, 'text', block.text, map(block.text, 'text'));
    if (block.type === 'tool_result')
      return withField(block, 'content', block.content, mapContent(block.content, anthropicBlocks, map));
    return block;
  });
}

/**
 * The request body with every text the caller sends the model mapped: OpenAI chat `messages[].content`
 * (strings and text parts), responses `instructions` and `input` (a string, or items with string content,
 * `input_text`/`output_text` parts and function call outputs), Anthropic `system` and `messages[].content`
 * (strings, text blocks, tool results), embeddings `input`. Answers `body` itself when nothing changed.
 */
export function mapInputText(api: ModelApi, body: Record<string, any>, map: TextMapper): Record<string, any> {
  switch (api) {
    case 'chat': {
      // The hot path of every guarded chat call: a loop, no closure per call.
      const messages = body.messages;
      if (!Array.isArray(messages)) return body;
      let copy: any[] | undefined;
      for (let index = 0; index < messages.length; index++) {
        const message = messages[index];
        if (!isObject(message)) continue;
        const content = message.content;
        const after = typeof content === 'string' ? map(content, 'text') : mapContent(content, chatParts, map);
        if (after !== content) (copy ??= messages.slice())[index] = { ...message, content: after };
      }
      return copy === undefined ? body : { ...body, messages: copy };
    }
    case 'responses': {
      let next = body;
      if (typeof body.instructions === 'string')
        next = withField(next, 'instructions', next.instructions, map(body.instructions, 'text'));
      const input = body.input;
      if (typeof input === 'string') return withField(next, 'input', next.input, map(input, 'text'));
      if (!Array.isArray(input)) return next;
      const items = mapArray(input, (item) => {
        if (!isObject(item)) return item;
        if (item.type === 'function_call_output' && typeof item.output === 'string')
          return withField(item, 'output', item.output, map(item.output, 'text'));
        if (item.content === undefined) return item;
        return withField(item, 'content', item.content, mapContent(item.content, responsesParts, map));
      });
      return withField(next, 'input', next.input, items);
    }
    case 'messages': {
      let next = body;
      if (body.system !== undefined)
        next = withField(next, 'system', next.system, mapContent(body.system, anthropicBlocks, map));
      if (!Array.isArray(body.messages)) return next;
      const messages = mapArray(body.messages, (message) =>
        isObject(message)
          ? withField(message, 'content', message.content, mapAnthropicContent(message.content, map))
          : message,
      );
      return withField(next, 'messages', next.messages, messages);
    }
    case 'embeddings': {
      const input = body.input;
      if (typeof input === 'string') return withField(body, 'input', body.input, map(input, 'text'));
      if (Array.isArray(input))
        return withField(
          body,
          'input',
          body.input,
          mapArray(input, (item) => (typeof item === 'string' ? map(item, 'text') : item)),
        );
      return body;
    }
    case 'count-tokens':
      // Counting tokens sends nothing to a model: guardrails leave it alone.
      return body;
  }
}

/** One OpenAI chat choice with its message's text and tool call arguments mapped. */
function mapChoice(choice: any, map: TextMapper): any {
  const message = choice?.message;
  if (!isObject(message)) return choice;
  let next = message;
  const content = message.content;
  if (typeof content === 'string') next = withField(next, 'content', content, map(content, 'text'));
  const calls = message.tool_calls;
  if (Array.isArray(calls))
    next = withField(
      next,
      'tool_calls',
      calls,
      mapArray(calls, (call) => {
        const fn = call?.function;
        const args = fn?.arguments;
        return typeof args === 'string'
          ? withField(call, 'function', fn, withField(fn, 'arguments', args, map(args, 'tool-arguments')))
          : call;
      }),
    );
  return withField(choice, 'message', message, next);
}

/** The `output_text` the OpenAI SDK derives from a response: its `output_text` parts, joined. */
function joinOutputText(output: readonly any[]): string {
  let text = '';
  for (const item of output)
    if (item?.type === 'message' && Array.isArray(item.content))
      for (const part of item.content) if (part?.type === 'output_text') text += part.text;
  return text;
}

/**
 * The answer with every text the model produced mapped, in the caller's shape: OpenAI chat
 * `choices[].message.content` and tool call `arguments`, responses `output[]` text parts and function call
 * `arguments` (and `output_text`, rebuilt from them), Anthropic text blocks and the string leaves of
 * `tool_use.input`. Answers `data` itself when nothing changed.
 */
export function mapOutputText(api: ModelApi, data: any, map: TextMapper): any {
  if (!isObject(data)) return data;
  switch (api) {
    case 'chat': {
      const choices = data.choices;
      if (!Array.isArray(choices)) return data;
      let copy: any[] | undefined;
      for (let index = 0; index < choices.length; index++) {
        const choice = choices[index];
        const after = mapChoice(choice, map);
        if (after !== choice) (copy ??= choices.slice())[index] = after;
      }
      return copy === undefined ? data : { ...data, choices: copy };
    }
    case 'responses': {
      if (!Array.isArray(data.output)) return data;
      const output = mapArray(data.output, (item) => {
        if (!isObject(item)) return item;
        if (item.type === 'function_call' && typeof item.arguments === 'string')
          return withField(item, 'arguments', item.arguments, map(item.arguments, 'tool-arguments'));
        if (item.type === 'message')
          return withField(item, 'content', item.content, mapContent(item.content, responsesParts, map));
        return item;
      });
      if (output === data.output) return data;
      const next: Record<string, any> = { ...data, output };
      if (typeof data.output_text === 'string') next.output_text = joinOutputText(output);
      return next;
    }
    case 'messages': {
      if (!Array.isArray(data.content)) return data;
      const content = mapArray(data.content, (block) => {
        if (!isObject(block)) return block;
        if (block.type === 'text' && typeof block.text === 'string')
          return withField(block, 'text', block.text, map(block.text, 'text'));
        if (block.type === 'tool_use') return withField(block, 'input', block.input, mapLeaves(block.input, map));
        return block;
      });
      return withField(data, 'content', data.content, content);
    }
    default:
      return data;
  }
}

/** Calls `visit` on each text of the request, without changing it. */
export function forEachInputText(
  api: ModelApi,
  body: Record<string, any>,
  visit: (text: string, kind: TextKind) => void,
) {
  mapInputText(api, body, (text, kind) => {
    visit(text, kind);
    return text;
  });
}

/**
 * The answer's message text, one string per message (per choice for OpenAI chat), for checks that judge a
 * whole answer (a schema, a custom check, a judge).
 */
export function outputMessages(api: ModelApi, data: any): string[] {
  if (!isObject(data)) return [];
  switch (api) {
    case 'chat':
      return Array.isArray(data.choices)
        ? data.choices.map((choice: any) =>
            typeof choice?.message?.content === 'string' ? choice.message.content : '',
          )
        : [];
    case 'responses':
      return [Array.isArray(data.output) ? joinOutputText(data.output) : ''];
    case 'messages': {
      let text = '';
      if (Array.isArray(data.content))
        for (const block of data.content)
          if (block?.type === 'text' && typeof block.text === 'string') text += block.text;
      return [text];
    }
    default:
      return [];
  }
}
