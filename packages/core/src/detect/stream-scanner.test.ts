import { describe, expect, it } from 'vitest';
import { ConfigError, InvalidInputError } from '../errors/index.js';
import { defaultDetectors } from './builtin.js';
import { defineDetector, type Finding } from './detector.js';
import { redact, scan } from './scan.js';
import { createStreamScanner, type StreamScannerOptions } from './stream-scanner.js';

const random36 = 'aB3dE5fG7hJ9kL2mN4pQ6rS8tU1vW3xY5zA7';
const openaiKey = `sk-proj-${random36}${random36}`;
const jwt =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const pemBody = `${'MIIEowIBAAKCAQEAx4Gk'.repeat(3)}\n`.repeat(40);
const privateKey = `-----BEGIN RSA PRIVATE KEY-----\n${pemBody}-----END RSA PRIVATE KEY-----`;

/** Deterministic PRNG (mulberry32), so a failing chunking can be replayed from its seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

interface Run {
  output: string;
  findings: Finding[];
  /** After each push: what had been released in total. */
  releases: string[];
}

/** Streams `chunks` through a scanner, checking after each push that the output stays a prefix of `expected`. */
function stream(chunks: readonly string[], options: StreamScannerOptions = {}, expected?: string): Run {
  const scanner = createStreamScanner(options);
  const run: Run = { output: '', findings: [], releases: [] };
  for (const chunk of chunks) {
    const result = scanner.push(chunk);
    run.output += result.release;
    run.findings.push(...result.findings);
    run.releases.push(run.output);
    // Nothing released ahead of its place, and nothing of a finding released before it is redacted.
    if (expected !== undefined) expect(expected.startsWith(run.output)).toBe(true);
  }
  const last = scanner.end();
  run.output += last.release;
  run.findings.push(...last.findings);
  return run;
}

function chunksOf(text: string, size: number): string[] {
  const chunks: string[] = [];
  for (let index = 0; index < text.length; index += size) chunks.push(text.slice(index, index + size));
  return chunks;
}

describe('createStreamScanner in redact mode', () => {
  it('catches a card number split across two chunks, releasing none of it', () => {
    const expected = 'card [REDACTED:card] ok';
    const run = stream(['card 4111 1111', ' 1111 1111 ok'], {}, expected);
    expect(run.output).toBe(expected);
    expect(run.releases[0]).not.toContain('4111');
    expect(run.findings).toEqual(scan('card 4111 1111 1111 1111 ok'));
  });

  it('catches a card number and an API key streamed one character at a time', () => {
    const text = `pay 4111 1111 1111 1111 with key ${openaiKey} now`;
    const expected = redact(text).text;
    const run = stream([...text], {}, expected);
    expect(run.output).toBe(expected);
    expect(run.output).toBe('pay [REDACTED:card] with key [REDACTED:openai-key] now');
    for (const released of run.releases) {
      expect(released).not.toContain('4111');
      expect(released).not.toContain('sk-');
    }
  });

  it('catches an API key split across two chunks', () => {
    const text = `key: ${openaiKey}\n`;
    const middle = text.indexOf(openaiKey) + 20;
    const run = stream([text.slice(0, middle), text.slice(middle)], {}, redact(text).text);
    expect(run.output).toBe('key: [REDACTED:openai-key]\n');
    expect(run.releases[0]).not.toContain('sk-');
  });

  it('holds a long private key block until its end, beyond the window, and redacts it whole', () => {
    const text = `here it is:\n${privateKey}\nkeep it safe.`;
    expect(privateKey.length).toBeGreaterThan(2000);
    const run = stream(chunksOf(text, 7), {}, redact(text).text);
    expect(run.output).toBe('here it is:\n[REDACTED:private-key]\nkeep it safe.');
  });

  it('releases clean text as it goes, holding back at most the window', () => {
    const words = 'the quick brown fox jumps over the lazy dog and then some more words to fill a line ';
    const text = words.repeat(30);
    const run = stream(chunksOf(text, 20));
    expect(run.output).toBe(text);
    const held = text.length - run.releases.at(-1)!.length;
    expect(held).toBeLessThanOrEqual(256);
    expect(held).toBeGreaterThan(0);
  });

  it('answers the same output as redact() of the whole text for random chunkings (seeded)', () => {
    const pieces = [
      'Hello there. ',
      'mail ana.lopez@example.com ',
      'call +44 20 7946 0958 ',
      'or (415) 555-2671, ',
      'card 4111 1111 1111 1111 ',
      'not a card 4111 1111 1111 1112 ',
      'order 123456789 ',
      'on 2024-01-15 ',
      `key ${openaiKey} `,
      `jwt ${jwt} `,
      `Authorization: Bearer ${jwt}\n`,
      'AKIAIOSFODNN7EXAMPLE ',
      'IBAN DE89 3704 0044 0532 0130 00 ',
      'ssn 123-45-6789 ',
      `${privateKey}\n`,
      'uuid 550e8400-e29b-41d4-a716-446655440000 ',
      'heyJude eyJ and sk- and -----BEGIN nothing ',
      '💳 ünïcödé ',
      '\n',
    ];
    const random = prng(20_240_601);
    for (let round = 0; round < 150; round++) {
      let text = '';
      const count = 1 + Math.floor(random() * 12);
      for (let index = 0; index < count; index++) text += pieces[Math.floor(random() * pieces.length)];
      const chunks: string[] = [];
      for (let index = 0; index < text.length; ) {
        const size = 1 + Math.floor(random() * (random() < 0.3 ? 3 : 60));
        chunks.push(text.slice(index, index + size));
        index += size;
      }
      const expected = redact(text);
      const run = stream(chunks, {}, expected.text);
      expect(run.output, `round ${round}`).toBe(expected.text);
      expect(run.findings, `round ${round}`).toEqual(expected.findings);
    }
  });

  it('uses the custom replacement and custom detectors', () => {
    const employee = defineDetector({ id: 'employee-id', kind: 'pii', pattern: /EMP-\d{6}/ });
    const run = stream(['id EMP-12', '3456 and ana@', 'example.com'], {
      detectors: [...defaultDetectors, employee],
      replacement: (finding) => `<${finding.detector}>`,
    });
    expect(run.output).toBe('id <employee-id> and <email>');
  });
});

describe('createStreamScanner in detect mode', () => {
  it('releases the text unchanged and reports each finding before releasing any of it', () => {
    const text = `pay 4111 1111 1111 1111 with key ${openaiKey} now, mail ana@example.com`;
    const random = prng(7);
    for (let round = 0; round < 30; round++) {
      const scanner = createStreamScanner({ mode: 'detect' });
      let output = '';
      const findings: Finding[] = [];
      for (let index = 0; index < text.length; ) {
        const size = 1 + Math.floor(random() * 25);
        const before = output.length;
        const result = scanner.push(text.slice(index, index + size));
        index += size;
        for (const finding of result.findings) {
          // Reported in the same answer that first releases its text, so it can be cut there.
          expect(finding.start).toBeGreaterThanOrEqual(before);
          expect(finding.end).toBeLessThanOrEqual(before + result.release.length);
        }
        for (const finding of findings) expect(finding.end).toBeLessThanOrEqual(before);
        output += result.release;
        findings.push(...result.findings);
        // No text of a finding is released before the finding is reported.
        for (const expected of scan(text))
          if (!findings.some((finding) => finding.start === expected.start))
            expect(output.length).toBeLessThanOrEqual(expected.start);
      }
      const last = scanner.end();
      output += last.release;
      findings.push(...last.findings);
      expect(output).toBe(text);
      expect(findings).toEqual(scan(text));
    }
  });
});

describe('createStreamScanner contract', () => {
  it('flushes everything on end(), including a held partial match, and ignores a second end()', () => {
    const scanner = createStreamScanner();
    expect(scanner.push('almost a card 4111 1111').release).toBe('');
    expect(scanner.end()).toEqual({ release: 'almost a card 4111 1111', findings: [] });
    expect(scanner.end()).toEqual({ release: '', findings: [] });
  });

  it('never ends a release between the halves of a surrogate pair', () => {
    const text = `${'emoji 😀 '.repeat(60)}end`;
    const scanner = createStreamScanner();
    let output = '';
    for (const unit of text.split('')) {
      const { release } = scanner.push(unit);
      if (release !== '') expect(release).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
      output += release;
    }
    output += scanner.end().release;
    expect(output).toBe(text);
  });

  it('refuses a hand-built detector whose pattern is not global, instead of looping', () => {
    const handBuilt = { id: 'x', kind: 'pii' as const, label: 'x', pattern: /x/, maxLength: 1 };
    expect(() => createStreamScanner({ detectors: [handBuilt] })).toThrow(ConfigError);
    expect(() => scan('xx', [handBuilt])).toThrow(/global RegExp/);
    expect(() => scan(42 as never)).toThrow(InvalidInputError);
  });

  it('refuses a push after end() and a non-string chunk with InvalidInputError', () => {
    const scanner = createStreamScanner();
    expect(() => scanner.push(42 as never)).toThrow(InvalidInputError);
    scanner.end();
    expect(() => scanner.push('more')).toThrow(/after end\(\)/);
  });

  it('refuses, at creation, a detector longer than the window without an extent', () => {
    const long = defineDetector({ id: 'long', kind: 'pii', pattern: /x{1,500}/ });
    let error: unknown;
    try {
      createStreamScanner({ detectors: [long] });
    } catch (caught) {
      error = caught;
    }
    expect(ConfigError.isInstance(error)).toBe(true);
    expect((error as ConfigError).path).toBe('detectors[0].maxLength');
    expect(() => createStreamScanner({ detectors: [long], maxWindow: 600 })).not.toThrow();
    expect(() => createStreamScanner({ mode: 'block' as never })).toThrow(ConfigError);
  });
});
