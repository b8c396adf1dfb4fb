import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamError } from '../errors/index.js';
import { recordSpans, type SpanRecorder } from '../testing/index.js';
import { Attr, SpanKind, SpanStatusCode, Telemetry } from './index.js';

describe('Telemetry without an SDK', () => {
  it('costs nothing: spans do not record', () => {
    const telemetry = new Telemetry();
    const span = telemetry.startSpan('chat gpt-4o', SpanKind.CLIENT);
    expect(span.isRecording()).toBe(false);
    telemetry.endSpan(span, new Error('ignored'));
  });
});

describe('Telemetry with an SDK', () => {
  let recorder: SpanRecorder;
  beforeAll(() => {
    recorder = recordSpans();
  });
  afterAll(async () => {
    await recorder.stop();
  });

  it('writes GenAI spans, nests children under withSpan, and marks errors with error.type', async () => {
    const telemetry = new Telemetry();
    const parent = telemetry.startSpan('chat contracts', SpanKind.CLIENT, {
      [Attr.operationName]: 'chat',
      [Attr.requestModel]: 'contracts',
    });
    await telemetry.withSpan(parent, async () => {
      await Promise.resolve();
      const attempt = telemetry.startSpan('chat gpt-4o', SpanKind.CLIENT, { [Attr.attempt]: 1 });
      telemetry.endSpan(attempt, new UpstreamError({ message: 'bad gateway', status: 502 }));
    });
    telemetry.endSpan(parent);
    const [chat] = recorder.named('chat contracts');
    const [attempt] = recorder.named('chat gpt-4o');
    expect(chat?.attributes).toMatchObject({ 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'contracts' });
    expect(chat?.kind).toBe(SpanKind.CLIENT);
    expect(recorder.children(chat!)).toEqual([attempt]);
    expect(attempt?.attributes['error.type']).toBe('GATEHOUSE_UPSTREAM');
    expect(attempt?.status.code).toBe(SpanStatusCode.ERROR);
  });
});
