import type { ModelContext } from '../context/index.js';
import { asGuardrail, blocked, type GuardrailMiddleware, type GuardrailPhase, report, type Trip } from './report.js';
import { type ChannelGuard, guardStream } from './stream.js';
import { forEachInputText, outputMessages } from './text.js';

/** What a whole-text check decides. `reason` goes into errors and events: it must not quote the text. */
export interface Verdict {
  pass: boolean;
  reason?: string | undefined;
  /** Causes a failing verdict is caused by, reported with it (the guardrail's name otherwise). */
  cause?: unknown;
}

/** A guardrail that judges a whole text at once: a schema, a custom function, a judge model. */
export interface TextGuardrailSpec {
  name: string;
  phase: GuardrailPhase;
  action: 'block' | 'flag';
  check(text: string, context: ModelContext, phase: 'input' | 'output'): Verdict | Promise<Verdict>;
  /** Calls this guardrail must not check (a judge's own call). */
  skip?(context: ModelContext): boolean;
}

/**
 * Builds the middleware of a whole-text guardrail. Input: the request's texts, joined, checked once before it
 * is sent. Output: each message of a complete answer; a stream's text is held back per channel until it
 * closes, then checked and released (or cut), since a whole-text verdict cannot be given on a prefix.
 */
export function textGuardrail(spec: TextGuardrailSpec): GuardrailMiddleware {
  const { name, action } = spec;
  const checkInput = spec.phase !== 'output';
  const checkOutput = spec.phase !== 'input';

  const decide = async (context: ModelContext, phase: 'input' | 'output', text: string): Promise<void> => {
    const verdict = await spec.check(text, context, phase);
    if (verdict.pass) return;
    const trip: Trip = { detectors: [name], reason: verdict.reason };
    report(context, name, phase, action, trip);
    if (action === 'block') throw blocked(name, phase, trip, verdict.cause);
  };

  return asGuardrail(name, async (context, next) => {
    if (spec.skip?.(context)) return next();
    const { request } = context;
    if (checkInput) {
      const texts: string[] = [];
      forEachInputText(request.api, request.body, (text, kind) => {
        if (kind === 'text' && text !== '') texts.push(text);
      });
      if (texts.length > 0) await decide(context, 'input', texts.join('\n\n'));
    }
    if (!checkOutput) return next();
    const result = await next();
    if (result.type === 'response') {
      for (const text of outputMessages(request.api, result.data))
        if (text !== '') await decide(context, 'output', text);
      return result;
    }
    const open = (kind: string): ChannelGuard | undefined => {
      if (kind !== 'text') return undefined;
      let held = '';
      return {
        push(text) {
          held += text;
          return { release: '' };
        },
        async end() {
          const verdict = await spec.check(held, context, 'output');
          if (verdict.pass) return { release: held };
          const trip: Trip = { detectors: [name], reason: verdict.reason };
          return action === 'block' ? { release: '', block: trip } : { release: held, trip };
        },
      };
    };
    return guardStream(request.api, result, {
      open,
      observeOnly: action === 'flag',
      report: (trip, cut) => report(context, name, 'output', cut ? 'block' : action, trip),
      error: (trip) => blocked(name, 'output', trip),
    });
  });
}
