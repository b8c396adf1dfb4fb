import { describe, expect, it } from 'vitest';
import { defaultDetectors, piiDetectors, secretDetectors } from './builtin.js';
import { defineDetector } from './detector.js';
import { redact, scan } from './scan.js';

const openaiKey = `sk-proj-${'aB3dE5fG7hJ9kL2mN4pQ6rS8tU1vW3xY5zA7'.repeat(2)}`;
const jwt =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';

describe('scan', () => {
  it('answers nothing for clean text', () => {
    expect(scan('The meeting moved to 3pm on 2024-06-01; bring the Q2 numbers (up 12.5%).')).toEqual([]);
    expect(scan('')).toEqual([]);
  });

  it('answers findings sorted by start, with kind, label and offsets into the text', () => {
    const text = `key ${openaiKey} for ana@example.com, card 4111 1111 1111 1111`;
    const findings = scan(text);
    expect(findings.map((finding) => finding.detector)).toEqual(['openai-key', 'email', 'card']);
    expect(findings[0]).toEqual({
      detector: 'openai-key',
      kind: 'secret',
      label: 'OpenAI API key',
      start: 4,
      end: 4 + openaiKey.length,
    });
    expect(text.slice(findings[1]!.start, findings[1]!.end)).toBe('ana@example.com');
    expect(findings[2]!.kind).toBe('pii');
  });

  it('merges overlapping findings into one that names the longest and covers them all', () => {
    // A JWT inside a bearer header: the bearer finding is longer and starts first.
    const text = `Authorization: Bearer ${jwt}`;
    expect(scan(text)).toEqual([
      { detector: 'bearer', kind: 'secret', label: 'Bearer token', start: 15, end: text.length },
    ]);
    // Two custom detectors overlapping partly: the union is covered, named after the longer.
    const left = defineDetector({ id: 'left', kind: 'pii', pattern: /abc/ });
    const right = defineDetector({ id: 'right', kind: 'pii', pattern: /bcdef/ });
    expect(scan('xxabcdefxx', [left, right])).toEqual([
      { detector: 'right', kind: 'pii', label: 'right', start: 2, end: 8 },
    ]);
    // On equal length the earlier wins.
    const early = defineDetector({ id: 'early', kind: 'pii', pattern: /abc/ });
    const late = defineDetector({ id: 'late', kind: 'pii', pattern: /bcd/ });
    expect(scan('abcd', [late, early])[0]).toMatchObject({ detector: 'early', start: 0, end: 4 });
  });

  it('scans only with the detectors it is given', () => {
    const text = `mail ana@example.com with ${openaiKey}`;
    expect(scan(text, piiDetectors).map((finding) => finding.detector)).toEqual(['email']);
    expect(scan(text, secretDetectors).map((finding) => finding.detector)).toEqual(['openai-key']);
    expect(scan(text, [])).toEqual([]);
  });

  it('retries one character further after a rejected match, so a valid one right after is found', () => {
    const ssn = defineDetector({ id: 'even-pair', kind: 'pii', pattern: /\d\d/, validate: (match) => match === '24' });
    expect(scan('1245', [ssn])).toMatchObject([{ start: 1, end: 3 }]);
  });

  it('is repeatable: the shared global patterns keep no state between calls', () => {
    const text = 'ana@example.com and bob@example.org';
    expect(scan(text)).toEqual(scan(text));
    for (const detector of defaultDetectors) expect(detector.pattern.lastIndex).toBe(0);
  });
});

/** A plain whole-text search per detector, with the same resume rule, for comparing against `scan`. */
function reference(text: string): { detector: string; start: number; end: number }[] {
  const found: { detector: string; start: number; end: number }[] = [];
  for (const detector of defaultDetectors) {
    const pattern = new RegExp(detector.pattern.source, detector.pattern.flags);
    for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
      if (detector.validate?.(match[0]) === false) pattern.lastIndex = match.index + 1;
      else found.push({ detector: detector.id, start: match.index, end: match.index + match[0].length });
    }
  }
  return found.sort((left, right) => left.start - right.start);
}

describe('scan near hints', () => {
  it('finds what a whole-text search finds, however hints and matches crowd together (seeded)', () => {
    const pieces = [
      'a@b ',
      'x@y.z ',
      'ana@example.com',
      '@@',
      'bob.smith@mail.example.org ',
      `${openaiKey}`,
      'sk-',
      'eyJ',
      `${jwt} `,
      'AKIAIOSFODNN7EXAMPLE',
      'ASIA',
      'Bearer abcdef1234567890xyz ',
      ' word ',
      '.',
      '-',
    ];
    let state = 12_345;
    const random = () => {
      state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
      return state / 2_147_483_648;
    };
    for (let round = 0; round < 300; round++) {
      let text = '';
      const count = 1 + Math.floor(random() * 20);
      for (let index = 0; index < count; index++) text += pieces[Math.floor(random() * pieces.length)];
      // No overlaps among these pieces' matches, so the merged findings are the plain matches.
      const expected = reference(text);
      const overlapping = expected.some((finding, index) => index > 0 && finding.start < expected[index - 1]!.end);
      if (overlapping) continue;
      expect(
        scan(text).map(({ detector, start, end }) => ({ detector, start, end })),
        text,
      ).toEqual(expected);
    }
  });
});

describe('redact', () => {
  it('replaces each finding with [REDACTED:<id>] and returns the findings in the original text', () => {
    const text = `mail ana@example.com, key ${openaiKey}.`;
    const result = redact(text);
    expect(result.text).toBe('mail [REDACTED:email], key [REDACTED:openai-key].');
    expect(result.findings.map((finding) => text.slice(finding.start, finding.end))).toEqual([
      'ana@example.com',
      openaiKey,
    ]);
  });

  it('returns clean text as it is', () => {
    expect(redact('nothing to see')).toEqual({ text: 'nothing to see', findings: [] });
  });

  it('uses a custom replacement given the finding and the original text', () => {
    const result = redact('card 4111 1111 1111 1111 ok', {
      replacement: (finding, original) => `<${finding.kind}:${original.slice(-4)}>`,
    });
    expect(result.text).toBe('card <pii:1111> ok');
  });

  it('redacts with custom detectors alongside the built-ins', () => {
    const employee = defineDetector({ id: 'employee-id', kind: 'pii', label: 'Employee id', pattern: /\bEMP-\d{6}\b/ });
    expect(redact('ask EMP-123456 or ana@example.com', { detectors: [...defaultDetectors, employee] }).text).toBe(
      'ask [REDACTED:employee-id] or [REDACTED:email]',
    );
  });
});

describe('ruling a text out in one search', () => {
  it('text with no hint and no telling character of any detector has no findings; one with a digit is scanned', () => {
    expect(scan('Summarise the contract in one line.', piiDetectors)).toEqual([]);
    expect(scan('Call me on +44 20 7946 0958 tomorrow.', piiDetectors)).toEqual([
      expect.objectContaining({ detector: 'phone', start: 11, end: 27 }),
    ]);
    expect(scan('mail ana@example.com', piiDetectors)).toEqual([expect.objectContaining({ detector: 'email' })]);
  });

  it('a detector without hints or chars in the list turns the shortcut off: its matches are still found', () => {
    const word = defineDetector({ id: 'codeword', kind: 'secret', pattern: /\bswordfish\b/ });
    expect(scan('the password is swordfish', [...piiDetectors, word])).toEqual([
      expect.objectContaining({ detector: 'codeword' }),
    ]);
  });

  it('a detector that gives chars must give a non-empty string', () => {
    expect(() => defineDetector({ id: 'x', kind: 'pii', pattern: /x\d/, chars: '' })).toThrow(/chars must be/);
  });
});
