import { piiDetectors } from '@gatehouse/core';
import { type DetectorGuardrailOptions, resolveDetectorOptions } from './detector-options.js';
import { findingGuardrail } from './finding-guardrail.js';
import type { GuardrailMiddleware } from './report.js';

/**
 * Personal data (email, phone, card numbers with Luhn, IBAN, national ids) in what is sent to the model and in
 * what comes back, streams included. Redacts by default.
 *
 * @example
 * models({ guardrails: [piiGuardrail({ detectors: ['email', 'card'], action: 'redact', phase: 'output' })] });
 */
export function piiGuardrail(options: DetectorGuardrailOptions = {}): GuardrailMiddleware {
  const resolved = resolveDetectorOptions(options, piiDetectors, 'piiGuardrail');
  return findingGuardrail({
    name: resolved.name ?? 'pii',
    phase: resolved.phase,
    action: resolved.action ?? 'redact',
    detectors: resolved.detectors,
    replacement: options.replacement,
  });
}
