import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors/index.js';
import { defineDetector } from './detector.js';
import { patternLengthBounds } from './pattern-length.js';

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (ConfigError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('defineDetector', () => {
  it('adds the global flag, keeps the others, and reads maxLength from the pattern', () => {
    const detector = defineDetector({ id: 'ticket', kind: 'pii', pattern: /tkt-\d{4,8}/iy });
    expect(detector.pattern.flags).toBe('gi');
    expect(detector.maxLength).toBe(12);
    expect(detector.label).toBe('ticket');
    expect('TKT-1234 and tkt-99999'.match(detector.pattern)).toEqual(['TKT-1234', 'tkt-99999']);
  });

  it.each([/x*/, /a|/, /(?:abc)?/, /(?=a)/, /\b/, /^/])('refuses %s, which can match the empty string', (pattern) => {
    const error = configErrorOf(() => defineDetector({ id: 'empty', kind: 'pii', pattern }));
    expect(error.code).toBe('GATEHOUSE_CONFIG');
    expect(error.path).toBe('detector.pattern');
    expect(error.message).toContain('empty string');
  });

  it('asks for maxLength when the pattern is unbounded, and takes it when given', () => {
    const error = configErrorOf(() => defineDetector({ id: 'word', kind: 'pii', pattern: /secret-\w+/ }));
    expect(error.path).toBe('detector.maxLength');
    expect(defineDetector({ id: 'word', kind: 'pii', pattern: /secret-\w+/, maxLength: 40 }).maxLength).toBe(40);
  });

  it.each([
    [{ id: 'Bad Id', kind: 'pii', pattern: /x/ }, 'detector.id'],
    [{ id: 'ok', kind: 'password', pattern: /x/ }, 'detector.kind'],
    [{ id: 'ok', kind: 'pii', pattern: 'x' }, 'detector.pattern'],
    [{ id: 'ok', kind: 'pii', pattern: /x/, maxLength: 0 }, 'detector.maxLength'],
    [{ id: 'ok', kind: 'pii', pattern: /x/, hints: [''] }, 'detector.hints'],
    [{ id: 'ok', kind: 'pii', pattern: /x/, extent: { starts: [], charset: /[x]/ } }, 'detector.extent.starts'],
    [{ id: 'ok', kind: 'pii', pattern: /x/, extent: { starts: ['x'], charset: /x+/ } }, 'detector.extent.charset'],
  ])('refuses bad options (%o) naming %s', (options, path) => {
    expect(configErrorOf(() => defineDetector(options as never)).path).toBe(path);
  });
});

describe('patternLengthBounds', () => {
  it.each([
    [/abc/, 3, 3],
    [/a{2,5}b?/, 2, 6],
    [/(?:ab|c){1,3}/, 1, 6],
    [/(?<![\w])x(?!y)\b/, 1, 1],
    [/[a-z]+/, 1, Number.POSITIVE_INFINITY],
    [/(a)\1/, 1, Number.POSITIVE_INFINITY],
    [/\u0041\x41\d\./, 4, 4],
    [/(?<name>ab)c/, 3, 3],
    [/./u, 1, 2],
    [/[\]a]{3}/, 3, 3],
  ])('bounds %s to [%d, %d]', (pattern, min, max) => {
    expect(patternLengthBounds(pattern)).toEqual({ min, max });
  });
});
