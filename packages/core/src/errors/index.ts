const marker = Symbol.for('gatehouse.error');

/** Every stable error code Gatehouse throws. Match on `error.code`, never on the message. */
export type GatehouseErrorCode =
  | 'GATEHOUSE_CONFIG'
  | 'GATEHOUSE_POLICY_DENIED'
  | 'GATEHOUSE_BUDGET_EXCEEDED'
  | 'GATEHOUSE_RATE_LIMITED'
  | 'GATEHOUSE_GUARDRAIL'
  | 'GATEHOUSE_UPSTREAM'
  | 'GATEHOUSE_NO_HEALTHY_TARGET'
  | 'GATEHOUSE_TIMEOUT'
  | 'GATEHOUSE_ABORTED'
  | 'GATEHOUSE_TRANSLATION'
  | 'GATEHOUSE_MIDDLEWARE'
  | 'GATEHOUSE_NOT_FOUND'
  | 'GATEHOUSE_INVALID_INPUT'
  | 'GATEHOUSE_TOOL_CHANGED'
  | 'GATEHOUSE_APPROVAL_REQUIRED'
  | 'GATEHOUSE_OUTPUT_INVALID';

export interface GatehouseErrorOptions {
  message: string;
  cause?: unknown;
  /** Whether trying the same thing again may succeed. */
  isRetryable?: boolean;
}

/**
 * The base of every error Gatehouse throws. `GatehouseError.isInstance(e)` works across duplicated
 * installs (it checks a `Symbol.for` marker, not the prototype chain); so does each subclass's.
 */
export class GatehouseError extends Error {
  readonly [marker] = true;
  readonly code: GatehouseErrorCode;
  readonly isRetryable: boolean;

  constructor(code: GatehouseErrorCode, options: GatehouseErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatehouseError';
    this.code = code;
    this.isRetryable = options.isRetryable ?? false;
  }

  static isInstance(error: unknown): error is GatehouseError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }

  /** A JSON-safe view for logs and events: name, code, message; never the cause's payload. */
  toJSON(): { name: string; code: GatehouseErrorCode; message: string; isRetryable: boolean } {
    return { name: this.name, code: this.code, message: this.message, isRetryable: this.isRetryable };
  }
}

/**
 * Defines a subclass with its own marker, so that `Sub.isInstance(e)` also holds across installs.
 * Each class is written out below (not generated) so that it stays a real, documented class.
 */
function subclassMarker(name: string): symbol {
  return Symbol.for(`gatehouse.error.${name}`);
}

function hasMarker(error: unknown, symbol: symbol): boolean {
  return GatehouseError.isInstance(error) && (error as unknown as Record<symbol, unknown>)[symbol] === true;
}

const configMarker = subclassMarker('ConfigError');
/** A bad option, route, rule or server definition. Thrown at set-up time; fix the configuration. */
export class ConfigError extends GatehouseError {
  readonly [configMarker] = true;
  /** Where in the options the problem is, e.g. `models.routes.contracts.targets[0].provider`. */
  readonly path: string | undefined;
  constructor(options: GatehouseErrorOptions & { path?: string }) {
    super('GATEHOUSE_CONFIG', options);
    this.name = 'ConfigError';
    this.path = options.path;
  }
  static override isInstance(error: unknown): error is ConfigError {
    return hasMarker(error, configMarker);
  }
}

const policyMarker = subclassMarker('PolicyDeniedError');
/** An access rule refused the call. Nothing reached the upstream. */
export class PolicyDeniedError extends GatehouseError {
  readonly [policyMarker] = true;
  /** Which rule decided, when one did (undefined: denied by default). */
  readonly rule: string | undefined;
  constructor(options: GatehouseErrorOptions & { rule?: string }) {
    super('GATEHOUSE_POLICY_DENIED', options);
    this.name = 'PolicyDeniedError';
    this.rule = options.rule;
  }
  static override isInstance(error: unknown): error is PolicyDeniedError {
    return hasMarker(error, policyMarker);
  }
}

interface LimitOptions extends GatehouseErrorOptions {
  /** The limit that refused, e.g. `team:risk dollars/day`. */
  limit: string;
  /** Milliseconds until the window resets and a retry may pass; undefined for limits with no window. */
  retryAfterMs?: number;
}

const budgetMarker = subclassMarker('BudgetExceededError');
/** A budget (tokens or dollars) would be exceeded by this call. */
export class BudgetExceededError extends GatehouseError {
  readonly [budgetMarker] = true;
  readonly limit: string;
  readonly retryAfterMs: number | undefined;
  constructor(options: LimitOptions) {
    super('GATEHOUSE_BUDGET_EXCEEDED', options);
    this.name = 'BudgetExceededError';
    this.limit = options.limit;
    this.retryAfterMs = options.retryAfterMs;
  }
  static override isInstance(error: unknown): error is BudgetExceededError {
    return hasMarker(error, budgetMarker);
  }
}

const rateMarker = subclassMarker('RateLimitedError');
/** A request-rate limit refused this call; retry after `retryAfterMs`. */
export class RateLimitedError extends GatehouseError {
  readonly [rateMarker] = true;
  readonly limit: string;
  readonly retryAfterMs: number | undefined;
  constructor(options: LimitOptions) {
    super('GATEHOUSE_RATE_LIMITED', { isRetryable: true, ...options });
    this.name = 'RateLimitedError';
    this.limit = options.limit;
    this.retryAfterMs = options.retryAfterMs;
  }
  static override isInstance(error: unknown): error is RateLimitedError {
    return hasMarker(error, rateMarker);
  }
}

const guardrailMarker = subclassMarker('GuardrailError');
/** A guardrail blocked input or output. For a stream, nothing past the offending text reached the caller. */
export class GuardrailError extends GatehouseError {
  readonly [guardrailMarker] = true;
  readonly guardrail: string;
  readonly phase: 'input' | 'output';
  constructor(options: GatehouseErrorOptions & { guardrail: string; phase: 'input' | 'output' }) {
    super('GATEHOUSE_GUARDRAIL', options);
    this.name = 'GuardrailError';
    this.guardrail = options.guardrail;
    this.phase = options.phase;
  }
  static override isInstance(error: unknown): error is GuardrailError {
    return hasMarker(error, guardrailMarker);
  }
}

const upstreamMarker = subclassMarker('UpstreamError');
/** The provider or MCP server failed (HTTP status, connection, malformed answer, cut stream). */
export class UpstreamError extends GatehouseError {
  readonly [upstreamMarker] = true;
  /** HTTP status when there was one. */
  readonly status: number | undefined;
  /** Which target or server failed, e.g. `openai:gpt-4o` or `github`. */
  readonly target: string | undefined;
  constructor(options: GatehouseErrorOptions & { status?: number; target?: string }) {
    super('GATEHOUSE_UPSTREAM', options);
    this.name = 'UpstreamError';
    this.status = options.status;
    this.target = options.target;
  }
  static override isInstance(error: unknown): error is UpstreamError {
    return hasMarker(error, upstreamMarker);
  }
}

const noHealthyMarker = subclassMarker('NoHealthyTargetError');
/** Every target of a route failed or is cooling down. `errors` holds each target's failure. */
export class NoHealthyTargetError extends GatehouseError {
  readonly [noHealthyMarker] = true;
  readonly route: string;
  readonly errors: readonly unknown[];
  constructor(options: GatehouseErrorOptions & { route: string; errors?: readonly unknown[] }) {
    super('GATEHOUSE_NO_HEALTHY_TARGET', options);
    this.name = 'NoHealthyTargetError';
    this.route = options.route;
    this.errors = options.errors ?? [];
  }
  static override isInstance(error: unknown): error is NoHealthyTargetError {
    return hasMarker(error, noHealthyMarker);
  }
}

const timeoutMarker = subclassMarker('TimeoutError');
/** A call, a connection or a stream's first token took longer than its configured timeout. */
export class TimeoutError extends GatehouseError {
  readonly [timeoutMarker] = true;
  readonly timeoutMs: number;
  constructor(options: GatehouseErrorOptions & { timeoutMs: number }) {
    super('GATEHOUSE_TIMEOUT', { isRetryable: true, ...options });
    this.name = 'TimeoutError';
    this.timeoutMs = options.timeoutMs;
  }
  static override isInstance(error: unknown): error is TimeoutError {
    return hasMarker(error, timeoutMarker);
  }
}

const translationMarker = subclassMarker('TranslationError');
/** A request or answer cannot be carried across providers without losing something; names the field. */
export class TranslationError extends GatehouseError {
  readonly [translationMarker] = true;
  readonly field: string;
  constructor(options: GatehouseErrorOptions & { field: string }) {
    super('GATEHOUSE_TRANSLATION', options);
    this.name = 'TranslationError';
    this.field = options.field;
  }
  static override isInstance(error: unknown): error is TranslationError {
    return hasMarker(error, translationMarker);
  }
}

const middlewareMarker = subclassMarker('MiddlewareError');
/** A middleware broke the chain's contract (for example, called `next()` twice). */
export class MiddlewareError extends GatehouseError {
  readonly [middlewareMarker] = true;
  constructor(options: GatehouseErrorOptions) {
    super('GATEHOUSE_MIDDLEWARE', options);
    this.name = 'MiddlewareError';
  }
  static override isInstance(error: unknown): error is MiddlewareError {
    return hasMarker(error, middlewareMarker);
  }
}

const notFoundMarker = subclassMarker('NotFoundError');
/** An unknown tool, server, route, session or agent was named. */
export class NotFoundError extends GatehouseError {
  readonly [notFoundMarker] = true;
  constructor(options: GatehouseErrorOptions) {
    super('GATEHOUSE_NOT_FOUND', options);
    this.name = 'NotFoundError';
  }
  static override isInstance(error: unknown): error is NotFoundError {
    return hasMarker(error, notFoundMarker);
  }
}

const invalidInputMarker = subclassMarker('InvalidInputError');
/** A call's input (arguments, payload size, message shape) is not acceptable; the message says why. */
export class InvalidInputError extends GatehouseError {
  readonly [invalidInputMarker] = true;
  constructor(options: GatehouseErrorOptions) {
    super('GATEHOUSE_INVALID_INPUT', options);
    this.name = 'InvalidInputError';
  }
  static override isInstance(error: unknown): error is InvalidInputError {
    return hasMarker(error, invalidInputMarker);
  }
}

const abortedMarker = subclassMarker('AbortedError');
/** The caller's `AbortSignal` fired. */
export class AbortedError extends GatehouseError {
  readonly [abortedMarker] = true;
  constructor(options: GatehouseErrorOptions) {
    super('GATEHOUSE_ABORTED', options);
    this.name = 'AbortedError';
  }
  static override isInstance(error: unknown): error is AbortedError {
    return hasMarker(error, abortedMarker);
  }
}

const toolChangedMarker = subclassMarker('ToolChangedError');
/**
 * A tool's definition (name, description or input schema) differs from the one pinned when it was first seen
 * (a possible rug pull). Calls to it are refused until the change is reviewed and accepted.
 */
export class ToolChangedError extends GatehouseError {
  readonly [toolChangedMarker] = true;
  /** The configured server name. */
  readonly server: string | undefined;
  /** The tool's name on its own server. */
  readonly tool: string | undefined;
  constructor(options: GatehouseErrorOptions & { server?: string; tool?: string }) {
    super('GATEHOUSE_TOOL_CHANGED', options);
    this.name = 'ToolChangedError';
    this.server = options.server;
    this.tool = options.tool;
  }
  static override isInstance(error: unknown): error is ToolChangedError {
    return hasMarker(error, toolChangedMarker);
  }
}
