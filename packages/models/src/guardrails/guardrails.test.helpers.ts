import Anthropic from '@anthropic-ai/sdk';
import { createGateway, GuardrailError } from '@gatehouse/core';
import { captureEvents } from '@gatehouse/core/testing';
import OpenAI from 'openai';
import { expect } from 'vitest';
import type { ModelMiddleware } from '../context/index.js';
import { models } from '../layer/index.js';
import type { ProviderServer } from '../testing/index.js';

/** A Luhn-valid test card number and an OpenAI-shaped key: what the detectors must never let out. */
export const card = '4111 1111 1111 1111';
export const apiKey = 'sk-proj-Ab3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z';

export const user = (content: string) => [{ role: 'user' as const, content }];

/** A gateway with these middleware over real SDK clients pointed at the test server; events captured. */
export function setup(server: ProviderServer, middleware: ModelMiddleware[]) {
  const rawOpenai = new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'test', maxRetries: 0 });
  const rawAnthropic = new Anthropic({ baseURL: server.anthropicBaseURL, apiKey: 'test', maxRetries: 0 });
  const gateway = createGateway({ models: models({ middleware }) });
  const events = captureEvents(gateway.events);
  return {
    gateway,
    openai: gateway.wrap(rawOpenai),
    anthropic: gateway.wrap(rawAnthropic),
    events,
    /** The `guardrail-triggered` events. */
    trips: () => events.events.filter((event) => event.type === ('guardrail-triggered' as string)) as any[],
  };
}

/** Awaits `run`, expecting a `GuardrailError` from `guardrail` in `phase`. */
export async function expectBlocked(run: () => Promise<unknown>, guardrail: string, phase: 'input' | 'output') {
  const error = await run().then(
    () => undefined,
    (caught) => caught,
  );
  expect(GuardrailError.isInstance(error), `expected a GuardrailError, got ${error}`).toBe(true);
  expect(error).toMatchObject({ code: 'GATEHOUSE_GUARDRAIL', guardrail, phase });
  return error as GuardrailError;
}

/** Reads a stream to its end or its error: what the caller received, and the error. */
export async function drain<T>(stream: AsyncIterable<T>, text: (chunk: T) => string) {
  let received = '';
  let error: unknown;
  try {
    for await (const chunk of stream) received += text(chunk);
  } catch (caught) {
    error = caught;
  }
  return { received, error };
}
