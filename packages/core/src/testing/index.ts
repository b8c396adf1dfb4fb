import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { AnyEvent, EventBus, EventName } from '../events/index.js';

export { type RedisServer, type StartRedisServerOptions, startRedisServer } from './redis-server.js';

/** Spans recorded by `recordSpans()`. */
export interface SpanRecorder {
  /** Finished spans, in the order they ended. */
  spans(): ReadableSpan[];
  /** Finished spans with this name. */
  named(name: string): ReadableSpan[];
  /** The spans whose parent is `span`. */
  children(span: ReadableSpan): ReadableSpan[];
  reset(): void;
  /** Unregisters the provider and context manager. */
  stop(): Promise<void>;
}

/**
 * Registers an OpenTelemetry tracer provider with an in-memory exporter (and an async context manager),
 * so a test can assert the spans a gateway wrote. Needs `@opentelemetry/sdk-trace-base` and
 * `@opentelemetry/context-async-hooks` as dev dependencies.
 */
export function recordSpans(): SpanRecorder {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(provider);
  const spans = () => exporter.getFinishedSpans();
  return {
    spans,
    named: (name) => spans().filter((span) => span.name === name),
    children: (parent) => spans().filter((span) => span.parentSpanContext?.spanId === parent.spanContext().spanId),
    reset: () => exporter.reset(),
    async stop() {
      await provider.shutdown();
      trace.disable();
      context.disable();
    },
  };
}

/** Collects every event a gateway emits (optionally only some types), for assertions. */
export function captureEvents<K extends EventName = EventName>(
  events: EventBus,
  types?: readonly K[],
): { events: AnyEvent[]; of(type: K): AnyEvent[]; stop(): void } {
  const seen: AnyEvent[] = [];
  const wanted = types ? new Set<string>(types) : undefined;
  const stop = events.onAny((event) => {
    if (!wanted || wanted.has(event.type)) seen.push(event);
  });
  return { events: seen, of: (type) => seen.filter((event) => event.type === type), stop };
}
