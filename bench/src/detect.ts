import { createStreamScanner, scan } from '@gatehouse/core';
import { measure, type Sample } from './measure.js';

const sentence =
  'Thanks for the update on the quarterly review. The team moved the planning session to Thursday afternoon, ' +
  'and we still need the revised numbers for the northern region before then. ';

/** About 1 KB of ordinary chat text with nothing to find. */
const clean = sentence.repeat(Math.ceil(1024 / sentence.length)).slice(0, 1024);
/** The same text with one email address in the middle. */
const withEmail = `${clean.slice(0, 500)} ana.lopez@example.com ${clean.slice(500, 1000)}`;

/**
 * Detection cost on the guardrail and audit hot paths: `scan` with every built-in detector over a clean
 * 1 KB message and one holding an email; the stream scanner per 20-character chunk (a typical token delta
 * batch), in redact and detect mode.
 */
export async function detectBench(): Promise<Sample[]> {
  const chunks: string[] = [];
  for (let index = 0; index < withEmail.length; index += 20) chunks.push(withEmail.slice(index, index + 20));
  const streamPerChunk = (mode: 'redact' | 'detect') => () => {
    const scanner = createStreamScanner({ mode });
    for (const chunk of chunks) scanner.push(chunk);
    scanner.end();
  };
  const options = { iterations: 20_000, batch: 50, warmup: 2_000 };
  const redactStream = await measure('stream scanner, redact: 1 KB in 20-char chunks', streamPerChunk('redact'), {
    iterations: 2_000,
    batch: 10,
    warmup: 200,
  });
  const detectStream = await measure('stream scanner, detect: 1 KB in 20-char chunks', streamPerChunk('detect'), {
    iterations: 2_000,
    batch: 10,
    warmup: 200,
  });
  const perChunk = (sample: Sample, name: string): Sample => ({
    name,
    p50: sample.p50 / chunks.length,
    p99: sample.p99 / chunks.length,
    mean: sample.mean / chunks.length,
    samples: sample.samples * chunks.length,
  });
  return [
    await measure('scan: 1 KB clean chat message', () => scan(clean), options),
    await measure('scan: 1 KB message with an email', () => scan(withEmail), options),
    redactStream,
    perChunk(redactStream, 'stream scanner, redact: per 20-char chunk'),
    perChunk(detectStream, 'stream scanner, detect: per 20-char chunk'),
  ];
}
