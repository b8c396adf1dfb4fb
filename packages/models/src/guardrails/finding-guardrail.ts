import { createStreamScanner, type Detector, type Finding, type StreamScanResult, scan } from '@gatehouse/core';
import type { ModelContext } from '../context/index.js';
import { stepsMiddleware } from '../context/steps.js';
import {
  asGuardrail,
  blocked,
  type GuardrailAction,
  type GuardrailMiddleware,
  type GuardrailPhase,
  report,
  type Trip,
  uniqueIds,
} from './report.js';
import { type ChannelGuard, guardStream, type Outcome } from './stream.js';
import { mapInputText, mapOutputText, type TextKind } from './text.js';

/** The text put in place of a finding when redacting; defaults to `[REDACTED:<detector id>]`. */
export type Replacement = (finding: Finding, original: string) => string;

/** A guardrail that finds spans of text with detectors (built-in, or compiled from regular expressions). */
export interface FindingGuardrailSpec {
  name: string;
  phase: GuardrailPhase;
  action: GuardrailAction;
  detectors: readonly Detector[];
  replacement?: Replacement | undefined;
  /** Which texts it reads; both by default (tool call arguments count for secrets). */
  kinds?: readonly TextKind[];
}

const defaultReplacement: Replacement = (finding) => `[REDACTED:${finding.detector}]`;

function replaceFindings(text: string, findings: readonly Finding[], replacement: Replacement): string {
  let result = '';
  let position = 0;
  for (const finding of findings) {
    result += text.slice(position, finding.start) + replacement(finding, text.slice(finding.start, finding.end));
    position = finding.end;
  }
  return result + text.slice(position);
}

/**
 * Builds the middleware of a detector guardrail. Everything is compiled here, once: the detector list, the
 * stream window, a check that a stream scanner accepts them (so a bad detector fails at set-up, not mid-call).
 * On a complete request or answer each text is scanned once; a stream is scanned incrementally.
 */
export function findingGuardrail(spec: FindingGuardrailSpec): GuardrailMiddleware {
  const { name, action, detectors } = spec;
  const replacement = spec.replacement ?? defaultReplacement;
  const kinds = new Set<TextKind>(spec.kinds ?? ['text', 'tool-arguments']);
  const checkInput = spec.phase !== 'output';
  const checkOutput = spec.phase !== 'input';
  // A window wide enough for the longest detector without an extent (a regex rule may be longer than 256).
  let maxWindow = 256;
  for (const detector of detectors) if (!detector.extent) maxWindow = Math.max(maxWindow, detector.maxLength);
  const scannerOptions = {
    detectors,
    mode: action === 'redact' ? ('redact' as const) : ('detect' as const),
    maxWindow,
    replacement,
  };
  createStreamScanner(scannerOptions);

  const textToo = kinds.has('text');
  const argumentsToo = kinds.has('tool-arguments');

  // The check in progress (checks run synchronously, one at a time; a nested one saves and restores these): one
  // mapper made here instead of a closure per call.
  let checking: ModelContext | undefined;
  let checkingPhase: 'input' | 'output' = 'input';
  let found: string[] | undefined;
  const mapper = (text: string, kind: TextKind): string => {
    if (!(kind === 'text' ? textToo : argumentsToo)) return text;
    const findings = scan(text, detectors);
    if (findings.length === 0) return text;
    found ??= [];
    for (const finding of findings) found.push(finding.detector);
    if (action === 'block') {
      const trip = { detectors: uniqueIds(found) };
      report(checking!, name, checkingPhase, action, trip);
      throw blocked(name, checkingPhase, trip);
    }
    return action === 'redact' ? replaceFindings(text, findings, replacement) : text;
  };

  /**
   * Scans each text of the request (`input`) or the answer (`output`) once; redacts, or throws on the first
   * text with a finding when blocking.
   */
  const check = (context: ModelContext, phase: 'input' | 'output', value: any): any => {
    const outer = checking;
    const outerPhase = checkingPhase;
    const outerFound = found;
    checking = context;
    checkingPhase = phase;
    found = undefined;
    try {
      const api = context.request.api;
      const mapped = phase === 'input' ? mapInputText(api, value, mapper) : mapOutputText(api, value, mapper);
      if (found !== undefined) report(context, name, phase, action, { detectors: uniqueIds(found) });
      return mapped;
    } finally {
      checking = outer;
      checkingPhase = outerPhase;
      found = outerFound;
    }
  };

  const open = (kind: TextKind): ChannelGuard | undefined => {
    if (!kinds.has(kind)) return undefined;
    const scanner = createStreamScanner(scannerOptions);
    // Original characters released so far: findings' offsets count from the stream's start.
    let offset = 0;
    const outcome = (result: StreamScanResult): Outcome => {
      const { release, findings } = result;
      if (findings.length === 0) {
        offset += release.length;
        return { release };
      }
      const trip: Trip = { detectors: uniqueIds(findings.map((finding) => finding.detector)) };
      if (action === 'block') return { release: release.slice(0, findings[0]!.start - offset), block: trip };
      offset += release.length;
      return { release, trip };
    };
    return { push: (text) => outcome(scanner.push(text)), end: () => outcome(scanner.end()) };
  };

  // As steps: leading the layer's chain they run in the call's own promise step (none of their own).
  return asGuardrail(
    name,
    stepsMiddleware<undefined>({
      before: (context) => {
        if (!checkInput) return undefined;
        const { request } = context;
        const body = check(context, 'input', request.body);
        if (body !== request.body) request.body = body;
        return undefined;
      },
      after: (context, result) => {
        if (!checkOutput) return result;
        const { api } = context.request;
        if (result.type === 'response') {
          const data = check(context, 'output', result.data);
          return data === result.data ? result : { ...result, data };
        }
        return guardStream(api, result, {
          open,
          observeOnly: action === 'flag',
          report: (trip, cut) => report(context, name, 'output', cut ? 'block' : action, trip),
          error: (trip) => blocked(name, 'output', trip),
        });
      },
    }),
  );
}
