import type { ModelContext } from '../context/index.js';

/** What an SDK method returns: a Stainless `APIPromise`, whose `responsePromise` carries the request's controller. */
interface SdkRequest {
  readonly responsePromise?: Promise<{ controller?: AbortController }>;
}

const ignore = () => {};

/**
 * The deadline of one attempt, from the timeout middleware to the upstream call. Creating an `AbortSignal` costs
 * several microseconds in Node 20 (and the SDK's listener on it as much again), so an attempt gets none by
 * default: the upstream call hands the SDK the remaining time as its own per-request `timeout` (the SDK arms that
 * timer and controller for every request anyway), and on expiry the request's controller is aborted through the
 * SDK promise. A signal is made only where the SDK timeout cannot stand in (see `signal()`).
 */
export class AttemptDeadline {
  /** `performance.now()` at which the attempt expires. */
  readonly at: number;
  #expired: unknown;
  #controller: AbortController | undefined;
  /** The SDK requests of this attempt: almost always one (a second only if a middleware re-sends). */
  #request: SdkRequest | undefined;
  #more: SdkRequest[] | undefined;
  /** The deadline of an enclosing timeout (one in `middleware: […]` around the layer's own), if any. */
  readonly outer: AttemptDeadline | undefined;

  constructor(ms: number, outer: AttemptDeadline | undefined) {
    this.at = Math.min(performance.now() + ms, outer?.at ?? Number.POSITIVE_INFINITY);
    this.outer = outer;
  }

  get expired(): boolean {
    return this.#expired !== undefined;
  }

  /** Milliseconds left, as the positive integer the SDKs' `timeout` option takes. */
  remainingMs(): number {
    return Math.max(1, Math.ceil(this.at - performance.now()));
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
export function enterDeadline(context: ModelContext, ms: number): AttemptDeadline {
  const holder = context as Holder;
  const deadline = new AttemptDeadline(ms, holder[slot]);
  holder[slot] = deadline;
  return deadline;
}

/** Ends an attempt's deadline, putting back the outer one, unless a later attempt has set its own since. */
export function leaveDeadline(context: ModelContext, deadline: AttemptDeadline): void {
  const holder = context as Holder;
  if (holder[slot] === deadline) holder[slot] = deadline.outer;
}
