import os from 'node:os';

/** Shared timing helpers for the benchmarks: warm up, then sample per-call durations. */

export interface Sample {
  name: string;
  /** What the figures count: nanoseconds per call (default) or bytes (a memory figure). */
  unit?: 'ns' | 'bytes';
  /** Nanoseconds per call, or bytes when `unit` is `bytes`. */
  p50: number;
  p99: number;
  mean: number;
  samples: number;
  /** With several runs (`medianOfRuns`): each run's p50, in run order, so the spread behind the median shows. */
  runP50s?: number[];
}

/**
 * Times `fn` (sync or async) `iterations` times in batches of `batch` calls, after `warmup` calls, and answers
 * per-call percentiles in nanoseconds. Batching keeps the timer's own cost out of sub-microsecond figures.
 */
export async function measure(
  name: string,
  fn: () => unknown,
  options: { iterations?: number; batch?: number; warmup?: number } = {},
): Promise<Sample> {
  const { iterations = 200_000, batch = 100, warmup = 20_000 } = options;
  for (let i = 0; i < warmup; i++) await fn();
  const rounds = Math.max(1, Math.floor(iterations / batch));
  const times = new Float64Array(rounds);
  for (let round = 0; round < rounds; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) await fn();
    times[round] = Number(process.hrtime.bigint() - start) / batch;
  }
  times.sort();
  const mean = times.reduce((sum, value) => sum + value, 0) / rounds;
  return { name, p50: percentile(times, 0.5), p99: percentile(times, 0.99), mean, samples: rounds * batch };
}

/**
 * Batches of `base` and of each of `calls`, interleaved round by round after a warm-up, so that load drifting
 * over the run does not count: what each call adds over `base` per round (nanoseconds per call), then `base`'s
 * own times. The calls run in reverse order every other round, so none is favoured by its place.
 */
export async function interleave(
  base: () => Promise<unknown>,
  calls: (() => Promise<unknown>)[],
  { rounds = 400, batch = 50, warmup = 5_000 } = {},
): Promise<Float64Array[]> {
  for (let i = 0; i < warmup; i++) {
    await base();
    for (const call of calls) await call();
  }
  const added = calls.map(() => new Float64Array(rounds));
  const baseTimes = new Float64Array(rounds);
  const time = async (fn: () => Promise<unknown>) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) await fn();
    return Number(process.hrtime.bigint() - start) / batch;
  };
  for (let round = 0; round < rounds; round++) {
    const baseline = await time(base);
    baseTimes[round] = baseline;
    // Every other round in reverse order: no call always runs right after the baseline (or after another).
    for (let step = 0; step < calls.length; step++) {
      const index = round % 2 === 0 ? step : calls.length - 1 - step;
      added[index]![round] = (await time(calls[index]!)) - baseline;
    }
  }
  return [...added, baseTimes];
}

/** Percentiles of per-round figures (from `interleave`); `samples` counts the calls behind them. */
export function summary(name: string, values: Float64Array, samples: number): Sample {
  const sorted = values.slice().sort();
  const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  return { name, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), mean, samples };
}

/**
 * One suite's rows over several runs (each run a process of its own, its rows in the same order): each figure is
 * the median of the runs' figures, and `samples` counts the calls of all runs.
 */
export function medianOfRuns(runs: readonly (readonly Sample[])[]): Sample[] {
  const median = (values: number[]) => {
    const sorted = values.slice().sort((left, right) => left - right);
    const middle = sorted.length >> 1;
    return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  };
  return runs[0]!.map((first, index) => {
    const rows = runs.map((run) => run[index]!);
    return {
      ...first,
      p50: median(rows.map((row) => row.p50)),
      p99: median(rows.map((row) => row.p99)),
      mean: median(rows.map((row) => row.mean)),
      samples: rows.reduce((sum, row) => sum + row.samples, 0),
      ...(runs.length > 1 ? { runP50s: rows.map((row) => row.p50) } : {}),
    };
  });
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/** Prints samples as a Markdown table with the machine, Node version and date. */
export function report(title: string, samples: Sample[]): string {
  const perRun = samples.some((sample) => sample.runP50s !== undefined);
  const lines = [
    `## ${title}`,
    '',
    `${machine()}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
    '',
    perRun ? '| benchmark | p50 | p99 | mean | calls | p50 of each run |' : '| benchmark | p50 | p99 | mean | calls |',
    perRun ? '| --- | ---: | ---: | ---: | ---: | --- |' : '| --- | ---: | ---: | ---: | ---: |',
    ...samples.map((s) => {
      const show = s.unit === 'bytes' ? bytes : format;
      const row = `| ${s.name} | ${show(s.p50)} | ${show(s.p99)} | ${show(s.mean)} | ${s.samples} |`;
      return perRun ? `${row} ${(s.runP50s ?? []).map(show).join(' · ')} |` : row;
    }),
  ];
  return lines.join('\n');
}

function bytes(value: number): string {
  return value >= 1024 * 1024 ? `${(value / 1024 / 1024).toFixed(1)} MB` : `${(value / 1024).toFixed(2)} KB`;
}

export function format(ns: number): string {
  return ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(0)} ns`;
}

function machine(): string {
  const cpus = os.cpus();
  const memory = (os.totalmem() / 1024 ** 3).toFixed(0);
  return `${cpus[0]?.model.trim() ?? 'unknown CPU'} × ${cpus.length} cores, ${memory} GiB, ${process.platform}/${process.arch}, load ${os.loadavg()[0]!.toFixed(1)}`;
}
