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

/**
 * The cache key of a call: SHA-256 (base64url, 43 characters) of the API, the client kind, the route (or
 * model) name, the partition and the body with its keys sorted and `ignored` top-level fields left out.
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
  hash.update(canonical(request.body, ignored));
  return hash.digest('base64url');
}
