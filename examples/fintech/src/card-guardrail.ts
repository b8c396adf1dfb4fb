/**
 * TEMPORARY stand-in for the models layer's `piiGuardrail({ detectors: ['card'], phase: 'output' })`, which is
 * written (`packages/models/src/guardrails/`) but not yet exported from `@gatehouse/models`. Replace this file
 * with that one line once it is. It redacts card numbers (Luhn-checked, by core's detector) from complete
 * chat-completion answers only; the real guardrail also covers inputs, Anthropic messages and streams.
 */
import { detectorsById, redact } from '@gatehouse/core';
import type { ModelMiddleware } from '@gatehouse/models';

const detectors = [detectorsById.card!];

export function cardRedactionGuardrail(): ModelMiddleware {
  return async (_context, next) => {
    const result = await next();
    if (result.type !== 'response' || !Array.isArray(result.data?.choices)) return result;
    for (const choice of result.data.choices) {
      const content = choice?.message?.content;
      if (typeof content === 'string') choice.message.content = redact(content, { detectors }).text;
    }
    return result;
  };
}
