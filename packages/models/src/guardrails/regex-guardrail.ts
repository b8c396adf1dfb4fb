import { ConfigError, type Detector, defineDetector, GatehouseError, parseOptions } from '@gatehouse/core';
import { z } from 'zod';
import { findingGuardrail, type Replacement } from './finding-guardrail.js';
import type { GuardrailAction, GuardrailMiddleware, GuardrailPhase } from './report.js';

/** A deny rule: a pattern, or a pattern with the id that errors and events report (`deny-<index>` otherwise). */
export type DenyRule = RegExp | { id: string; pattern: RegExp };

export interface RegexGuardrailOptions {
  /** Text matching any of these trips the guardrail. */
  deny: readonly DenyRule[];
  /** Exceptions: a denied match that one of these also matches is let through (`/\b555-\d{4}\b/` in a phone rule). */
  allow?: readonly RegExp[];
  /** `block` (default) throws `GuardrailError`, `redact` replaces the match with `[REDACTED:<rule id>]`, `flag` only reports. */
  action?: GuardrailAction;
  /** `both` by default. */
  phase?: GuardrailPhase;
  /** `regex` by default. */
  name?: string;
  /**
   * The longest text a rule with an unbounded quantifier (`+`, `*`) can match in a stream, where matches are
   * caught across chunks within this window; 256 by default. Bounded rules use their own bound.
   */
  maxLength?: number;
  replacement?: Replacement;
}

const schema = z
  .object({
    deny: z
      .array(z.union([z.instanceof(RegExp), z.object({ id: z.string(), pattern: z.instanceof(RegExp) }).strict()]))
      .min(1),
    allow: z.array(z.instanceof(RegExp)).optional(),
    action: z.enum(['block', 'redact', 'flag']).optional(),
    phase: z.enum(['input', 'output', 'both']).optional(),
    name: z.string().min(1).optional(),
    maxLength: z.number().int().positive().optional(),
    replacement: z.function().optional(),
  })
  .strict();

/**
 * Regular-expression deny list with allowed exceptions, on input and output (streams included: a match split
 * across chunks is caught). Patterns are compiled once here; the ids of the rules that matched are reported,
 * never the text.
 *
 * @example
 * regexGuardrail({ deny: [{ id: 'internal-host', pattern: /\b[a-z0-9-]+\.corp\.example\.com\b/ }], allow: [/\bwww\.corp/] });
 */
export function regexGuardrail(options: RegexGuardrailOptions): GuardrailMiddleware {
  parseOptions(schema, options, 'regexGuardrail');
  // Non-global copies: `test` on a global pattern would carry `lastIndex` from one call to the next.
  const allow = (options.allow ?? []).map((pattern) => new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')));
  const allowed = allow.length === 0 ? undefined : (match: string) => !allow.some((pattern) => pattern.test(match));
  const detectors: Detector[] = options.deny.map((rule, index) => {
    const id = rule instanceof RegExp ? `deny-${index}` : rule.id;
    const pattern = rule instanceof RegExp ? rule : rule.pattern;
    const define = (maxLength: number | undefined) =>
      defineDetector({ id, kind: 'secret', label: `Denied pattern ${id}`, pattern, validate: allowed, maxLength });
    try {
      try {
        return define(undefined);
      } catch (error) {
        // An unbounded pattern gets the stream window; any other problem is reported below.
        if (GatehouseError.isInstance(error) && /any length/.test(error.message))
          return define(options.maxLength ?? 256);
        throw error;
      }
    } catch (error) {
      throw new ConfigError({
        message: `Invalid options: regexGuardrail.deny.${index}: ${(error as Error).message}`,
        path: `regexGuardrail.deny.${index}`,
        cause: error,
      });
    }
  });
  return findingGuardrail({
    name: options.name ?? 'regex',
    phase: options.phase ?? 'both',
    action: options.action ?? 'block',
    detectors,
    replacement: options.replacement,
  });
}
