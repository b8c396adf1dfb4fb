/** A window a budget or a cost total is kept per. Calendar windows are UTC. */
export type Window = 'minute' | 'hour' | 'day' | 'month' | 'total';

/** One window instance: its label (part of store keys) and the epoch milliseconds it ends at. */
export interface Period {
  readonly label: string;
  readonly startsAt: number;
  readonly endsAt: number;
}

const pad = (value: number) => String(value).padStart(2, '0');

/** The UTC calendar period of `window` that holds `time`. */
export function periodOf(window: Exclude<Window, 'total'>, time: number): Period {
  const date = new Date(time);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  if (window === 'month') {
    return {
      label: `${year}-${pad(month + 1)}`,
      startsAt: Date.UTC(year, month, 1),
      endsAt: Date.UTC(year, month + 1, 1),
    };
  }
  const day = `${year}-${pad(month + 1)}-${pad(date.getUTCDate())}`;
  const size = window === 'day' ? 86_400_000 : window === 'hour' ? 3_600_000 : 60_000;
  const startsAt = time - (time % size);
  const start = new Date(startsAt);
  const label =
    window === 'day'
      ? day
      : window === 'hour'
        ? `${day}T${pad(start.getUTCHours())}`
        : `${day}T${pad(start.getUTCHours())}:${pad(start.getUTCMinutes())}`;
  return { label, startsAt, endsAt: startsAt + size };
}

/**
 * The current period of one window, recomputed only when the clock passes its end: the hot path compares two
 * numbers instead of formatting a date.
 */
export class PeriodClock {
  readonly #window: Exclude<Window, 'total'>;
  #current: Period = { label: '', startsAt: 0, endsAt: 0 };

  constructor(window: Exclude<Window, 'total'>) {
    this.#window = window;
  }

  at(time: number): Period {
    const current = this.#current;
    if (time >= current.startsAt && time < current.endsAt) return current;
    return (this.#current = periodOf(this.#window, time));
  }
}
