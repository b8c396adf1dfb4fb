import { ConfigError, parseOptions } from '@gatehouse/core';
import { z } from 'zod';
import type { GuardrailMiddleware } from './report.js';
import { textGuardrail } from './text-guardrail.js';

export interface SchemaGuardrailOptions {
  /** `schema` by default. */
  name?: string;
  /** `block` (default) throws `GuardrailError`; `flag` only reports. */
  action?: 'block' | 'flag';
}

const optionsSchema = z
  .object({ name: z.string().min(1).optional(), action: z.enum(['block', 'flag']).optional() })
  .strict();

// A model often wraps JSON in a Markdown fence even when told not to.
const fence = /^\s*```(?:json)?\s*\n([\s\S]*?)\n?```\s*$/;

/** `$.items[0].price`: where in the answer the problem is. */
function pathOf(path: readonly PropertyKey[]): string {
  let text = '$';
  for (const key of path) text += typeof key === 'number' ? `[${key}]` : `.${String(key)}`;
  return text;
}

/**
 * The answer must be JSON valid against a zod schema (a Markdown code fence around it is accepted). A failure is
 * a `GuardrailError` naming the path (`$.items[0].price: Invalid input: expected number, received string`),
 * with the `ZodError` as its cause; invalid JSON is reported without quoting the text. On a stream each
 * message is held back until complete, then validated.
 *
 * @example
 * models({ guardrails: [schemaGuardrail(z.object({ verdict: z.enum(['approve', 'reject']) }))] });
 */
export function schemaGuardrail(schema: z.ZodType, options: SchemaGuardrailOptions = {}): GuardrailMiddleware {
  if (typeof (schema as { safeParse?: unknown })?.safeParse !== 'function')
    throw new ConfigError({
      message: 'Invalid options: schemaGuardrail: expected a zod schema',
      path: 'schemaGuardrail',
    });
  parseOptions(optionsSchema, options, 'schemaGuardrail');
  return textGuardrail({
    name: options.name ?? 'schema',
    phase: 'output',
    action: options.action ?? 'block',
    check(text) {
      let value: unknown;
      try {
        value = JSON.parse(fence.exec(text)?.[1] ?? text);
      } catch {
        // The parser's message quotes the text: it stays out of the error.
        return { pass: false, reason: 'the output is not valid JSON' };
      }
      const result = schema.safeParse(value);
      if (result.success) return { pass: true };
      const issue = result.error.issues[0]!;
      return { pass: false, reason: `${pathOf(issue.path)}: ${issue.message}`, cause: result.error };
    },
  });
}
