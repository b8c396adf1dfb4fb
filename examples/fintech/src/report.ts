/** What the demo prints at the end: the trace tree, the costs per team and the audit of tool calls. */
import type { ToolCallEvent } from '@gatehouse/tools';
import { type HrTime, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

const toMs = (time: HrTime) => time[0] * 1e3 + time[1] / 1e6;

/** One span as written to `trace.json`. */
export interface SpanRecord {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  kind: number;
  startTimeMs: number;
  durationMs: number;
  status: 'ok' | 'error' | 'unset';
  attributes: ReadableSpan['attributes'];
  events: { name: string; attributes: ReadableSpan['events'][number]['attributes'] }[];
}

export function spanRecords(spans: readonly ReadableSpan[]): SpanRecord[] {
  return [...spans]
    .sort((left, right) => toMs(left.startTime) - toMs(right.startTime))
    .map((span) => ({
      name: span.name,
      traceId: span.spanContext().traceId,
      spanId: span.spanContext().spanId,
      parentSpanId: span.parentSpanContext?.spanId,
      kind: span.kind,
      startTimeMs: Math.round(toMs(span.startTime) * 1000) / 1000,
      durationMs: Math.round(toMs(span.duration) * 1000) / 1000,
      status:
        span.status.code === SpanStatusCode.ERROR ? 'error' : span.status.code === SpanStatusCode.OK ? 'ok' : 'unset',
      attributes: span.attributes,
      events: span.events.map((event) => ({ name: event.name, attributes: event.attributes })),
    }));
}

/** What a reader wants next to a span's name: who answered, what failed, what was decided. */
function note(record: SpanRecord): string {
  const attributes = record.attributes;
  const parts: string[] = [];
  const responseModel = attributes['gen_ai.response.model'];
  const input = attributes['gen_ai.usage.input_tokens'];
  const output = attributes['gen_ai.usage.output_tokens'];
  if (typeof input === 'number' && typeof output === 'number' && !record.name.startsWith('invoke_agent'))
    parts.push(`${input}→${output} tokens`);
  if (record.status === 'error') parts.push(`✘ ${attributes['error.type'] ?? 'error'}`);
  if (typeof responseModel === 'string' && !record.name.endsWith(responseModel)) parts.push(`by ${responseModel}`);
  for (const event of record.events) {
    if (event.name === 'gen_ai.agent.handoff') parts.push(`handoff → ${event.attributes?.['gatehouse.handoff.to']}`);
  }
  return parts.length ? `  (${parts.join(', ')})` : '';
}

/** The spans as indented trees, one per trace, children in start order, with durations. */
export function traceTree(records: readonly SpanRecord[]): string[] {
  const ids = new Set(records.map((record) => record.spanId));
  const children = new Map<string, SpanRecord[]>();
  for (const record of records) {
    if (record.parentSpanId && ids.has(record.parentSpanId)) {
      const list = children.get(record.parentSpanId) ?? [];
      list.push(record);
      children.set(record.parentSpanId, list);
    }
  }
  const lines: string[] = [];
  const visit = (record: SpanRecord, depth: number) => {
    const label = `${'  '.repeat(depth)}${record.name}`;
    lines.push(`  ${label.padEnd(58)} ${record.durationMs.toFixed(1).padStart(8)} ms${note(record)}`);
    for (const child of children.get(record.spanId) ?? []) visit(child, depth + 1);
  };
  for (const record of records) {
    if (!record.parentSpanId || !ids.has(record.parentSpanId)) visit(record, 0);
  }
  return lines;
}

/** The audit of tool calls: who called what, and what came of it. */
export function auditLines(calls: readonly ToolCallEvent[]): string[] {
  return calls.map((call) => {
    const who = [call.principal.team, call.principal.agent ?? call.principal.user].filter(Boolean).join('/');
    const outcome = call.outcome === 'allowed' ? (call.isError ? 'tool error' : 'allowed') : call.outcome;
    const why = call.outcome === 'denied' ? ` (${call.errorCode}${call.rule ? `, rule ${call.rule}` : ''})` : '';
    return `  ${who.padEnd(18)} ${call.name.padEnd(26)} ${outcome}${why}  ${call.durationMs.toFixed(1)} ms`;
  });
}

/** Dollars per team, largest first. */
export function costLines(byTeam: Record<string, number>, calls: Record<string, number>): string[] {
  const total = Object.values(byTeam).reduce((sum, value) => sum + value, 0);
  return [
    ...Object.entries(byTeam)
      .sort(([, left], [, right]) => right - left)
      .map(
        ([team, usd]) =>
          `  ${team.padEnd(12)} $${usd.toFixed(4).padStart(8)}   ${calls[team] ?? 0} model call${calls[team] === 1 ? '' : 's'}`,
      ),
    `  ${'total'.padEnd(12)} $${total.toFixed(4).padStart(8)}`,
  ];
}
