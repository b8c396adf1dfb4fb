import { ConfigError, InvalidInputError } from '../errors/index.js';
import { defaultDetectors } from './builtin.js';
import type { Detector, Finding } from './detector.js';

/** A finding and the detector's position in the list, which breaks ties between equally long findings. */
export interface RankedFinding extends Finding {
  rank: number;
}

/**
 * One global pattern for a detector's hints, built once per detector: irregexp searches literal text faster
 * than repeated `indexOf` calls, most of all for hints that start with a common letter (`eyJ`, `sk_live_`).
 */
const hintPatterns = new WeakMap<Detector, RegExp>();

export function hintPatternOf(detector: Detector): RegExp | undefined {
  const hints = detector.hints;
  if (hints === undefined || hints.length === 0) return undefined;
  let pattern = hintPatterns.get(detector);
  if (pattern === undefined) {
    pattern = hintRegExp(hints, 'g');
    hintPatterns.set(detector, pattern);
  }
  return pattern;
}

/**
 * One search for the hints and `chars` of every detector of a list, when each has either; built (and the
 * detectors checked) once per list.
 */
const prefilters = new WeakMap<readonly Detector[], readonly RegExp[] | null>();

/**
 * The searches that rule a text out for a whole list: one for the single characters (a fast scan, and the likely
 * hit, so a text that passes pays little), then one for the longer hints.
 */
/** The last list asked for and its prefilter: a guardrail scans with the same list again and again. */
let lastList: readonly Detector[] | undefined;
let lastPrefilter: readonly RegExp[] | null = null;

function prefilterOf(detectors: readonly Detector[]): readonly RegExp[] | undefined {
  if (detectors === lastList) return lastPrefilter ?? undefined;
  let prefilter = prefilters.get(detectors);
  if (prefilter === undefined) {
    // Checked here too: a text the prefilter rules out never reaches the per-detector check.
    detectors.forEach(checkDetector);
    const hints = new Set<string>();
    for (const detector of detectors) {
      const own = [...(detector.hints ?? []), ...(detector.chars ?? '')];
      if (own.length === 0) {
        prefilter = null;
        break;
      }
      for (const hint of own) hints.add(hint);
    }
    if (prefilter === undefined) {
      const single = [...hints].filter((hint) => hint.length === 1);
      const longer = [...hints].filter((hint) => hint.length > 1);
      const searches: RegExp[] = [];
      if (single.length > 0) searches.push(hintRegExp(single, ''));
      if (longer.length > 0) searches.push(hintRegExp(longer, ''));
      prefilter = searches;
    }
    prefilters.set(detectors, prefilter);
  }
  lastList = detectors;
  lastPrefilter = prefilter;
  return prefilter ?? undefined;
}

/** A pattern matching any of `hints`: single characters as one class, the others as alternatives, longest first. */
function hintRegExp(hints: readonly string[], flags: string): RegExp {
  const literal = (hint: string) => hint.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  const single = hints.filter((hint) => hint.length === 1);
  const longer = hints.filter((hint) => hint.length > 1).sort((left, right) => right.length - left.length);
  const parts = longer.map(literal);
  if (single.length > 0) parts.push(`[${single.map(literal).join('')}]`);
  return new RegExp(parts.join('|'), flags);
}

/** Whether `text` from `from` on contains one of the detector's hints (true when it has none). */
export function hinted(detector: Detector, text: string, from: number): boolean {
  const pattern = hintPatternOf(detector);
  if (pattern === undefined) return true;
  pattern.lastIndex = from;
  const found = pattern.test(text);
  pattern.lastIndex = 0;
  return found;
}

/** Characters a pattern may look ahead past its match (`(?!\d)`, `\b`); patterns must look no further. */
export const lookahead = 8;
/** Characters a pattern may look behind its match (`(?<![\w-])`); patterns must look no further. */
export const lookbehind = 32;

/**
 * Every validated match of one detector in `text`, found as one search over the whole text would find them:
 * after a match the search resumes at its end, after a rejected one at the next character (so `1234 4111…`
 * still finds the card).
 *
 * A detector with hints is searched only near them: a match holds a hint ending at most `hintWithin`
 * (`maxLength` by default) into it, so it starts at most that far before one. Each stretch is searched in a
 * slice with room for the pattern's lookarounds, which gives the same matches as the whole text at a
 * fraction of the cost (an email pattern tried at every word of a long message is the slowest thing a
 * guardrail does).
 */
function collect(detector: Detector, rank: number, text: string, into: RankedFinding[]): void {
  checkDetector(detector, rank);
  const hintPattern = hintPatternOf(detector);
  if (hintPattern === undefined) {
    search(detector, rank, text, 0, 0, text.length, into);
    return;
  }
  // Hint positions as [start, end] pairs; a hint inside another's match is found too (overlapping hints).
  const positions: number[] = [];
  hintPattern.lastIndex = 0;
  for (let match = hintPattern.exec(text); match !== null; match = hintPattern.exec(text)) {
    positions.push(match.index, match.index + match[0].length);
    hintPattern.lastIndex = match.index + 1;
  }
  hintPattern.lastIndex = 0;
  if (positions.length === 0) return;
  const maxLength = detector.maxLength;
  const within = detector.hintWithin ?? maxLength;
  let cursor = 0;
  let index = 0;
  while (index < positions.length) {
    // Starts that could hold this hint, widened over the following hints while the ranges touch.
    const first = Math.max(cursor, positions[index + 1]! - within);
    let last = positions[index]!;
    index += 2;
    while (index < positions.length && positions[index + 1]! - within <= last + 1) {
      last = Math.max(last, positions[index]!);
      index += 2;
    }
    if (last < cursor) continue;
    const from = Math.max(0, first - lookbehind);
    const slice = text.slice(from, Math.min(text.length, last + maxLength + lookahead));
    cursor = search(detector, rank, slice, from, first - from, last - from, into);
  }
}

/**
 * A detector built by hand (not by `defineDetector`) with a non-global pattern would make every search
 * start over at the first match, forever.
 */
export function checkDetector(detector: Detector, rank: number): void {
  if (!(detector?.pattern instanceof RegExp) || !detector.pattern.global)
    throw new ConfigError({
      message: `Invalid detector ${JSON.stringify(detector?.id)}: its pattern must be a global RegExp; build it with defineDetector()`,
      path: `detectors[${rank}].pattern`,
    });
}

/**
 * Searches `text` (which begins at `offset` in the scanned text) from `from` for matches starting at most at
 * `last`, all relative to `text`; answers where the search would resume, in scanned-text offsets.
 */
function search(
  detector: Detector,
  rank: number,
  text: string,
  offset: number,
  from: number,
  last: number,
  into: RankedFinding[],
): number {
  const pattern = detector.pattern;
  let cursor = from;
  pattern.lastIndex = from;
  for (let match = pattern.exec(text); match !== null && match.index <= last; match = pattern.exec(text)) {
    const start = match.index;
    const end = start + match[0].length;
    if (end === start || (detector.validate !== undefined && !detector.validate(match[0]))) {
      cursor = start + 1;
    } else {
      into.push({
        detector: detector.id,
        kind: detector.kind,
        label: detector.label,
        start: offset + start,
        end: offset + end,
        rank,
      });
      cursor = end;
    }
    pattern.lastIndex = cursor;
  }
  pattern.lastIndex = 0;
  return offset + cursor;
}

/** Orders findings by start, the longer first, then by detector rank. */
export function byPosition(left: RankedFinding, right: RankedFinding): number {
  return left.start - right.start || right.end - left.end || left.rank - right.rank;
}

/**
 * Merges overlapping findings (sorted by {@link byPosition}) into one each: it names the longest of them
 * (the earliest, then the first detector, on a tie) and spans them all, so no part of any is left in clear.
 * Calls `emit` for every merged finding whose end is at most `closedBefore` and answers the index of the
 * first finding not emitted (the start of the first cluster that more findings could still join).
 */
export function mergeOverlaps(
  sorted: readonly RankedFinding[],
  closedBefore: number,
  emit: (finding: Finding) => void,
): number {
  let index = 0;
  while (index < sorted.length) {
    const first = sorted[index]!;
    let best = first;
    let end = first.end;
    let next = index + 1;
    for (; next < sorted.length && sorted[next]!.start < end; next++) {
      const candidate = sorted[next]!;
      if (candidate.end - candidate.start > best.end - best.start) best = candidate;
      if (candidate.end > end) end = candidate.end;
    }
    if (end > closedBefore) return index;
    emit({ detector: best.detector, kind: best.kind, label: best.label, start: first.start, end });
    index = next;
  }
  return index;
}

/** Whether any of the prefilter's patterns finds something in `text` (a loop: no closure per call). */
function passes(prefilter: readonly RegExp[], text: string): boolean {
  for (let index = 0; index < prefilter.length; index++) if (prefilter[index]!.test(text)) return true;
  return false;
}

/**
 * Finds sensitive text. Findings are sorted by start and never overlap: overlapping matches merge into
 * one that names the longest and covers them all.
 *
 * @example
 * scan('mail ana@example.com') // [{ detector: 'email', kind: 'pii', label: 'Email address', start: 5, end: 20 }]
 */
export function scan(text: string, detectors: readonly Detector[] = defaultDetectors): Finding[] {
  if (typeof text !== 'string') throw new InvalidInputError({ message: `scan() expects a string, got ${typeof text}` });
  // Text holding no hint and no telling character of any detector (most prompts, for the built-in ones) is
  // done in one search.
  const prefilter = prefilterOf(detectors);
  if (prefilter !== undefined && !passes(prefilter, text)) return [];
  const raw: RankedFinding[] = [];
  for (let rank = 0; rank < detectors.length; rank++) collect(detectors[rank]!, rank, text, raw);
  if (raw.length === 0) return [];
  raw.sort(byPosition);
  const findings: Finding[] = [];
  mergeOverlaps(raw, Number.POSITIVE_INFINITY, (finding) => findings.push(finding));
  return findings;
}

/** Options shared by `redact`, `redactValue` and the stream scanner. */
export interface RedactOptions {
  /** Defaults to {@link defaultDetectors}. */
  detectors?: readonly Detector[];
  /** The text put in place of a finding; defaults to `[REDACTED:<detector id>]`. */
  replacement?: (finding: Finding, original: string) => string;
}

export function defaultReplacement(finding: Finding): string {
  return `[REDACTED:${finding.detector}]`;
}

/** `text` with `findings` (sorted, not overlapping, offsets from `offset`) replaced. */
export function replaceFindings(
  text: string,
  offset: number,
  findings: readonly Finding[],
  replacement: (finding: Finding, original: string) => string,
): string {
  let result = '';
  let position = 0;
  for (const finding of findings) {
    const start = finding.start - offset;
    const end = finding.end - offset;
    result += text.slice(position, start) + replacement(finding, text.slice(start, end));
    position = end;
  }
  return position === 0 ? text : result + text.slice(position);
}

/**
 * Replaces each finding with `[REDACTED:<id>]` (or what `options.replacement` answers). The findings keep
 * their offsets in the original text.
 *
 * @example
 * redact('key sk-proj-…').text // 'key [REDACTED:openai-key]'
 */
export function redact(text: string, options: RedactOptions = {}): { text: string; findings: Finding[] } {
  const findings = scan(text, options.detectors ?? defaultDetectors);
  if (findings.length === 0) return { text, findings };
  return { text: replaceFindings(text, 0, findings, options.replacement ?? defaultReplacement), findings };
}
