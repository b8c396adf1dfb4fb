import { createHash } from 'node:crypto';
import { NotFoundError, ToolChangedError } from '@gatehouse/core';
import { emitToolEvent } from '../audit/events.js';
/** JSON with object keys sorted at every level, so equal definitions hash equally whatever their key order. */
export function canonicalJson(value) {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value))
    return `[${value.map((item) => canonicalJson(item === undefined ? null : item)).join(',')}]`;
  const entries = Object.keys(value)
    .filter((key) => value[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`);
  return `{${entries.join(',')}}`;
}
/** SHA-256 (hex) of a tool's name, description and input schema in canonical JSON. */
export function hashToolDefinition(tool) {
  const pinned = { name: tool.name, description: tool.description ?? null, inputSchema: tool.inputSchema ?? null };
  return createHash('sha256').update(canonicalJson(pinned)).digest('hex');
}
/**
 * Rug-pull protection: each tool's definition is pinned by hash the first time it is listed; when a later listing
 * differs, the tool is blocked (`check` answers `changed`, `assertUnchanged` throws `ToolChangedError`) and
 * `tool-changed` is emitted, until `accept()` re-pins it. Hashes are computed at list time (`observe`); the
 * per-call check reads a verdict held in memory.
 *
 * @example
 * const pins = new ToolPins({ store, events });
 * const { tools } = await client.listTools();
 * await pins.observe('github', tools);
 * pins.check('github', 'create_issue'); // 'new' | 'same' | 'changed'
 */
export class ToolPins {
  #store;
  #events;
  #prefix;
  #known = new Map();
  constructor(options) {
    this.#store = options.store;
    this.#events = options.events;
    this.#prefix = options.prefix ?? 'gatehouse:tools:pin';
  }
  #key(server, tool) {
    return `${this.#prefix}:${encodeURIComponent(server)}:${encodeURIComponent(tool)}`;
  }
  /**
   * Compares a server's listed tools with their pins, pinning those seen for the first time. Answers each tool's
   * verdict by name. `principal` is who listed (for the `tool-changed` event).
   */
  async observe(server, tools, principal = {}) {
    let known = this.#known.get(server);
    if (known === undefined) this.#known.set(server, (known = new Map()));
    const verdicts = new Map();
    await Promise.all(
      tools.map(async (tool) => {
        const hash = hashToolDefinition(tool);
        const before = known.get(tool.name);
        // Listed before with this very definition and not blocked: nothing to read, nothing new to report.
        if (before !== undefined && before.hash === hash && before.verdict !== 'changed') {
          known.set(tool.name, { verdict: 'same', hash, pinned: hash });
          verdicts.set(tool.name, 'same');
          return;
        }
        // A blocked tool reads its pin again: another instance sharing the store may have accepted it.
        const key = this.#key(server, tool.name);
        const stored = await this.#store.get(key);
        let verdict;
        if (stored === undefined) {
          await this.#store.set(key, { hash, pinnedAt: Date.now() });
          verdict = 'new';
          known.set(tool.name, { verdict, hash, pinned: hash });
        } else if (stored.hash === hash) {
          verdict = 'same';
          known.set(tool.name, { verdict, hash, pinned: hash });
        } else {
          verdict = 'changed';
          known.set(tool.name, { verdict, hash, pinned: stored.hash });
          if (before?.verdict !== 'changed' || before.hash !== hash) {
            if (this.#events)
              emitToolEvent(this.#events, 'tool-changed', {
                time: Date.now(),
                principal,
                server,
                tool: tool.name,
                pinnedHash: stored.hash,
                hash,
              });
          }
        }
        verdicts.set(tool.name, verdict);
      }),
    );
    return verdicts;
  }
  /**
   * The verdict of the last listing: `new` (first seen, or never listed), `same`, or `changed` (blocked until
   * accepted). Synchronous: no hashing and no store access per call.
   */
  check(server, tool) {
    return this.#known.get(server)?.get(tool)?.verdict ?? 'new';
  }
  /** Throws `ToolChangedError` when the tool's definition changed since it was pinned. */
  assertUnchanged(server, tool) {
    if (this.check(server, tool) !== 'changed') return;
    throw new ToolChangedError({
      server,
      tool,
      message: `Tool "${tool}" of server "${server}" changed since it was pinned (its description or input schema differ); calls to it are refused until an operator reviews the new definition and calls pins.accept('${server}', '${tool}')`,
    });
  }
  /** Re-pins a tool to the definition last listed, after review; calls to it are allowed again. */
  async accept(server, tool) {
    const known = this.#known.get(server)?.get(tool);
    if (known === undefined) {
      throw new NotFoundError({
        message: `pins.accept('${server}', '${tool}'): this tool has not been listed; list the server's tools first`,
      });
    }
    await this.#store.set(this.#key(server, tool), { hash: known.hash, pinnedAt: Date.now() });
    this.#known.get(server).set(tool, { verdict: 'same', hash: known.hash, pinned: known.hash });
  }
}
