import { monotonicNow } from '../context/clock.js';
import type { ModelContext } from '../context/index.js';

/** What an SDK method returns: a Stainless `APIPromise`, whose `responsePromise` carries the request's controller. */
interface SdkRequest {
  readonly responsePromise?: Promise<{ controller?: AbortController }>;
}

const ignore = () => {};

/** What the shared timer holds: a moment (`performance.now()` scale) and what to do then, unless cancelled. */
interface Timed {
  readonly at: number;
  /** Set when the attempt ended first: the entry is skipped (and dropped) instead of being removed at once. */
  cancelled: boolean;
  fire(): void;
}

const maxDelayMs = 2 ** 31 - 1;

/** The entries of one duration: added in the order they expire, so the soonest is always at `head`. */
interface Lane {
  items: Timed[];
  head: number;
}

/**
 * One timer for the expiry of every attempt in the process, instead of a `setTimeout` per attempt (a `Timeout`
 * object, a timer-list insert and a clear on every call). Entries of the same duration expire in the order they
 * are added, so each duration keeps a plain queue (an insert is a push, a cancel a flag); the one timer is armed
 * for the soonest live entry. Entries that ended first are dropped as the queue is next touched, so a queue holds
 * about as many entries as attempts are in flight. The timer is `unref`'d: it never keeps a process alive
 * by itself (the request it times does, while it is open).
 */
class DeadlineQueue {
  readonly #lanes = new Map<number, Lane>();
  #lastMs = -1;
  #lastLane: Lane | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the timer fires (`performance.now()` scale); Infinity when it is not armed. */
  #timerAt = Number.POSITIVE_INFINITY;
  readonly #onTimer = () => this.#expire();

  add(entry: Timed, ms: number): void {
    // Most attempts share one duration: its lane is kept at hand.
    let lane = this.#lastMs === ms ? this.#lastLane : this.#lanes.get(ms);
    if (lane === undefined) this.#lanes.set(ms, (lane = { items: [], head: 0 }));
    this.#lastMs = ms;
    this.#lastLane = lane;
    const { items } = lane;
    // Drop the ended entries at the front, and compact once they are most of the array.
    while (lane.head < items.length && items[lane.head]!.cancelled) items[lane.head++] = undefined as never;
    if (lane.head > 32 && lane.head * 2 >= items.length) {
      items.splice(0, lane.head);
      lane.head = 0;
    }
    // In order of expiry: almost always at the end (an enclosing deadline may make an entry expire sooner).
    let index = items.length;
    while (index > lane.head && items[index - 1]!.at > entry.at) index--;
    if (index === items.length) items.push(entry);
    else items.splice(index, 0, entry);
    if (entry.at < this.#timerAt) this.#arm(entry.at);
  }

  #arm(at: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = at;
    // Past 2^31 - 1 ms Node would fire at once; the timer is re-armed when it fires early.
    this.#timer = setTimeout(this.#onTimer, Math.min(maxDelayMs, Math.max(0, Math.ceil(at - monotonicNow()))));
    this.#timer.unref?.();
  }

  #expire(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = monotonicNow();
    const due: Timed[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const [ms, lane] of this.#lanes) {
      const { items } = lane;
      while (lane.head < items.length) {
        const entry = items[lane.head]!;
        // Timers fire on the event loop's millisecond clock: within a millisecond of its moment is due.
        if (!entry.cancelled && entry.at - now >= 1) {
          next = Math.min(next, entry.at);
          break;
        }
        items[lane.head++] = undefined as never;
        if (!entry.cancelled) due.push(entry);
      }
      if (lane.head === items.length) {
        this.#lanes.delete(ms);
        if (this.#lastLane === lane) this.#lastLane = undefined;
      }
    }
    if (next !== Number.POSITIVE_INFINITY) this.#arm(next);
    // After the queue is consistent: an expiry may start the next attempt, which adds to it.
    for (const entry of due) entry.fire();
  }
}

const queue = new DeadlineQueue();

/**
 * The deadline of one attempt, from the timeout middleware to the upstream call. Creating an `AbortSignal` costs
 * several microseconds in Node 20 (and the SDK's listener on it as much again), so an attempt gets none by
 * default: the upstream call hands the SDK the remaining time as its own per-request `timeout` (the SDK arms that
 * timer and controller for every request anyway), and on expiry the request's controller is aborted through the
 * SDK promise. A signal is made only where the SDK timeout cannot stand in (see `signal()`).
 */
export class AttemptDeadline implements Timed {
  /** `performance.now()` at which the attempt expires. */
  readonly at: number;
  cancelled = false;
  #onExpire: (() => void) | undefined;
  #expired: unknown;
  #controller: AbortController | undefined;
  /** The SDK requests of this attempt: almost always one (a second only if a middleware re-sends). */
  #request: SdkRequest | undefined;
  #more: SdkRequest[] | undefined;
  /** The deadline of an enclosing timeout (one in `middleware: […]` around the layer's own), if any. */
  readonly outer: AttemptDeadline | undefined;

  /** The attempt's whole duration, while its start runs synchronously (see `started()`); 0 after. */
  #fresh: number;

  /** `now`: the clock (`performance.now()`), when the caller has just read it. */
  constructor(ms: number, outer: AttemptDeadline | undefined, now = monotonicNow()) {
    this.at = Math.min(now + ms, outer?.at ?? Number.POSITIVE_INFINITY);
    this.outer = outer;
    this.#fresh = outer === undefined ? ms : 0;
  }

  /** The attempt's synchronous start is over: `remainingMs()` reads the clock from now on. */
  started(): void {
    this.#fresh = 0;
  }

  /** Calls `onExpire` when the deadline passes, unless `cancel()` comes first (one shared timer for all). */
  start(ms: number, onExpire: () => void): void {
    this.#onExpire = onExpire;
    queue.add(this, ms);
  }

  /** The attempt ended: the expiry will not run. */
  cancel(): void {
    this.cancelled = true;
    this.#onExpire = undefined;
    this.#request = this.#more = undefined;
  }

  fire(): void {
    const onExpire = this.#onExpire;
    this.#onExpire = undefined;
    onExpire?.();
  }

  get expired(): boolean {
    return this.#expired !== undefined;
  }

  /**
   * Whether `remainingMs()` is the attempt's whole duration (asked during its synchronous start, with no enclosing
   * deadline): the same figure on every attempt of the same duration.
   */
  get whole(): boolean {
    return this.#fresh > 0;
  }

  /** Milliseconds left, as the positive integer the SDKs' `timeout` option takes. */
  remainingMs(): number {
    // Asked during the attempt's synchronous start (the upstream call the layer makes at once): all of it is left.
    if (this.#fresh > 0) return Math.ceil(this.#fresh);
    return Math.max(1, Math.ceil(this.at - monotonicNow()));
  }

  /** A signal the expiry aborts, made on first use. */
  signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#expired !== undefined) this.#controller.abort(this.#expired);
    }
    return this.outer ? AbortSignal.any([this.outer.signal(), this.#controller.signal]) : this.#controller.signal;
  }

  /** An SDK request sent for this attempt: aborted on expiry, once its response has started. */
  track(request: object): void {
    this.outer?.track(request);
    const sdkRequest = request as SdkRequest;
    if (this.#expired !== undefined) abortRequest(sdkRequest);
    else if (this.#request === undefined) this.#request = sdkRequest;
    else (this.#more ??= []).push(sdkRequest);
  }

  expire(reason: unknown): void {
    this.#expired = reason;
    this.#controller?.abort(reason);
    if (this.#request) abortRequest(this.#request);
    if (this.#more) for (const request of this.#more) abortRequest(request);
    this.#request = this.#more = undefined;
  }
}

function abortRequest(request: SdkRequest): void {
  // Before the response starts, the SDK's own per-request timer (set just past the deadline) aborts the fetch.
  request.responsePromise?.then((props) => props.controller?.abort(), ignore);
}

/**
 * Where a context keeps the deadline of its current attempt: a property under a private symbol (a `WeakMap`
 * entry per attempt costs more, and its ephemeron tables weigh on every garbage collection).
 */
const slot: unique symbol = Symbol('gatehouse.attemptDeadline');
type Holder = { [slot]?: AttemptDeadline | undefined };

/**
 * The property a context keeps its deadline under, for the layer to write into its context literal: a context
 * born with it keeps one hidden class when a timeout sets it, instead of changing shape on every call.
 */
export const deadlineSlot: typeof slot = slot;

/** The deadline of the attempt `context` is making, if a timeout middleware is timing it. */
export function deadlineOf(context: ModelContext): AttemptDeadline | undefined {
  return (context as Holder)[slot];
}

/** Starts timing the attempt `context` is about to make, within the deadline of an enclosing timeout. */
export function enterDeadline(context: ModelContext, ms: number, now?: number): AttemptDeadline {
  const holder = context as Holder;
  const deadline = new AttemptDeadline(ms, holder[slot], now);
  holder[slot] = deadline;
  return deadline;
}

/** Ends an attempt's deadline, putting back the outer one, unless a later attempt has set its own since. */
export function leaveDeadline(context: ModelContext, deadline: AttemptDeadline): void {
  const holder = context as Holder;
  if (holder[slot] === deadline) holder[slot] = deadline.outer;
}
