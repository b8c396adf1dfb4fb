import type { FinishReason, ScriptedAnswer } from './reply.js';

/** What an endpoint reads from a request to derive a default answer and its usage. */
export interface RequestFacts {
  /** The text of the last user (or tool result) message; the default answer echoes it. */
  lastUserText: string;
  /** All input text, for the derived input token count. */
  inputText: string;
  /** The request's output limit (`max_tokens`, `max_completion_tokens`, `max_output_tokens`). */
  maxOutputTokens?: number;
}

export interface ResolvedToolCall {
  id?: string;
  name: string;
  /** JSON text, as OpenAI sends it. */
  arguments: string;
  /** `arguments` split over several stream deltas. */
  argumentChunks: string[];
}

/** A neutral answer with every field filled in, ready to render. */
export interface ResolvedAnswer {
  text: string;
  textChunks: string[];
  toolCalls: ResolvedToolCall[];
  finishReason: FinishReason;
  usage: {
    inputTokens: number;
    outputTokens: number;
    cacheReadTokens: number;
    cacheWriteTokens: number;
    reasoningTokens: number;
  };
}

/** The kit's token estimate: about four characters a token. */
export function countTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

const wordPattern = /^\s+|\S+\s*/g;

/** Splits text into word-sized stream deltas ("Echo: ", "hello ", "world"). */
export function splitWords(text: string): string[] {
  return text.match(wordPattern) ?? [];
}

/** Splits JSON text into three pieces or fewer, so clients must accumulate argument deltas. */
export function splitArguments(json: string): string[] {
  if (json.length === 0) return [''];
  const size = Math.max(1, Math.ceil(json.length / 3));
  const pieces: string[] = [];
  for (let start = 0; start < json.length; start += size) pieces.push(json.slice(start, start + size));
  return pieces;
}

/** Fills in a scripted answer (or the default echo) from the request's facts. */
export function resolveAnswer(scripted: ScriptedAnswer | undefined, facts: RequestFacts): ResolvedAnswer {
  let text = scripted ? (scripted.text ?? '') : `Echo: ${facts.lastUserText}`;
  let finishReason = scripted?.finishReason;
  // The default answer honours the output limit the way a model does: cut short, finish reason `length`.
  if (!scripted && facts.maxOutputTokens !== undefined && countTokens(text) > facts.maxOutputTokens) {
    text = text.slice(0, Math.max(0, facts.maxOutputTokens * 4));
    finishReason = 'length';
  }
  const toolCalls = (scripted?.toolCalls ?? []).map((call) => {
    const json = typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments ?? {});
    return { id: call.id, name: call.name, arguments: json, argumentChunks: splitArguments(json) };
  });
  const chunks = scripted?.chunks;
  const usage = scripted?.usage ?? {};
  const outputText = text + toolCalls.map((call) => call.name + call.arguments).join('');
  return {
    text,
    textChunks: chunks ?? splitWords(text),
    toolCalls,
    finishReason: finishReason ?? (toolCalls.length > 0 ? 'tool-calls' : 'stop'),
    usage: {
      inputTokens: usage.inputTokens ?? Math.max(1, countTokens(facts.inputText)),
      outputTokens: usage.outputTokens ?? countTokens(outputText),
      cacheReadTokens: usage.cacheReadTokens ?? 0,
      cacheWriteTokens: usage.cacheWriteTokens ?? 0,
      reasoningTokens: usage.reasoningTokens ?? 0,
    },
  };
}

/** Collects the text of a message `content` that is a string or a list of parts (`text`, `input_text`, `tool_result` …). */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const texts: string[] = [];
  for (const part of content) {
    if (typeof part !== 'object' || part === null) continue;
    if (typeof part.text === 'string') texts.push(part.text);
    else if (part.type === 'tool_result') texts.push(contentText(part.content));
  }
  return texts.join('\n');
}
