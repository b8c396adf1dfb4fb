import { type Detector, redact, redactValue, secretDetectors } from '@gatehouse/core';

/** Credential keys beyond core's built-in ones (`authorization`, `token`, `password`, `apiKey`, `secret`, …). */
const toolSecretKeys = [
  'authToken',
  'apiToken',
  'accessKey',
  'secretKey',
  'secretAccessKey',
  'sessionToken',
  'idToken',
  'bearerToken',
  'githubToken',
  'credentials',
  'credential',
  'passphrase',
  'apiSecret',
  'sessionId',
];

/** What redaction found and the text with each secret replaced by `[REDACTED:<detector>]`. */
export interface SecretRedaction {
  text: string;
  kinds: string[];
  count: number;
}

/**
 * Finds and redacts secrets in `text` with core's detectors (secrets only by default: API keys, tokens, private
 * keys, JWTs, bearer tokens); answers undefined when there are none.
 */
export function redactSecrets(
  text: string,
  detectors: readonly Detector[] = secretDetectors,
): SecretRedaction | undefined {
  const { text: redacted, findings } = redact(text, { detectors });
  if (findings.length === 0) return undefined;
  const kinds = [...new Set(findings.map((finding) => finding.detector))];
  return { text: redacted, kinds, count: findings.length };
}

/**
 * A copy of tool arguments fit for an event or a log: values under credential keys (`authorization`, `token`,
 * `password`, `apiKey`, `secret`, `githubToken`, …) become `[REDACTED]`, and secrets the detectors recognise
 * inside strings become `[REDACTED:<detector>]`. The input is not changed.
 */
export function redactArguments(
  args: Record<string, unknown>,
  detectors: readonly Detector[] = secretDetectors,
): Record<string, unknown> {
  return redactValue(args, { detectors, secretKeys: toolSecretKeys });
}

/** Like `redactArguments`, for any JSON-like value (a result's `structuredContent`). */
export function redactSecretsInValue<T>(value: T, detectors: readonly Detector[] = secretDetectors): T {
  return redactValue(value, { detectors, secretKeys: toolSecretKeys });
}
