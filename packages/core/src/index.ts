export { compose, type Handler, type Middleware, type Next } from './compose/index.js';
export type { BaseContext, Principal, ResolvedScope, Scope } from './context/index.js';
export {
  createStreamScanner,
  type DefineDetectorOptions,
  type Detector,
  type DetectorExtent,
  type DetectorKind,
  defaultDetectors,
  defineDetector,
  detectorsById,
  type Finding,
  piiDetectors,
  type RedactOptions,
  type RedactValueOptions,
  redact,
  redactValue,
  type StreamScanner,
  type StreamScannerOptions,
  type StreamScanResult,
  scan,
  secretDetectors,
} from './detect/index.js';
export {
  AbortedError,
  BudgetExceededError,
  ConfigError,
  GatehouseError,
  type GatehouseErrorCode,
  type GatehouseErrorOptions,
  GuardrailError,
  InvalidInputError,
  MiddlewareError,
  NoHealthyTargetError,
  NotFoundError,
  PolicyDeniedError,
  RateLimitedError,
  TimeoutError,
  ToolChangedError,
  TranslationError,
  UpstreamError,
} from './errors/index.js';
export {
  type AnyEvent,
  type EventBase,
  EventBus,
  type EventMap,
  type EventName,
} from './events/index.js';
export {
  configError,
  createGateway,
  type Gateway,
  type GatewayOptions,
  type GatewayRuntime,
  type Layer,
  type LayerInstance,
  type LayerKind,
  parseOptions,
} from './gateway/index.js';
export { mergeScope, ScopeManager } from './scope/index.js';
export { type ConsumeResult, isStore, MemoryStore, type SetOptions, type Store } from './store/index.js';
export {
  Attr,
  type Attributes,
  errorType,
  Metric,
  Operation,
  type Span,
  SpanKind,
  SpanStatusCode,
  Telemetry,
  type TelemetryOptions,
} from './telemetry/index.js';

/**
 * The map of event names to payloads. Layers (and apps) add their events by declaration merging:
 *
 * @example
 * declare module '@gatehouse/core' {
 *   interface GatehouseEventMap { 'model-call': ModelCallEvent }
 * }
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging from the layers.
export interface GatehouseEventMap {}
