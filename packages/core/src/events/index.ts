import type { Principal } from '../context/index.js';

/** Fields every event carries. */
export interface EventBase {
  /** Epoch milliseconds. */
  time: number;
  principal: Principal;
  sessionId?: string | undefined;
  /** The trace this happened in, when a span was recording. */
  traceId?: string | undefined;
}

// Declared in the package's index (not here) so that `declare module '@gatehouse/core'` can merge into it:
// TypeScript does not merge an augmentation into an interface that the module only re-exports.
import type { GatehouseEventMap } from '../index.js';

/** Core's own events. */
export interface GatehouseCoreEvents {
  /** A subscriber threw or rejected; the call that emitted was not affected. */
  'listener-error': EventBase & { event: string; error: unknown };
}

export type EventMap = GatehouseEventMap & GatehouseCoreEvents;
export type EventName = keyof EventMap & string;
export type AnyEvent = { [K in EventName]: { type: K } & EventMap[K] }[EventName];

type Listener<T> = (event: T) => void | Promise<void>;

/**
 * A typed stream of what happened. `emit` never throws: a subscriber that throws (or rejects) is reported as
 * a `listener-error` event and through `onListenerError`, and the call goes on.
 */
export class EventBus {
  readonly #listeners = new Map<string, Listener<any>[]>();
  readonly #any: Listener<AnyEvent>[] = [];
  readonly #onListenerError: (error: unknown, event: string) => void;

  constructor(options: { onListenerError?: (error: unknown, event: string) => void } = {}) {
    this.#onListenerError = options.onListenerError ?? (() => {});
  }

  /** Subscribes to one event; answers a function that unsubscribes. */
  on<K extends EventName>(type: K, listener: Listener<EventMap[K] & { type: K }>): () => void {
    const list = this.#listeners.get(type);
    // Copy on write, so that an emit in progress keeps the list it started with.
    this.#listeners.set(type, list ? [...list, listener] : [listener]);
    return () => this.off(type, listener);
  }

  off<K extends EventName>(type: K, listener: Listener<EventMap[K] & { type: K }>): void {
    const list = this.#listeners.get(type);
    if (!list) return;
    const next = list.filter((item) => item !== listener);
    if (next.length === 0) this.#listeners.delete(type);
    else this.#listeners.set(type, next);
  }

  /** Subscribes to every event (an audit sink); answers a function that unsubscribes. */
  onAny(listener: Listener<AnyEvent>): () => void {
    this.#any.push(listener);
    return () => {
      const index = this.#any.indexOf(listener);
      if (index >= 0) this.#any.splice(index, 1);
    };
  }

  /** Whether anyone listens to `type`; check it before building an expensive payload. */
  has(type: EventName): boolean {
    return this.#any.length > 0 || this.#listeners.has(type);
  }

  emit<K extends EventName>(type: K, payload: EventMap[K]): void {
    const list = this.#listeners.get(type);
    if (list === undefined && this.#any.length === 0) return;
    const event = { type, ...payload } as EventMap[K] & { type: K };
    if (list) for (const listener of list) this.#call(listener, event, type);
    for (const listener of this.#any.slice()) this.#call(listener as Listener<unknown>, event, type);
  }

  #call(listener: Listener<any>, event: unknown, type: string): void {
    try {
      const result = listener(event);
      if (result && typeof (result as Promise<void>).then === 'function') {
        (result as Promise<void>).then(undefined, (error) => this.#failed(error, type, event));
      }
    } catch (error) {
      this.#failed(error, type, event);
    }
  }

  #failed(error: unknown, type: string, event: unknown): void {
    try {
      this.#onListenerError(error, type);
    } catch {
      // A broken error hook must not break the call either.
    }
    if (type === 'listener-error') return;
    const base = event as EventBase;
    this.emit('listener-error', { time: Date.now(), principal: base.principal ?? {}, event: type, error });
  }
}
