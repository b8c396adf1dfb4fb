// Guardrails on what goes to a model and what comes back, as models-layer middleware.
export { type CustomGuardrailOptions, customGuardrail, type GuardrailVerdict } from './custom-guardrail.js';
export type { DetectorGuardrailOptions } from './detector-options.js';
export type { Replacement } from './finding-guardrail.js';
export {
  type JudgeGuardrailOptions,
  judgeCallMetadataKey,
  judgeGuardrail,
  parseVerdict,
} from './judge-guardrail.js';
export { piiGuardrail } from './pii-guardrail.js';
export { type DenyRule, type RegexGuardrailOptions, regexGuardrail } from './regex-guardrail.js';
export type {
  GuardrailAction,
  GuardrailMiddleware,
  GuardrailPhase,
  GuardrailTriggeredEvent,
} from './report.js';
export { type SchemaGuardrailOptions, schemaGuardrail } from './schema-guardrail.js';
export { secretGuardrail } from './secret-guardrail.js';
