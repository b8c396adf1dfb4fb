import { redact, redactValue, secretDetectors } from '@gatehouse/core';

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
/**
 * Finds and redacts secrets in `text` with core's detectors (secrets only by default: API keys, tokens, private
 * keys, JWTs, bearer tokens); answers undefined when there are none.
 */
export function redactSecrets(text, detectors = secretDetectors) {
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
export function redactArguments(args, detectors = secretDetectors) {
  return redactValue(args, { detectors, secretKeys: toolSecretKeys });
}
/** Like `redactArguments`, for any JSON-like value (a result's `structuredContent`). */
export function redactSecretsInValue(value, detectors = secretDetectors) {
  return redactValue(value, { detectors, secretKeys: toolSecretKeys });
}
