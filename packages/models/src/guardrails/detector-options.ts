import { ConfigError, type Detector, detectorsById, parseOptions } from '@gatehouse/core';
import { z } from 'zod';
import type { Replacement } from './finding-guardrail.js';
import type { GuardrailAction, GuardrailPhase } from './report.js';

/** Options shared by `piiGuardrail` and `secretGuardrail`. */
export interface DetectorGuardrailOptions {
  /** Built-in detector ids (`'email'`, `'card'`, `'openai-key'` …) or detectors from `defineDetector`. Defaults to the guardrail's whole family. */
  detectors?: readonly (string | Detector)[];
  /** `block` throws `GuardrailError`, `redact` replaces the text, `flag` only reports. */
  action?: GuardrailAction;
  /** Which side to check; `both` by default. */
  phase?: GuardrailPhase;
  /** The guardrail's name in errors, events and spans. */
  name?: string;
  /** The text put in place of a finding when redacting; defaults to `[REDACTED:<detector id>]`. */
  replacement?: Replacement;
}

const schema = z
  .object({
    detectors: z
      .array(z.union([z.string(), z.object({ id: z.string(), pattern: z.instanceof(RegExp) }).loose()]))
      .optional(),
    action: z.enum(['block', 'redact', 'flag']).optional(),
    phase: z.enum(['input', 'output', 'both']).optional(),
    name: z.string().min(1).optional(),
    replacement: z.function().optional(),
  })
  .strict();

/** Validates the options and resolves detector ids, once, at set-up. */
export function resolveDetectorOptions(
  options: DetectorGuardrailOptions,
  family: readonly Detector[],
  prefix: string,
): { detectors: Detector[]; action: GuardrailAction | undefined; phase: GuardrailPhase; name: string | undefined } {
  parseOptions(schema, options, prefix);
  const detectors = (options.detectors ?? family).map((entry, index) => {
    if (typeof entry !== 'string') return entry;
    const detector = detectorsById[entry];
    if (!detector)
      throw new ConfigError({
        message: `Invalid options: ${prefix}.detectors.${index}: no built-in detector "${entry}"; known ids are ${Object.keys(detectorsById).join(', ')}`,
        path: `${prefix}.detectors.${index}`,
      });
    return detector;
  });
  if (detectors.length === 0)
    throw new ConfigError({
      message: `Invalid options: ${prefix}.detectors: list at least one detector`,
      path: `${prefix}.detectors`,
    });
  return { detectors, action: options.action, phase: options.phase ?? 'both', name: options.name };
}
