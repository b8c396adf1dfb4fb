import { defaultDetectors } from './builtin.js';
import { defaultReplacement, type RedactOptions, replaceFindings, scan } from './scan.js';

export interface RedactValueOptions extends RedactOptions {
  /** Nesting below this depth is replaced by `'[Truncated]'`; 32 by default. */
  maxDepth?: number;
  /** More keys whose values are always replaced (compared like the built-in ones: case, `-` and `_` ignored). */
  secretKeys?: readonly string[];
}

/** Keys whose value is a credential whatever it looks like, compared without case, `-` or `_`. */
const secretKeyNames = new Set([
  'authorization',
  'proxyauthorization',
  'cookie',
  'setcookie',
  'xapikey',
  'apikey',
  'token',
  'accesstoken',
  'refreshtoken',
  'password',
  'passwd',
  'secret',
  'clientsecret',
  'privatekey',
]);

const separators = /[-_]/g;

function normalizeKey(key: string): string {
  return key.replace(separators, '').toLowerCase();
}

/**
 * A deep copy of a JSON-like value for logs and audit records: strings are redacted like `redact()`, and the
 * value under a secret-looking key (`authorization`, `cookie`, `api_key`, `apiKey`, `password`, `token`, …)
 * becomes `'[REDACTED]'` whatever it is. The input is never changed. A repeated reference to an object being
 * copied becomes `'[Circular]'`, nesting deeper than `maxDepth` becomes `'[Truncated]'`; neither throws.
 *
 * @example
 * redactValue({ headers: { Authorization: 'Bearer abc' }, query: 'mail ana@example.com' })
 * // { headers: { Authorization: '[REDACTED]' }, query: 'mail [REDACTED:email]' }
 */
export function redactValue<T>(value: T, options: RedactValueOptions = {}): T {
  const detectors = options.detectors ?? defaultDetectors;
  const replacement = options.replacement ?? defaultReplacement;
  const maxDepth = options.maxDepth ?? 32;
  const extraKeys = options.secretKeys?.map(normalizeKey);
  const isSecretKey = (key: string): boolean => {
    const normalized = normalizeKey(key);
    return secretKeyNames.has(normalized) || (extraKeys?.includes(normalized) ?? false);
  };
  // Objects on the path from the root: a reference back to one of them is a cycle. A shared (not cyclic)
  // reference is copied twice, as JSON.stringify would.
  const ancestors = new Set<object>();

  const copy = (current: unknown, depth: number): unknown => {
    if (typeof current === 'string') {
      const findings = scan(current, detectors);
      return findings.length === 0 ? current : replaceFindings(current, 0, findings, replacement);
    }
    if (typeof current !== 'object' || current === null) return current;
    if (ancestors.has(current)) return '[Circular]';
    if (depth >= maxDepth) return '[Truncated]';
    if (current instanceof Date) return new Date(current.getTime());
    ancestors.add(current);
    try {
      if (Array.isArray(current)) return current.map((item) => copy(item, depth + 1));
      let source: unknown = current;
      if (typeof (current as { toJSON?: unknown }).toJSON === 'function') {
        try {
          source = (current as { toJSON(): unknown }).toJSON();
        } catch {
          return '[Unserializable]';
        }
      }
      if (source !== current) return copy(source, depth + 1);
      const result: Record<string, unknown> = {};
      for (const key of Object.keys(current)) {
        let item: unknown;
        try {
          item = isSecretKey(key) ? '[REDACTED]' : copy((current as Record<string, unknown>)[key], depth + 1);
        } catch {
          // A getter that throws: the copy says so instead of failing the log line it is part of.
          item = '[Unserializable]';
        }
        // Assignment to `__proto__` would set the copy's prototype instead of a key.
        if (key === '__proto__') Object.defineProperty(result, key, { value: item, enumerable: true, writable: true });
        else result[key] = item;
      }
      return result;
    } finally {
      ancestors.delete(current);
    }
  };

  return copy(value, 0) as T;
}
