import { createHash } from 'node:crypto';
import type { ModelRequest } from '../context/index.js';

/**
 * Request fields left out of the cache key by default: they change how an answer is delivered or attributed,
 * not what it says. `stream` and `stream_options` (a streamed call and a complete one share an entry; the
 * cache converts between the two forms), `user`, `safety_identifier`, `metadata` and `store` (end-user ids and
 * tags for the provider's logs), `prompt_cache_key` (a hint for the provider's own prompt cache).
 */
export const defaultIgnoredFields: readonly string[] = Object.freeze([
  'stream',
  'stream_options',
  'user',
  'safety_identifier',
  'metadata',
  'store',
  'prompt_cache_key',
]);

/**
 * Writes `value` as JSON with the keys of every object sorted, so that two bodies equal in content give the
 * same text whatever order their keys were written in. `undefined` members are dropped, as `JSON.stringify`
 * drops them.
 */
function canonical(value: unknown, ignored: ReadonlySet<string> | undefined): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let text = '[';
    for (let index = 0; index < value.length; index++) {
      if (index > 0) text += ',';
      const item = value[index];
      text += item === undefined || typeof item === 'function' ? 'null' : canonical(item, undefined);
    }
    return `${text}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let text = '{';
  let first = true;
  for (const key of keys) {
    const item = record[key];
    if (item === undefined || typeof item === 'function' || ignored?.has(key)) continue;
    if (!first) text += ',';
    first = false;
    text += `${JSON.stringify(key)}:${canonical(item, undefined)}`;
  }
  return `${text}}`;
}

/** Request headers that turn provider features on and so change the answer: part of the key when present. */
const answerHeaders = ['anthropic-beta', 'openai-beta'];

/** The values of `answerHeaders` in the SDK call's options (any of the SDKs' header shapes), joined. */
function answerHeaderValues(options: Record<string, any> | undefined): string {
  const headers = options?.headers;
  if (headers === undefined || headers === null || typeof headers !== 'object') return '';
  let values = '';
  const add = (name: unknown, value: unknown) => {
    if (typeof name === 'string' && answerHeaders.includes(name.toLowerCase()) && value != null)
      values += `${name.toLowerCase()}=${String(value)}\n`;
  };
  if (headers instanceof Headers) for (const name of answerHeaders) add(name, headers.get(name));
  else if (Array.isArray(headers)) for (const pair of headers) add(pair?.[0], pair?.[1]);
  else for (const name in headers) add(name, headers[name]);
  return values;
}

/**
 * The cache key of a call: SHA-256 (base64url, 43 characters) of the API, the client kind, the route (or
 * model) name, the partition, the beta-feature headers of the call and the body with its keys sorted and
 * `ignored` top-level fields left out.
 */
export function cacheKey(
  request: ModelRequest,
  route: string,
  partition: string | undefined,
  ignored: ReadonlySet<string>,
): string {
  const hash = createHash('sha256');
  // A version first, so a change of the entry format never reads old entries; NUL separates the parts.
  hash.update(`v1\0${request.api}\0${request.kind}\0${route}\0${partition ?? ''}\0`);
  hash.update(`${answerHeaderValues(request.options)}\0`);
  hash.update(canonical(request.body, ignored));
  return hash.digest('base64url');
}
