import { createHash } from 'node:crypto';

/** What MCP clients and model APIs accept as a tool name. */
export const toolNamePattern = /^[a-zA-Z0-9_-]{1,64}$/;

/** Between a server's name and its tool's name in the aggregate: `github__create_issue`. */
export const separator = '__';

const invalidCharacters = /[^a-zA-Z0-9_-]/g;
const hashLength = 8;
const maxLength = 64;

/**
 * The name a tool (or prompt, or resource) of `server` has in the aggregate.
 *
 * The rule, stable across restarts and processes:
 * 1. the name is `<server>__<name>`, or `<name>` alone for a server with `namespace: false`;
 * 2. when that is valid for `^[a-zA-Z0-9_-]{1,64}$` it is used as it is;
 * 3. otherwise every character outside `[a-zA-Z0-9_-]` becomes `_`, the result is cut to 55 characters, and `_`
 *    plus the first 8 hex digits of the SHA-256 of the name from step 1 is appended (64 characters at most).
 *    The hash keeps two names that sanitise or shorten alike apart (`a.b` and `a:b`).
 *
 * @example
 * exposedName('github', 'create_issue') // 'github__create_issue'
 * exposedName('files', 'read.file')      // 'files__read_file_1b2c3d4e' (some hash)
 */
export function exposedName(server: string, name: string, namespace = true): string {
  const full = namespace ? `${server}${separator}${name}` : name;
  if (toolNamePattern.test(full)) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, hashLength);
  const base = full.replace(invalidCharacters, '_').slice(0, maxLength - hashLength - 1);
  return `${base}_${hash}`;
}

/** Server names: letters, digits, `-` and single `_`, so that `server__tool` splits one way only. */
export const serverNamePattern = /^[a-zA-Z0-9-]+(?:_[a-zA-Z0-9-]+)*$/;
