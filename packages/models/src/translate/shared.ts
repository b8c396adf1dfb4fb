import { TranslationError } from '@gatehouse/core';

/** Throws a `TranslationError` naming the field and saying what to change. */
export function untranslatable(field: string, message: string): never {
  throw new TranslationError({ field, message: `${field}: ${message}` });
}

/** Sampling parameters the Anthropic API accepts (deprecated) but the installed SDK's types no longer list. */
export interface AnthropicSamplingParams {
  temperature?: number;
  top_p?: number;
  top_k?: number;
}

export interface ParsedDataUrl {
  mediaType: string;
  data: string;
}

const base64Marker = ';base64,';

/**
 * Splits a `data:<media type>;base64,<data>` URL without a regular expression: image URLs can be megabytes
 * long, and a slice is all that is needed.
 */
export function parseDataUrl(url: string, field: string): ParsedDataUrl {
  const markerAt = url.indexOf(base64Marker);
  if (markerAt < 0) {
    untranslatable(field, 'only base64 data URLs (data:<media type>;base64,<data>) can be sent to Anthropic');
  }
  return { mediaType: url.slice(5, markerAt), data: url.slice(markerAt + base64Marker.length) };
}

/** Parses tool-call arguments; a model or a caller may send invalid JSON, which Anthropic cannot accept. */
export function parseArguments(text: string, field: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TranslationError({
      field,
      message: `${field}: tool call arguments are not valid JSON, and Anthropic needs a JSON object`,
      cause: error,
    });
  }
}

export function nowInSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
