import { MemoryStore, type Store } from '@gatehouse/core';

/** A write of cost totals that the store refused; the amounts are kept and tried again with the next batch. */
export interface LedgerWriteFailure {
  key: string;
  /** The dollars the failed write carried. */
  usd: number;
  error: unknown;
}

export interface LedgerOptions {
  /** How long pending totals wait before they are written. 0 writes them at the end of the current turn. */
  flushMs: number;
  /** How long the store keeps a day's totals, and a month's. */
  dayTtlMs: number;
  monthTtlMs: number;
  onWriteFailed(failure: LedgerWriteFailure): void;
}

/** One field's running total in a batch: a box updated in place (one lookup per call, no new number stored). */
export interface Amount {
  value: number;
}

/**
 * Several fields' running totals side by side (`values[i]` is the total of `fields[i]`), for amounts that are
 * always added together (a target's calls, total, model, …): one small array touched per call instead of a box
 * per field, folded into the batch's fields when it is written.
 */
export interface Row {
  readonly fields: readonly string[];
  readonly values: Float64Array;
}

/** The amounts added up since the last write, for one day (and the month it is in). */
export interface Batch {
  readonly dayKey: string;
  readonly monthKey: string;
  readonly amounts: Map<string, Amount>;
  /** For the middleware's own use: its rows by what they total (a target, a principal), found once per batch. */
  readonly rows: Map<object, Row>;
  /** Every row of the batch, folded in when it is written. */
  readonly rowList: Row[];
}

/** How long a failed write waits before it is tried again, when no batch is due sooner. */
const retryMs = 1000;

/** Every ledger with amounts not yet written, by the store they go to: read before reporting, written at exit. */
const pendingByStore = new WeakMap<Store, Set<CostLedger>>();
const pending = new Set<CostLedger>();
let exitHook = false;

/**
 * Cost totals of one store, added up in the process and written in one `incrementFields` per period key every
 * `flushMs` (instead of two store writes of a dozen fields on every call). A write the store refuses is kept and
 * tried again with the next one (at least once: a write that failed only in its reply may count twice); nothing
 * pending is lost when the app reports (`costReport` writes pending totals of its store first), closes the
 * gateway, or lets the process end (`beforeExit`).
 */
export class CostLedger {
  readonly #store: Store;
  readonly #options: LedgerOptions;
  #batch: Batch | undefined;
  /** Amounts a failed write carried, by store key, added to that key's next write. */
  readonly #retry = new Map<string, { amounts: Map<string, number>; ttlMs: number }>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #writing = new Set<Promise<void>>();
  readonly #onTimer = () => {
    this.#timer = undefined;
    this.#writeBatch();
  };

  constructor(store: Store, options: LedgerOptions) {
    this.#store = store;
    this.#options = options;
  }

  /** The current batch, to add to: its amounts by field (`total`, `calls`, `team:risk`, …). */
  batch(dayKey: string, monthKey: string): Batch {
    let batch = this.#batch;
    if (batch === undefined || batch.dayKey !== dayKey) {
      // A new day (or the first call since the last write): what the old day added goes out now.
      if (batch !== undefined) this.#writeBatch();
      batch = this.#batch = { dayKey, monthKey, amounts: new Map(), rows: new Map(), rowList: [] };
      if (this.#timer === undefined) this.#arm(this.#options.flushMs);
    }
    return batch;
  }

  /** Writes what is pending and waits for every write under way. */
  async flush(): Promise<void> {
    this.#writeBatch();
    while (this.#writing.size > 0) await Promise.all(this.#writing);
  }

  /** Writes the current batch to its day and month keys, and what failed before to its keys. */
  #writeBatch(): void {
    const batch = this.#batch;
    this.#batch = undefined;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (batch !== undefined && (batch.amounts.size > 0 || batch.rowList.length > 0)) {
      this.#write(batch.dayKey, batch, this.#options.dayTtlMs);
      this.#write(batch.monthKey, batch, this.#options.monthTtlMs);
    }
    for (const [key, kept] of [...this.#retry]) this.#write(key, undefined, kept.ttlMs);
    this.#settled();
  }

  #write(key: string, batch: Batch | undefined, ttlMs: number): void {
    const record: Record<string, number> = {};
    if (batch !== undefined) {
      for (const [field, amount] of batch.amounts) record[field] = amount.value;
      for (const { fields, values } of batch.rowList)
        for (let index = 0; index < fields.length; index++)
          if (values[index] !== 0) record[fields[index]!] = (record[fields[index]!] ?? 0) + values[index]!;
    }
    const again = this.#retry.get(key);
    if (again !== undefined) {
      this.#retry.delete(key);
      for (const [field, amount] of again.amounts) record[field] = (record[field] ?? 0) + amount;
    }
    const store = this.#store;
    // Synchronous on the memory store: applied before anything else runs.
    if (store instanceof MemoryStore) {
      store.incrementFieldsSync(key, record, { ttlMs });
      return;
    }
    const write = store.incrementFields(key, record, { ttlMs }).then(
      () => {},
      (error: unknown) => {
        let kept = this.#retry.get(key);
        if (kept === undefined) this.#retry.set(key, (kept = { amounts: new Map(), ttlMs }));
        for (const field in record) kept.amounts.set(field, (kept.amounts.get(field) ?? 0) + record[field]!);
        // The next batch or an explicit flush tries again; with no further calls, a timer does.
        if (this.#batch === undefined && this.#timer === undefined) this.#arm(this.#options.flushMs || retryMs);
        this.#options.onWriteFailed({ key, usd: record.total ?? 0, error });
      },
    );
    this.#writing.add(write);
    void write.then(() => {
      this.#writing.delete(write);
      this.#settled();
    });
  }

  #arm(delayMs: number): void {
    this.#pending(true);
    if (delayMs > 0) {
      this.#timer = setTimeout(this.#onTimer, delayMs);
      this.#timer.unref?.();
    } else queueMicrotask(this.#onTimer);
  }

  /** Leaves the pending registry once nothing is left to write. */
  #settled(): void {
    if (this.#batch === undefined && this.#retry.size === 0 && this.#writing.size === 0) this.#pending(false);
  }

  #pending(on: boolean): void {
    let ledgers = pendingByStore.get(this.#store);
    if (on) {
      if (ledgers === undefined) pendingByStore.set(this.#store, (ledgers = new Set()));
      ledgers.add(this);
      pending.add(this);
      if (!exitHook) {
        exitHook = true;
        // A process that ends on its own writes what is pending first (the writes keep it alive until done).
        process.on('beforeExit', () => {
          for (const ledger of pending) void ledger.flush();
        });
      }
    } else {
      ledgers?.delete(this);
      pending.delete(this);
    }
  }
}

/** Writes the cost totals pending for `store` in this process (every cost middleware's), and waits for them. */
export async function flushCosts(store: Store): Promise<void> {
  const ledgers = pendingByStore.get(store);
  if (ledgers !== undefined) await Promise.all([...ledgers].map((ledger) => ledger.flush()));
}
