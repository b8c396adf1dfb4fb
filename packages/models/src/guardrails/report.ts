import { type EventBase, type EventName, GuardrailError } from '@gatehouse/core';
import type { ModelApi, ModelContext, ModelMiddleware } from '../context/index.js';

/** Which side of a call a guardrail checks: what is sent to the model, what comes back, or both. */
export type GuardrailPhase = 'input' | 'output' | 'both';

/** What a guardrail does when it trips: throw `GuardrailError`, replace the offending text, or only report it. */
export type GuardrailAction = 'block' | 'redact' | 'flag';

/** A guardrail as middleware: usable in `models({ guardrails: [...] })` (or `middleware`), with its name for audit. */
export type GuardrailMiddleware = ModelMiddleware & { readonly guardrail: string };

/**
 * A guardrail tripped (`guardrail-triggered`). Names what was found (detector ids, deny rule ids, `schema`),
 * never the text itself.
 */
export interface GuardrailTriggeredEvent extends EventBase {
  guardrail: string;
  phase: 'input' | 'output';
  action: GuardrailAction;
  /** What tripped: detector ids (`email`, `openai-key`), regex rule ids, or the guardrail's own name. */
  detectors: string[];
  /** Why, when the guardrail gives a reason that cannot hold the checked text (a schema path, a custom reason). */
  reason?: string | undefined;
  api: ModelApi;
  model: string;
  route: string | undefined;
  stream: boolean;
}

declare module '@gatehouse/core' {
  interface GatehouseEventMap {
    'guardrail-triggered': GuardrailTriggeredEvent;
  }
}

// Typed loosely as the telemetry module does: core's `EventName` does not see the augmentation through the re-export.
const guardrailTriggered = 'guardrail-triggered' as EventName;

/** What one decision was about. */
export interface Trip {
  detectors: readonly string[];
  reason?: string | undefined;
}

/** Records one decision: a span event on the call's span and a `guardrail-triggered` event. */
export function report(
  context: ModelContext,
  guardrail: string,
  phase: 'input' | 'output',
  action: GuardrailAction,
  trip: Trip,
): void {
  const span = context.span;
  if (span.isRecording()) {
    const attributes: Record<string, string | string[]> = {
      'gatehouse.guardrail.name': guardrail,
      'gatehouse.guardrail.phase': phase,
      'gatehouse.guardrail.action': action,
      'gatehouse.guardrail.detectors': [...trip.detectors],
    };
    if (trip.reason !== undefined) attributes['gatehouse.guardrail.reason'] = trip.reason;
    span.addEvent('gatehouse.guardrail.triggered', attributes);
  }
  if (context.events.has(guardrailTriggered))
    context.events.emit(guardrailTriggered, {
      time: Date.now(),
      principal: context.principal,
      sessionId: context.sessionId,
      traceId: span.isRecording() ? span.spanContext().traceId : undefined,
      guardrail,
      phase,
      action,
      detectors: [...trip.detectors],
      reason: trip.reason,
      api: context.request.api,
      model: context.model,
      route: context.route?.name,
      stream: context.request.stream,
    } satisfies GuardrailTriggeredEvent as never);
}

/** The error a blocking guardrail throws: it names the guardrail, the phase and what tripped, never the text. */
export function blocked(guardrail: string, phase: 'input' | 'output', trip: Trip, cause?: unknown): GuardrailError {
  const what = trip.reason ?? `found ${trip.detectors.join(', ')}`;
  return new GuardrailError({
    message: `Guardrail "${guardrail}" blocked the ${phase}: ${what}`,
    guardrail,
    phase,
    cause,
  });
}

/** Unique ids in first-seen order. */
export function uniqueIds(ids: Iterable<string>): string[] {
  return [...new Set(ids)];
}

/** Names a middleware as a guardrail. */
export function asGuardrail(name: string, middleware: ModelMiddleware): GuardrailMiddleware {
  return Object.assign(middleware, { guardrail: name });
}
