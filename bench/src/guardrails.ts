import { EventBus, MemoryStore, Telemetry } from '@gatehouse/core';
import { type ModelContext, type ModelResult, piiGuardrail, secretGuardrail } from '@gatehouse/models';
import { measure, type Sample } from './measure.js';

const sentence =
  'Thanks for the update on the quarterly review. The team moved the planning session to Thursday afternoon, ' +
  'and we still need the revised numbers for the northern region before then. ';
const clean = sentence.repeat(Math.ceil(1024 / sentence.length)).slice(0, 1024);
const withEmail = `${clean.slice(0, 500)} ana.lopez@example.com ${clean.slice(500, 1000)}`;

const telemetry = new Telemetry();
const events = new EventBus();
const store = new MemoryStore();

function context(stream: boolean): ModelContext {
  return {
    principal: {},
    sessionId: undefined,
    metadata: {},
    signal: undefined,
    span: telemetry.startSpan('bench', 0),
    events,
    store,
    telemetry,
    request: {
      api: 'chat',
      kind: 'openai',
      stream,
      options: undefined,
      body: {
        model: 'gpt-4o',
        messages: [
          { role: 'system', content: clean },
          { role: 'user', content: clean },
        ],
      },
    },
    model: 'gpt-4o',
    route: undefined,
    target: undefined,
    attemptSignal: undefined,
    attempt: 0,
    usage: undefined,
    startTime: 0,
  };
}

const summary = {
  usage: undefined,
  responseModel: 'gpt-4o',
  responseId: 'x',
  finishReasons: ['stop'],
  completed: true,
};
const target = {
  id: 'openai:gpt-4o',
  provider: 'openai',
  kind: 'openai' as const,
  model: 'gpt-4o',
  parameters: undefined,
  timeoutMs: undefined,
  client: {},
};

const answer = (text: string): ModelResult => ({
  type: 'response',
  data: { object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: text } }] },
  response: undefined,
  target,
  summary,
});

/** 1 KB of text as 20-character chat deltas, then a finish chunk. */
function streamOf(text: string): ModelResult {
  const chunks: any[] = [];
  for (let index = 0; index < text.length; index += 20)
    chunks.push({ choices: [{ index: 0, delta: { content: text.slice(index, index + 20) }, finish_reason: null }] });
  chunks.push({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
  return {
    type: 'stream',
    chunks: {
      async *[Symbol.asyncIterator]() {
        yield* chunks;
      },
    },
    controller: new AbortController(),
    response: undefined,
    target,
    summary,
  };
}

/**
 * The cost a PII (redact) plus secret (block) guardrail pair adds to a call, measured on the middleware with an
 * in-memory `next` (no network): a chat call with two 1 KB input messages and a 1 KB answer (clean, and with an
 * email to redact), and a 1 KB answer streamed in 20-character deltas.
 */
export async function guardrailsBench(): Promise<Sample[]> {
  const pii = piiGuardrail();
  const secrets = secretGuardrail();
  const both = async (stream: boolean, result: () => ModelResult) => {
    const ctx = context(stream);
    return pii(ctx, () => secrets(ctx, async () => result()));
  };
  const options = { iterations: 20_000, batch: 50, warmup: 2_000 };
  const samples = [
    await measure('no guardrail (baseline)', () => answer(clean), options),
    await measure('pii + secrets, 2 KB in, 1 KB out, clean', () => both(false, () => answer(clean)), options),
    await measure(
      'pii + secrets, 1 KB out with an email redacted',
      () => both(false, () => answer(withEmail)),
      options,
    ),
    await measure(
      'pii + secrets, 1 KB streamed in 20-char deltas (whole stream)',
      async () => {
        const result = await both(true, () => streamOf(withEmail));
        if (result.type === 'stream') for await (const _ of result.chunks);
      },
      { iterations: 2_000, batch: 10, warmup: 200 },
    ),
  ];
  return samples;
}
