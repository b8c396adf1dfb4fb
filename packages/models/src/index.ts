export {
  type BudgetEvent,
  type BudgetOptions,
  budgetMiddleware,
  type LimitOptions,
  type LimitScope,
} from './budget/index.js';
export {
  type CacheHitEvent,
  type CacheMissEvent,
  type CacheMode,
  type CacheOptions,
  cacheHeader,
  cacheMetadataKey,
  cacheMiddleware,
  defaultIgnoredFields,
  type RouteCacheOptions,
} from './cache/index.js';
export {
  type ModelApi,
  type ModelContext,
  type ModelMiddleware,
  type ModelRequest,
  type ModelResponseResult,
  type ModelResult,
  type ModelStreamResult,
  mapStream,
  type ProviderKind,
  type ResultSummary,
  type RouteInfo,
  type StreamHooks,
  type TargetInfo,
  type Usage,
} from './context/index.js';
export {
  type Cost,
  type CostOptions,
  type CostRecordFailedEvent,
  type CostReport,
  type CostReportOptions,
  costMiddleware,
  costOf,
  costReport,
  defaultPrices,
  type ModelPrice,
  PriceBook,
  type PriceOverrides,
  type PriceTable,
  type Window,
} from './cost/index.js';
export {
  type CustomGuardrailOptions,
  customGuardrail,
  type DenyRule,
  type DetectorGuardrailOptions,
  type GuardrailAction,
  type GuardrailMiddleware,
  type GuardrailPhase,
  type GuardrailTriggeredEvent,
  type GuardrailVerdict,
  type JudgeGuardrailOptions,
  judgeCallMetadataKey,
  judgeGuardrail,
  parseVerdict,
  piiGuardrail,
  type RegexGuardrailOptions,
  type Replacement,
  regexGuardrail,
  type SchemaGuardrailOptions,
  schemaGuardrail,
  secretGuardrail,
} from './guardrails/index.js';
export { type ModelsApi, models } from './layer/index.js';
export type {
  CircuitBreakerOptions,
  ModelsOptions,
  RetryOptions,
  RouteOptions,
  RuleMatch,
  RuleOptions,
  TargetOptions,
  TimeoutOptions,
} from './options/index.js';
export {
  type CircuitBreakerMiddleware,
  circuitBreakerMiddleware,
  type TargetHealth,
} from './resilience/circuit-breaker-middleware.js';
export { isRetryable, retryAfterMs } from './resilience/errors.js';
export { retryMiddleware } from './resilience/retry-middleware.js';
export { timeoutMiddleware } from './resilience/timeout-middleware.js';
export type { ModelCallEvent } from './telemetry/index.js';
