import { ConfigError, InvalidInputError } from '../errors/index.js';
import { defaultDetectors } from './builtin.js';
import type { Detector, Finding } from './detector.js';
import {
  byPosition,
  checkDetector,
  defaultReplacement,
  hinted,
  lookahead,
  lookbehind,
  mergeOverlaps,
  type RankedFinding,
  type RedactOptions,
  replaceFindings,
} from './scan.js';

export interface StreamScannerOptions extends RedactOptions {
  /**
   * `redact` (the default) releases text with findings replaced; `detect` releases it unchanged and reports
   * each finding no later than the text it covers, so a guardrail can cut the stream first.
   */
  mode?: 'redact' | 'detect';
  /**
   * The most text held back for detectors without an `extent`; 256 by default. A detector that can span more
   * must declare an `extent` (or this must be raised), else `createStreamScanner` throws `ConfigError`.
   */
  maxWindow?: number;
}

/** What a push or the end answers: text safe to pass on, and what was found in it. */
export interface StreamScanResult {
  /** The next piece of the stream, in order; redacted in `redact` mode. */
  release: string;
  /** Findings in `release` (offsets from the start of the whole original stream). */
  findings: Finding[];
}

export interface StreamScanner {
  /** Adds a chunk; answers the text that can no longer be part of a finding and the findings in it. */
  push(chunk: string): StreamScanResult;
  /** Ends the stream: answers everything still held back. */
  end(): StreamScanResult;
}

/** One detector's progress through the stream. */
interface Lane {
  detector: Detector;
  rank: number;
  /** Where this detector's next search starts (absolute): the search of a whole-text scan resumes there. */
  from: number;
  /** `maxLength` plus lookahead: a match attempt starting this far before the end is settled. */
  reach: number;
  /** Measures a run of the extent's charset (sticky), when the detector has an extent. */
  run?: RegExp;
  /** Longest extent start, minus one: a start cut at the end of the buffer is at most this long. */
  partialStart: number;
}

/**
 * Scans streamed text (an LLM's output, a tool's result) chunk by chunk. It holds back only the text that a
 * finding could still cover: the last `maxLength` characters for most detectors, and for detectors with an
 * `extent` (private keys, JWTs, API keys) the text from an unfinished start. A pattern split across chunks
 * (`4111 1111` + `1111 1111`) is caught before any part of it is released. Text is released in order and in
 * full; in `redact` mode the concatenated releases equal `redact()` of the whole text.
 *
 * @example
 * const scanner = createStreamScanner({ mode: 'redact' });
 * for await (const chunk of stream) write(scanner.push(chunk).release);
 * write(scanner.end().release);
 */
export function createStreamScanner(options: StreamScannerOptions = {}): StreamScanner {
  const detectors = options.detectors ?? defaultDetectors;
  const mode = options.mode ?? 'redact';
  const replacement = options.replacement ?? defaultReplacement;
  const maxWindow = options.maxWindow ?? 256;
  if (mode !== 'redact' && mode !== 'detect')
    throw new ConfigError({ message: 'Invalid stream scanner: mode must be "redact" or "detect"', path: 'mode' });
  if (!Number.isInteger(maxWindow) || maxWindow < 1)
    throw new ConfigError({
      message: 'Invalid stream scanner: maxWindow must be a positive integer',
      path: 'maxWindow',
    });

  const lanes: Lane[] = detectors.map((detector, rank) => {
    checkDetector(detector, rank);
    if (detector.extent === undefined && detector.maxLength > maxWindow)
      throw new ConfigError({
        message: `Invalid stream scanner: detector "${detector.id}" can span ${detector.maxLength} characters, more than maxWindow (${maxWindow}); give it an extent or raise maxWindow`,
        path: `detectors[${rank}].maxLength`,
      });
    const lane: Lane = { detector, rank, from: 0, reach: detector.maxLength + lookahead, partialStart: 0 };
    if (detector.extent) {
      const charset = detector.extent.charset;
      lane.run = new RegExp(`(?:${charset.source})*`, `y${charset.flags.replace(/[gyd]/g, '')}`);
      lane.partialStart = Math.max(...detector.extent.starts.map((start) => start.length)) - 1;
    }
    return lane;
  });

  /** The original text from `base` (absolute offset) on: the held text plus some released context. */
  let buffer = '';
  let base = 0;
  let released = 0;
  let ended = false;
  /** Settled findings not yet released (they may still merge with findings to come). */
  let pending: RankedFinding[] = [];

  /** Where the run of `lane`'s charset that begins at absolute `position` ends (absolute). */
  const runEnd = (lane: Lane, position: number): number => {
    const run = lane.run!;
    run.lastIndex = position - base;
    const match = run.exec(buffer);
    return position + (match === null ? 0 : match[0].length);
  };

  /**
   * The first position from `from` on where an extent detector's match could still start: a start whose
   * charset run reaches the end of the buffer (the match may go on), or the tail where a start may be cut.
   */
  const firstOpen = (lane: Lane, from: number): number => {
    const end = base + buffer.length;
    let open = Math.max(from, end - lane.partialStart);
    for (const start of lane.detector.extent!.starts) {
      for (let index = buffer.indexOf(start, from - base); index !== -1; index = buffer.indexOf(start, index + 1)) {
        const position = base + index;
        if (position >= open) break;
        if (position + lane.reach > end && runEnd(lane, position + start.length) >= end) {
          open = position;
          break;
        }
      }
    }
    return open;
  };

  /**
   * Collects the lane's settled findings and answers the first position where one of its findings could
   * still start: everything before it is decided for this detector, as a whole-text scan would decide it.
   */
  const advanceLane = (lane: Lane, final: boolean): number => {
    const end = base + buffer.length;
    const { detector } = lane;
    let cursor = lane.from;
    // Matches starting before `open` are settled: no text to come can change them or what precedes them.
    let open = final ? end : lane.run ? firstOpen(lane, cursor) : Math.max(cursor, end - lane.reach + 1);
    if (hinted(detector, buffer, Math.max(0, cursor - base))) {
      const pattern = detector.pattern;
      pattern.lastIndex = cursor - base;
      for (let match = pattern.exec(buffer); match !== null; match = pattern.exec(buffer)) {
        const start = base + match.index;
        if (start >= open) break;
        const stop = start + match[0].length;
        if (stop === start || (detector.validate !== undefined && !detector.validate(match[0]))) {
          cursor = start + 1;
        } else {
          pending.push({
            detector: detector.id,
            kind: detector.kind,
            label: detector.label,
            start,
            end: stop,
            rank: lane.rank,
          });
          cursor = stop;
        }
        if (lane.run && !final && open < cursor) open = firstOpen(lane, cursor);
        pattern.lastIndex = cursor - base;
      }
      pattern.lastIndex = 0;
    }
    lane.from = Math.max(cursor, open);
    return lane.from;
  };

  const advance = (final: boolean): StreamScanResult => {
    const end = base + buffer.length;
    let decided = end;
    for (const lane of lanes) decided = Math.min(decided, advanceLane(lane, final));
    const findings: Finding[] = [];
    let releaseTo = decided;
    if (pending.length > 0) {
      pending.sort(byPosition);
      const open = mergeOverlaps(pending, decided, (finding) => findings.push(finding));
      pending = pending.slice(open);
      if (pending.length > 0) releaseTo = Math.min(releaseTo, pending[0]!.start);
    }
    // Never end a release between the two halves of a surrogate pair: each release must be valid text.
    const splitsPair = releaseTo > released && isHighSurrogate(buffer.charCodeAt(releaseTo - 1 - base));
    if (!final && splitsPair && findings.at(-1)?.end !== releaseTo) releaseTo--;
    if (releaseTo <= released) return { release: '', findings };
    const text = buffer.slice(released - base, releaseTo - base);
    const release = mode === 'redact' ? replaceFindings(text, released, findings, replacement) : text;
    released = releaseTo;
    const keep = Math.max(base, released - lookbehind);
    buffer = buffer.slice(keep - base);
    base = keep;
    return { release, findings };
  };

  return {
    push(chunk: string): StreamScanResult {
      if (ended) throw new InvalidInputError({ message: 'Stream scanner: push() after end(); create a new scanner' });
      if (typeof chunk !== 'string')
        throw new InvalidInputError({ message: `Stream scanner: push() expects a string, got ${typeof chunk}` });
      if (chunk === '') return { release: '', findings: [] };
      buffer += chunk;
      return advance(false);
    },
    end(): StreamScanResult {
      if (ended) return { release: '', findings: [] };
      ended = true;
      return advance(true);
    },
  };
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
