import { GatehouseError, InvalidInputError, UpstreamError } from '@gatehouse/core';
import { UriTemplate } from '@modelcontextprotocol/sdk/shared/uriTemplate.js';
import { exposedName } from '../naming/index.js';
import { type Connection, describe, fetchList, type ListKind, type Page, type ServerEntry } from '../upstream/index.js';

/** One item of the aggregate: where it lives and what it is called there. */
export interface CatalogEntry {
  /** The name in the aggregate (`server__name`), or the URI for a resource. */
  readonly key: string;
  /** The name on its own server (a tool's or prompt's name, a resource's URI, a template's URI template). */
  readonly own: string;
  readonly connection: Connection;
  /** The item as its server listed it. */
  readonly item: Record<string, unknown>;
  /** The item as the aggregate shows it (renamed). */
  readonly exposed: Record<string, unknown>;
}

/** The pages of one server within an index; undefined when the server could not be listed. */
interface ServerPages {
  readonly connection: Connection;
  readonly generation: number;
  readonly pages:
    | readonly { cursor: string | undefined; next: string | undefined; entries: CatalogEntry[] }[]
    | undefined;
}

/** One kind's aggregate: every server's pages, and a lookup by name (or URI). */
export interface KindIndex {
  readonly kind: ListKind;
  readonly servers: readonly ServerPages[];
  readonly byKey: ReadonlyMap<string, CatalogEntry>;
  readonly templates: readonly { template: UriTemplate; entry: CatalogEntry }[];
  /** Some server could not be listed; the next listing tries it again. */
  readonly incomplete: boolean;
}

export interface CatalogHooks {
  /** Connected and listed (or failed to): for the `server-status` event and `status()`. */
  status(server: ServerEntry, error: unknown): void;
  /** Two items claim one name; the first server (in configuration order) keeps it. */
  conflict(kind: ListKind, name: string, kept: string, dropped: string): void;
  /** A server's tools were (re)listed: for pinning. */
  toolsListed?(connection: Connection, tools: readonly Record<string, unknown>[]): void | Promise<void>;
}

const nameField: Record<ListKind, 'name' | 'uri' | 'uriTemplate'> = {
  tools: 'name',
  prompts: 'name',
  resources: 'uri',
  resourceTemplates: 'uriTemplate',
};

/**
 * Builds and caches the aggregate of every server's lists. An index is reused until a connection it was built
 * from drops a list (list_changed, reconnect); one with a failed server is rebuilt on the next listing.
 */
export class Catalog {
  readonly #hooks: CatalogHooks;
  readonly #indexes = new Map<string, Promise<KindIndex>>();

  constructor(hooks: CatalogHooks) {
    this.#hooks = hooks;
  }

  /**
   * The index of `kind` over `connections` (one per server, in configuration order). `refresh` rebuilds an
   * incomplete index (listing retries failed servers); a call that misses a name asks for that too.
   */
  async index(kind: ListKind, key: string, connections: readonly Connection[], refresh: boolean): Promise<KindIndex> {
    const cacheKey = `${kind}\u0000${key}`;
    const cached = this.#indexes.get(cacheKey);
    if (cached) {
      const index = await cached;
      if (fresh(index, connections) && !(refresh && index.incomplete)) return index;
      if (this.#indexes.get(cacheKey) !== cached) return this.index(kind, key, connections, refresh);
    }
    const building = this.#build(kind, connections);
    this.#indexes.set(cacheKey, building);
    if (this.#indexes.size > 1_000) this.#indexes.delete(this.#indexes.keys().next().value!);
    building.catch(() => this.#indexes.delete(cacheKey));
    return building;
  }

  /** Forgets every index (connections were replaced). */
  clear(): void {
    this.#indexes.clear();
  }

  async #build(kind: ListKind, connections: readonly Connection[]): Promise<KindIndex> {
    const listed = await Promise.all(
      connections.map(async (connection) => {
        const generation = connection.generation;
        try {
          const pages = await this.#pages(connection, kind);
          this.#hooks.status(connection.server, undefined);
          return { connection, generation, pages };
        } catch (error) {
          this.#hooks.status(connection.server, error);
          return { connection, generation, pages: undefined };
        }
      }),
    );
    const byKey = new Map<string, CatalogEntry>();
    const templates: { template: UriTemplate; entry: CatalogEntry }[] = [];
    const field = nameField[kind];
    const servers: ServerPages[] = listed.map(({ connection, generation, pages }) => {
      if (!pages) return { connection, generation, pages: undefined };
      const { server } = connection;
      return {
        connection,
        generation,
        pages: pages.map((page) => {
          const entries: CatalogEntry[] = [];
          for (const item of page.items) {
            const own = String(item[field]);
            const entry = this.#entry(kind, server, connection, item, own);
            const holder = byKey.get(entry.key);
            if (holder) {
              this.#hooks.conflict(kind, entry.key, holder.connection.server.name, server.name);
              continue;
            }
            byKey.set(entry.key, entry);
            if (kind === 'resourceTemplates') templates.push({ template: new UriTemplate(own), entry });
            entries.push(entry);
          }
          return { cursor: page.cursor, next: page.next, entries };
        }),
      };
    });
    return { kind, servers, byKey, templates, incomplete: servers.some((server) => !server.pages) };
  }

  #entry(kind: ListKind, server: ServerEntry, connection: Connection, item: Record<string, unknown>, own: string) {
    if (kind === 'resources' || kind === 'resourceTemplates') {
      // URIs stay as they are (they are addresses, routed back by lookup); the display name is namespaced.
      const name = typeof item.name === 'string' ? exposedName(server.name, item.name, server.namespace) : item.name;
      return { key: own, own, connection, item, exposed: { ...item, name } };
    }
    const key = exposedName(server.name, own, server.namespace);
    return { key, own, connection, item, exposed: { ...item, name: key } };
  }

  async #pages(connection: Connection, kind: ListKind): Promise<Page[]> {
    let pages = connection.lists.get(kind);
    if (!pages) {
      pages = (async () => {
        const client = await connection.client();
        try {
          const fetched = await fetchList(client, kind, connection.server.callTimeoutMs);
          if (kind === 'tools')
            await this.#hooks.toolsListed?.(
              connection,
              fetched.flatMap((page) => page.items),
            );
          return fetched;
        } catch (error) {
          connection.failed(error);
          if (GatehouseError.isInstance(error)) throw error;
          const message = connection.scrub(describe(error));
          throw new UpstreamError({
            message: `server ${connection.server.name}: listing ${kind} failed: ${message}`,
            target: connection.server.name,
          });
        }
      })();
      connection.lists.set(kind, pages);
      pages.catch(() => {
        if (connection.lists.get(kind) === pages) connection.lists.delete(kind);
      });
    }
    return pages;
  }
}

function fresh(index: KindIndex, connections: readonly Connection[]): boolean {
  const { servers } = index;
  if (servers.length !== connections.length) return false;
  for (let i = 0; i < servers.length; i++) {
    const server = servers[i]!;
    if (server.connection !== connections[i] || server.generation !== server.connection.generation) return false;
  }
  return true;
}

/** Where a merged listing goes on: a server's position and that server's own cursor. */
interface Position {
  s: number;
  c?: string;
}

/** The aggregate's cursor: base64url JSON of `{ s: server index, c: that server's cursor }`. */
export function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

export function decodeCursor(cursor: string): Position {
  try {
    const position = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Position;
    if (Number.isInteger(position.s) && position.s >= 0 && (position.c === undefined || typeof position.c === 'string'))
      return position;
  } catch {
    // Answered below.
  }
  throw new InvalidInputError({
    message: `invalid cursor ${JSON.stringify(cursor)}: pass a nextCursor from a listing`,
  });
}

/**
 * One page of the merged listing: the pages of consecutive servers, up to and including the first page that has
 * a next cursor of its own (so servers without pagination all come in one page). Failed servers are skipped.
 */
export function page(
  index: KindIndex,
  cursor: string | undefined,
  keep: (entry: CatalogEntry) => boolean,
): { items: Record<string, unknown>[]; nextCursor: string | undefined } {
  const start = cursor === undefined ? { s: 0 } : decodeCursor(cursor);
  const items: Record<string, unknown>[] = [];
  let own = start.c;
  for (let s = start.s; s < index.servers.length; s++) {
    const pages = index.servers[s]!.pages;
    if (pages && pages.length > 0) {
      const at = pages.findIndex((candidate) => candidate.cursor === own);
      if (at < 0) {
        throw new InvalidInputError({
          message: 'the cursor is out of date (the list changed); list again from the start',
        });
      }
      const current = pages[at]!;
      for (const entry of current.entries) if (keep(entry)) items.push(entry.exposed);
      if (current.next !== undefined) return { items, nextCursor: encodeCursor({ s, c: current.next }) };
    }
    own = undefined;
  }
  return { items, nextCursor: undefined };
}
