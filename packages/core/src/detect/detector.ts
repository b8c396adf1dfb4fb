import { ConfigError } from '../errors/index.js';
import { patternLengthBounds } from './pattern-length.js';

/** What a detector looks for: personal data or a credential. */
export type DetectorKind = 'pii' | 'secret';

/**
 * How a long match can be streamed without holding back its whole length: every match begins with one of
 * `starts` (literal text) and, after it, runs only over characters of `charset` (one character class), so a
 * match is settled as soon as a character outside `charset` follows. A stream scanner then holds text back
 * only from an unsettled start (a private key block, a JWT) instead of a window as long as the longest match.
 */
export interface DetectorExtent {
  starts: readonly string[];
  charset: RegExp;
}

/** One kind of sensitive text, found by a regular expression and an optional check on each match. */
export interface Detector {
  /** Stable name, used in findings and in `[REDACTED:<id>]`. */
  id: string;
  kind: DetectorKind;
  /** Human-readable name for messages and audit records. */
  label: string;
  /**
   * Global regular expression; it must not match the empty string, and its lookarounds may look at most 32
   * characters behind a match and 8 past it (the context `scan` and the stream scanner keep around a match).
   */
  pattern: RegExp;
  /** Rejects a match the pattern alone cannot rule out (a checksum, a check letter). */
  validate?(match: string): boolean;
  /** The longest text a match can span: how much a stream scanner holds back for this detector. */
  maxLength: number;
  /** Literal strings of which every match contains one: text with none of them is skipped without a scan. */
  hints?: readonly string[];
  /**
   * Characters of which every match contains at least one (a number's digits). A text with none of them, and
   * with no hint of any other detector scanned with it, is ruled out by one search for all of them; unlike
   * `hints`, they do not narrow where the pattern is searched (common characters would only cost).
   */
  chars?: string;
  /**
   * How far into a match its hint ends at most (defaults to `maxLength`, or to the longest start with an
   * extent): a tighter figure lets `scan` try fewer positions before each hint.
   */
  hintWithin?: number;
  /** For matches longer than a stream window; see {@link DetectorExtent}. */
  extent?: DetectorExtent;
}

/** One piece of sensitive text: `text.slice(start, end)`. */
export interface Finding {
  /** The detector's `id`. */
  detector: string;
  kind: DetectorKind;
  label: string;
  start: number;
  end: number;
}

export interface DefineDetectorOptions {
  id: string;
  kind: DetectorKind;
  pattern: RegExp;
  /** Defaults to `id`. */
  label?: string;
  validate?: (match: string) => boolean;
  /** Defaults to the bound read from the pattern; required when the pattern is unbounded (`+`, `*`). */
  maxLength?: number;
  hints?: readonly string[];
  chars?: string;
  hintWithin?: number;
  extent?: DetectorExtent;
}

const idPattern = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/**
 * Builds a detector from a pattern, checked at set-up time: the global flag is added (and the sticky flag
 * dropped), a pattern that can match the empty string is refused, and `maxLength` is read from the pattern
 * when not given. Throws `ConfigError` naming the field to fix.
 *
 * @example
 * const employeeId = defineDetector({ id: 'employee-id', kind: 'pii', pattern: /\bEMP-\d{6}\b/ });
 * scan('ask EMP-123456', [...defaultDetectors, employeeId]);
 */
export function defineDetector(options: DefineDetectorOptions): Detector {
  const fail = (field: string, message: string): never => {
    throw new ConfigError({ message: `Invalid detector ${JSON.stringify(options?.id)}: ${message}`, path: field });
  };
  if (typeof options !== 'object' || options === null) fail('detector', 'expected an options object');
  if (typeof options.id !== 'string' || !idPattern.test(options.id))
    fail('detector.id', 'id must be kebab-case letters and digits, like "employee-id"');
  if (options.kind !== 'pii' && options.kind !== 'secret') fail('detector.kind', 'kind must be "pii" or "secret"');
  if (!(options.pattern instanceof RegExp)) fail('detector.pattern', 'pattern must be a RegExp');
  if (options.validate !== undefined && typeof options.validate !== 'function')
    fail('detector.validate', 'validate must be a function (match) => boolean');

  const flags = `${options.pattern.flags.replace(/[gy]/g, '')}g`;
  const pattern = new RegExp(options.pattern.source, flags);
  const bounds = patternLengthBounds(pattern);
  if (bounds.min === 0 || pattern.exec('')?.[0] === '')
    fail('detector.pattern', `pattern ${pattern} can match the empty string; make every match at least 1 character`);
  pattern.lastIndex = 0;

  let maxLength = options.maxLength;
  if (maxLength === undefined) {
    if (!Number.isFinite(bounds.max))
      fail(
        'detector.maxLength',
        `pattern ${pattern} can match text of any length; bound its quantifiers ({1,64} instead of +) or give maxLength`,
      );
    maxLength = bounds.max;
  } else if (!Number.isInteger(maxLength) || maxLength < 1) {
    fail('detector.maxLength', 'maxLength must be a positive integer');
  }

  const hints = options.hints ?? options.extent?.starts;
  if (hints !== undefined && (!Array.isArray(hints) || hints.some((hint) => typeof hint !== 'string' || hint === '')))
    fail('detector.hints', 'hints must be non-empty strings');
  const extent = options.extent;
  const hintWithin = options.hintWithin;
  if (
    hintWithin !== undefined &&
    (!Number.isInteger(hintWithin) || hintWithin < 1 || hintWithin > (maxLength as number))
  )
    fail('detector.hintWithin', 'hintWithin must be a positive integer no larger than maxLength');
  if (extent !== undefined) {
    if (!Array.isArray(extent.starts) || extent.starts.length === 0 || extent.starts.some((start) => !start))
      fail('detector.extent.starts', 'starts must list the non-empty text every match begins with');
    if (!(extent.charset instanceof RegExp) || !/^\[.*\]$/s.test(extent.charset.source))
      fail('detector.extent.charset', 'charset must be a single character class such as /[A-Za-z0-9_-]/');
  }

  const detector: Detector = {
    id: options.id,
    kind: options.kind,
    label: options.label ?? options.id,
    pattern,
    maxLength: maxLength as number,
  };
  if (options.validate) detector.validate = options.validate;
  if (hints) detector.hints = [...hints];
  if (extent) detector.extent = { starts: [...extent.starts], charset: extent.charset };
  if (options.chars !== undefined) {
    if (typeof options.chars !== 'string' || options.chars === '')
      fail('detector.chars', 'chars must be a non-empty string of the characters every match contains one of');
    detector.chars = options.chars;
  }
  if (hintWithin !== undefined) detector.hintWithin = hintWithin;
  else if (extent && options.hints === undefined)
    detector.hintWithin = Math.max(...extent.starts.map((start) => start.length));
  return detector;
}
