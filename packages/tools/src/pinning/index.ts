import { createHash } from 'node:crypto';
import { type EventBus, NotFoundError, type Principal, type Store, ToolChangedError } from '@gatehouse/core';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { emitToolEvent } from '../audit/events.js';

/** How a listed tool compares with its pin: first seen (now pinned), unchanged, or changed (blocked). */
export type PinVerdict = 'new' | 'same' | 'changed';

/** The parts of a definition that are pinned: what a model reads and what it sends. */
export type PinnedDefinition = Pick<Tool, 'name' | 'description' | 'inputSchema'>;

export interface ToolPinsOptions {
  /** Where pins are kept; share a Redis store so that every instance holds the same pins. */
  store: Store;
  /** Where `tool-changed` is emitted. */
  events?: EventBus;
  /** Store key prefix (default `gatehouse:tools:pin`). */
  prefix?: string;
}

interface StoredPin {
  hash: string;
  pinnedAt: number;
}

interface Known {
  verdict: PinVerdict;
  /** The hash of the definition as last listed. */
  hash: string;
  /** The pinned hash. */
  pinned: string;
}

/** JSON with object keys sorted at every level, so equal definitions hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value))
    return `[${value.map((item) => canonicalJson(item === undefined ? null : item)).join(',')}]`;
  const entries = Object.keys(value)
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
  return `{${entries.join(',')}}`;
}

/** SHA-256 (hex) of a tool's name, description and input schema in canonical JSON. */
export function hashToolDefinition(tool: PinnedDefinition): string {
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
  readonly #store: Store;
  readonly #events: EventBus | undefined;
  readonly #prefix: string;
  readonly #known = new Map<string, Map<string, Known>>();

  constructor(options: ToolPinsOptions) {
    this.#store = options.store;
    this.#events = options.events;
    this.#prefix = options.prefix ?? 'gatehouse:tools:pin';
  }

  #key(server: string, tool: string): string {
    return `${this.#prefix}:${encodeURIComponent(server)}:${encodeURIComponent(tool)}`;
  }

  /**
   * Compares a server's listed tools with their pins, pinning those seen for the first time. Answers each tool's
   * verdict by name. `principal` is who listed (for the `tool-changed` event).
   */
  async observe(
    server: string,
    tools: readonly PinnedDefinition[],
    principal: Principal = {},
  ): Promise<Map<string, PinVerdict>> {
    let known = this.#known.get(server);
    if (known === undefined) this.#known.set(server, (known = new Map()));
    const verdicts = new Map<string, PinVerdict>();
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
        const stored = await this.#store.get<StoredPin>(key);
        let verdict: PinVerdict;
        if (stored === undefined) {
          await this.#store.set<StoredPin>(key, { hash, pinnedAt: Date.now() });
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
  check(server: string, tool: string): PinVerdict {
    return this.#known.get(server)?.get(tool)?.verdict ?? 'new';
  }

  /** Throws `ToolChangedError` when the tool's definition changed since it was pinned. */
  assertUnchanged(server: string, tool: string): void {
    if (this.check(server, tool) !== 'changed') return;
    throw new ToolChangedError({
      server,
      tool,
      message: `Tool "${tool}" of server "${server}" changed since it was pinned (its description or input schema differ); calls to it are refused until an operator reviews the new definition and calls pins.accept('${server}', '${tool}')`,
    });
  }

  /** Re-pins a tool to the definition last listed, after review; calls to it are allowed again. */
  async accept(server: string, tool: string): Promise<void> {
    const known = this.#known.get(server)?.get(tool);
    if (known === undefined) {
      throw new NotFoundError({
        message: `pins.accept('${server}', '${tool}'): this tool has not been listed; list the server's tools first`,
      });
    }
    await this.#store.set<StoredPin>(this.#key(server, tool), { hash: known.hash, pinnedAt: Date.now() });
    this.#known.get(server)!.set(tool, { verdict: 'same', hash: known.hash, pinned: known.hash });
  }
}
