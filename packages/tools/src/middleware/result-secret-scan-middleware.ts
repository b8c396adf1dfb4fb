import { type Detector, secretDetectors } from '@gatehouse/core';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { emitToolEvent } from '../audit/events.js';
import { redactSecrets, redactSecretsInValue } from '../audit/secrets.js';
import type { ToolMiddleware } from '../context.js';
import { toolEventFields } from './event-fields.js';

export interface ResultSecretScanOptions {
  /** What to look for; default core's `secretDetectors`. Add `piiDetectors` to redact personal data too. */
  detectors?: readonly Detector[];
}

/**
 * Scans the text content of each result (and its `structuredContent`) for secrets (API keys, tokens, private keys,
 * passwords in URLs) and replaces them with `[REDACTED:<kind>]` before the caller (a model) sees them. Emits
 * `tool-result-redacted` (kinds and count, never the secrets) when it redacted anything.
 */
export function resultSecretScanMiddleware(options: ResultSecretScanOptions = {}): ToolMiddleware {
  const detectors = options.detectors ?? secretDetectors;
  return async (context, next) => {
    const result = await next();
    const content = result.content;
    if (!Array.isArray(content)) return result;
    let kinds: Set<string> | undefined;
    let count = 0;
    let replaced: CallToolResult['content'] | undefined;
    for (let index = 0; index < content.length; index++) {
      const item = content[index]!;
      if (item.type !== 'text') continue;
      const found = redactSecrets(item.text, detectors);
      if (found === undefined) continue;
      replaced ??= content.slice();
      replaced[index] = { ...item, text: found.text };
      kinds ??= new Set();
      for (const kind of found.kinds) kinds.add(kind);
      count += found.count;
    }
    let structured = result.structuredContent;
    if (structured !== undefined) {
      const serialized = JSON.stringify(structured);
      const found = redactSecrets(serialized, detectors);
      if (found !== undefined) {
        structured = redactSecretsInValue(structured, detectors);
        kinds ??= new Set();
        for (const kind of found.kinds) kinds.add(kind);
        count += found.count;
      }
    }
    if (kinds === undefined) return result;
    emitToolEvent(context.events, 'tool-result-redacted', { ...toolEventFields(context), kinds: [...kinds], count });
    if (context.span.isRecording()) {
      context.span.addEvent('gatehouse.tool.result_redacted', { 'gatehouse.redaction.kinds': [...kinds] });
    }
    return {
      ...result,
      ...(replaced && { content: replaced }),
      ...(structured !== result.structuredContent && { structuredContent: structured }),
    };
  };
}
