import { secretDetectors } from '@gatehouse/core';
import { type DetectorGuardrailOptions, resolveDetectorOptions } from './detector-options.js';
import { findingGuardrail } from './finding-guardrail.js';
import type { GuardrailMiddleware } from './report.js';

/**
 * Credentials (provider API keys, GitHub, Slack, Stripe and AWS keys, private keys, JWTs, bearer tokens) in what
 * is sent to the model and in what comes back, tool call arguments included, streams included. Blocks by default.
 *
 * @example
 * models({ guardrails: [secretGuardrail({ action: 'block', phase: 'input' })] });
 */
export function secretGuardrail(options: DetectorGuardrailOptions = {}): GuardrailMiddleware {
  const resolved = resolveDetectorOptions(options, secretDetectors, 'secretGuardrail');
  return findingGuardrail({
    name: resolved.name ?? 'secrets',
    phase: resolved.phase,
    action: resolved.action ?? 'block',
    detectors: resolved.detectors,
    replacement: options.replacement,
  });
}
