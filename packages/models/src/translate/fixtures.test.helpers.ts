import type Anthropic from '@anthropic-ai/sdk';
import { TranslationError } from '@gatehouse/core';
import { expect } from 'vitest';

/** A newline-delimited JSON byte stream, the format both SDKs' `fromReadableStream` read. */
export function jsonLines(items: readonly unknown[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const item of items) controller.enqueue(encoder.encode(`${JSON.stringify(item)}\n`));
      controller.close();
    },
  });
}

/** Asserts that `run` throws a `TranslationError` for `field`, with a message that names it. */
export function expectTranslationError(run: () => unknown, field: string): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(TranslationError.isInstance(caught), `expected a TranslationError for ${field}`).toBe(true);
  const error = caught as TranslationError;
  expect(error.field).toBe(field);
  expect(error.code).toBe('GATEHOUSE_TRANSLATION');
  expect(error.message).toContain(field);
}

/** A complete Anthropic message with the fields the API always sends. */
export function anthropicMessage(overrides: Partial<Anthropic.Message>): Anthropic.Message {
  return {
    id: 'msg_01',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5',
    content: [],
    stop_reason: 'end_turn',
    stop_sequence: null,
    stop_details: null,
    container: null,
    diagnostics: null,
    usage: {
      input_tokens: 10,
      output_tokens: 5,
      cache_creation_input_tokens: null,
      cache_read_input_tokens: null,
      cache_creation: null,
      inference_geo: null,
      output_tokens_details: null,
      server_tool_use: null,
      service_tier: 'standard',
      speed: null,
    },
    ...overrides,
  };
}
