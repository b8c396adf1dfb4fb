import { parseOptions } from '@gatehouse/core';
import { z } from 'zod';
import type { ModelContext } from '../context/index.js';
import type { GuardrailMiddleware, GuardrailPhase } from './report.js';
import { textGuardrail } from './text-guardrail.js';

/**
 * What a check answers: `true` (passes) or `false`, or `{ pass, reason }`. The reason is put in the error and
 * the event: say why, without quoting the text.
 */
export type GuardrailVerdict = boolean | { pass: boolean; reason?: string };

export interface CustomGuardrailOptions {
  /** The guardrail's name in errors, events and spans. */
  name: string;
  /** Sees the whole text: the request's texts joined by a blank line (input), or one message of the answer (output). */
  check: (
    text: string,
    context: ModelContext & { phase: 'input' | 'output' },
  ) => GuardrailVerdict | Promise<GuardrailVerdict>;
  /** `output` by default. */
  phase?: GuardrailPhase;
  /** `block` (default) throws `GuardrailError`; `flag` only reports. */
  action?: 'block' | 'flag';
}

const schema = z
  .object({
    name: z.string().min(1),
    check: z.function(),
    phase: z.enum(['input', 'output', 'both']).optional(),
    action: z.enum(['block', 'flag']).optional(),
  })
  .strict();

/**
 * A guardrail from your own function. On a stream the text of each message is held back until it is complete,
 * then checked, then released or cut.
 *
 * @example
 * customGuardrail({ name: 'no-competitors', check: (text) => !/\bAcme\b/.test(text) || { pass: false, reason: 'mentions a competitor' } });
 */
export function customGuardrail(options: CustomGuardrailOptions): GuardrailMiddleware {
  parseOptions(schema, options, 'customGuardrail');
  const { check } = options;
  return textGuardrail({
    name: options.name,
    phase: options.phase ?? 'output',
    action: options.action ?? 'block',
    async check(text, context, phase) {
      const verdict = await check(text, { ...context, phase });
      if (typeof verdict === 'boolean') return { pass: verdict };
      return { pass: verdict.pass === true, reason: verdict.reason };
    },
  });
}
