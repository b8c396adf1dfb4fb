import {
  digitsOf,
  frenchNirValid,
  hasDigit,
  ibanValid,
  jwtHeaderValid,
  looksRandom,
  luhnValid,
  phoneValid,
  spanishIdValid,
  ssnValid,
} from './checks.js';
import { type Detector, defineDetector } from './detector.js';

/** Every match of a number detector (phone numbers, cards, IBANs, national ids) holds a digit. */
const digits = '0123456789';

// Every pattern is compiled once, here, at module load. Quantifiers are bounded so that each detector's
// `maxLength` is read from its pattern; boundaries are lookarounds so that a match never starts or ends in
// the middle of a longer word or number.

/** Email addresses: a local part, `@`, one to four domain labels and a top-level domain. */
export const emailDetector = defineDetector({
  id: 'email',
  kind: 'pii',
  label: 'Email address',
  pattern:
    /(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,47}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?\.){1,4}[A-Za-z]{2,18}(?![\w-]|\.[A-Za-z0-9])/,
  hints: ['@'],
  // The local part is at most 48 characters, so the `@` ends at most 49 into a match.
  hintWithin: 49,
});

/**
 * Phone numbers: international (`+` and a country code, 8 to 15 digits), North American (`(555) 123-4567`,
 * `555-123-4567`, `1-800-555-1234`) and national numbers with a trunk `0` (`020 7946 0958`,
 * `06 12 34 56 78`). Separators are required outside the international form, so plain digit runs (order
 * numbers, years, amounts) are not phones; neither are ISO dates (`2024-01-15`).
 */
export const phoneDetector = defineDetector({
  id: 'phone',
  kind: 'pii',
  label: 'Phone number',
  pattern:
    /(?<![\w+.,/-])(?<!\d[ .-])(?:\+[1-9]\d{0,2}(?:[ .-]?(?:\(\d{1,4}\)|\d{1,6})){1,6}|(?:1[ .-])?(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[ .-])[2-9]\d{2}[ .-]\d{4}|0[1-9]\d{0,3}(?:[ .-]\d{2,8}){1,4})(?![\w]|[.,:/-]\d)/,
  validate: phoneValid,
  chars: digits,
});

/** Payment card numbers: 13 to 19 digits starting 2 to 6, single spaces or dashes between, Luhn-valid. */
export const cardDetector = defineDetector({
  id: 'card',
  kind: 'pii',
  label: 'Payment card number',
  pattern: /(?<!\d[ -]?)[2-6]\d{3}(?:[ -]?\d){9,15}(?![ -]?\d)/,
  validate: (match) => luhnValid(digitsOf(match)),
  chars: digits,
});

/** International bank account numbers, grouped by four or not, with a valid mod-97 check. */
export const ibanDetector = defineDetector({
  id: 'iban',
  kind: 'pii',
  label: 'IBAN',
  pattern: /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])/,
  validate: ibanValid,
  chars: digits,
});

/** US Social Security numbers written 123-45-6789 or 123 45 6789, without the never-issued ranges. */
export const usSsnDetector = defineDetector({
  id: 'us-ssn',
  kind: 'pii',
  label: 'US Social Security number',
  pattern:
    /(?<![\d-])(?!000|666|9\d\d)\d{3}(?:-(?!00)\d{2}-(?!0000)\d{4}|[ ](?!00)\d{2}[ ](?!0000)\d{4})(?![\d-]|[ ]\d)/,
  validate: ssnValid,
  chars: digits,
});

/** UK National Insurance numbers (AB 12 34 56 C), with the prefixes HMRC never allocates excluded. */
export const ukNinoDetector = defineDetector({
  id: 'uk-nino',
  kind: 'pii',
  label: 'UK National Insurance number',
  pattern:
    /(?<![A-Za-z0-9])(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])/,
  chars: digits,
});

/** Spanish DNI (12345678Z) and NIE (X1234567L) numbers with a matching check letter. */
export const esDniDetector = defineDetector({
  id: 'es-dni',
  kind: 'pii',
  label: 'Spanish DNI/NIE',
  pattern: /(?<![A-Za-z0-9])(?:\d{8}|[XYZ]\d{7})-?[A-Z](?![A-Za-z0-9])/,
  validate: spanishIdValid,
  chars: digits,
});

/** French social security numbers (NIR), 15 digits with the Corsican 2A/2B, with a valid key. */
export const frNirDetector = defineDetector({
  id: 'fr-nir',
  kind: 'pii',
  label: 'French social security number',
  pattern: /(?<![\w])[12] ?\d{2} ?\d{2} ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}(?![\w])/,
  validate: frenchNirValid,
  chars: digits,
});

const tokenCharset = /[A-Za-z0-9_-]/;

/** OpenAI API keys: `sk-` (legacy) and `sk-proj-`, `sk-svcacct-`, `sk-admin-` (not Anthropic's `sk-ant-`). */
export const openaiKeyDetector = defineDetector({
  id: 'openai-key',
  kind: 'secret',
  label: 'OpenAI API key',
  pattern: /(?<![\w-])sk-(?!ant-)(?:(?:proj|svcacct|admin)-)?[A-Za-z0-9_-]{20,200}(?![\w-])/,
  validate: looksRandom,
  extent: { starts: ['sk-'], charset: tokenCharset },
});

/** Anthropic API keys (`sk-ant-api03-…`, `sk-ant-admin01-…`). */
export const anthropicKeyDetector = defineDetector({
  id: 'anthropic-key',
  kind: 'secret',
  label: 'Anthropic API key',
  pattern: /(?<![\w-])sk-ant-[A-Za-z0-9_-]{20,200}(?![\w-])/,
  validate: hasDigit,
  extent: { starts: ['sk-ant-'], charset: tokenCharset },
});

/** AWS access key ids, long-term (`AKIA`) and temporary (`ASIA`). */
export const awsAccessKeyDetector = defineDetector({
  id: 'aws-access-key',
  kind: 'secret',
  label: 'AWS access key id',
  pattern: /(?<![A-Za-z0-9])A[KS]IA[A-Z2-7]{16}(?![A-Za-z0-9])/,
  hints: ['AKIA', 'ASIA'],
});

/** GitHub tokens: classic and OAuth (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`) and fine-grained (`github_pat_`). */
export const githubTokenDetector = defineDetector({
  id: 'github-token',
  kind: 'secret',
  label: 'GitHub token',
  pattern: /(?<![\w])(?:gh[pousr]_[A-Za-z0-9]{36,76}|github_pat_[A-Za-z0-9_]{40,120})(?![\w])/,
  extent: { starts: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'], charset: /[A-Za-z0-9_]/ },
});

/** Slack tokens: bot, user, app-level and refresh (`xoxb-`, `xoxp-`, `xoxa-`, `xoxr-`). */
export const slackTokenDetector = defineDetector({
  id: 'slack-token',
  kind: 'secret',
  label: 'Slack token',
  pattern: /(?<![\w-])xox[abpr]-[A-Za-z0-9-]{10,200}(?![\w-])/,
  validate: hasDigit,
  extent: { starts: ['xoxa-', 'xoxb-', 'xoxp-', 'xoxr-'], charset: tokenCharset },
});

/** Google API keys (`AIza` and 35 characters). */
export const googleApiKeyDetector = defineDetector({
  id: 'google-api-key',
  kind: 'secret',
  label: 'Google API key',
  pattern: /(?<![\w-])AIza[A-Za-z0-9_-]{35}(?![\w-])/,
  hints: ['AIza'],
});

/** Stripe live secret and restricted keys (`sk_live_`, `rk_live_`). */
export const stripeKeyDetector = defineDetector({
  id: 'stripe-key',
  kind: 'secret',
  label: 'Stripe live key',
  pattern: /(?<![\w])[sr]k_live_[A-Za-z0-9]{16,200}(?![\w])/,
  extent: { starts: ['sk_live_', 'rk_live_'], charset: /[A-Za-z0-9_]/ },
});

/**
 * PEM private key blocks (RSA, EC, OpenSSH, PKCS #8, encrypted), from BEGIN to END; a block cut before its
 * END line is matched up to where its base64 stops, so a truncated key is still covered.
 */
export const privateKeyDetector = defineDetector({
  id: 'private-key',
  kind: 'secret',
  label: 'Private key',
  pattern:
    /-----BEGIN (?:[A-Z0-9]{1,16} ){0,3}PRIVATE KEY-----(?:[A-Za-z0-9+/=:, \t\r\n-]{0,8192}?-----END (?:[A-Z0-9]{1,16} ){0,3}PRIVATE KEY-----|[A-Za-z0-9+/=:, \t\r\n-]{0,8192})/,
  extent: { starts: ['-----BEGIN '], charset: /[A-Za-z0-9+/=:, \t\r\n-]/ },
});

/** JSON Web Tokens: three base64url parts whose header decodes to JSON with an `alg`. */
export const jwtDetector = defineDetector({
  id: 'jwt',
  kind: 'secret',
  label: 'JSON Web Token',
  pattern: /(?<![\w-])eyJ[A-Za-z0-9_-]{5,1000}\.[A-Za-z0-9_-]{2,4000}\.[A-Za-z0-9_-]{0,1000}(?![\w-])/,
  validate: jwtHeaderValid,
  extent: { starts: ['eyJ'], charset: /[A-Za-z0-9_.-]/ },
});

/** `Bearer <token>` as written in an Authorization header, a curl command or a log line. */
export const bearerDetector = defineDetector({
  id: 'bearer',
  kind: 'secret',
  label: 'Bearer token',
  pattern: /(?<![\w-])(?:Bearer|bearer|BEARER) [A-Za-z0-9._~+/-]{16,1024}={0,2}(?![\w.~+/=-])/,
  validate: hasDigit,
  extent: { starts: ['Bearer ', 'bearer ', 'BEARER '], charset: /[A-Za-z0-9._~+/=-]/ },
});

/** Personal data: email, phone, card, IBAN and national ids. */
export const piiDetectors: readonly Detector[] = Object.freeze([
  emailDetector,
  phoneDetector,
  cardDetector,
  ibanDetector,
  usSsnDetector,
  ukNinoDetector,
  esDniDetector,
  frNirDetector,
]);

/** Credentials: provider API keys, tokens, private keys. */
export const secretDetectors: readonly Detector[] = Object.freeze([
  openaiKeyDetector,
  anthropicKeyDetector,
  awsAccessKeyDetector,
  githubTokenDetector,
  slackTokenDetector,
  googleApiKeyDetector,
  stripeKeyDetector,
  privateKeyDetector,
  jwtDetector,
  bearerDetector,
]);

/** Every built-in detector: secrets first, so that a tie between equally long findings names the secret. */
export const defaultDetectors: readonly Detector[] = Object.freeze([...secretDetectors, ...piiDetectors]);

/** The built-in detectors by id, for configuration that names them (`detectors: ['email', 'openai-key']`). */
export const detectorsById: Readonly<Record<string, Detector>> = Object.freeze(
  Object.fromEntries(defaultDetectors.map((detector) => [detector.id, detector])),
);
