import { describe, expect, it } from 'vitest';
import { medianOfRuns, report, type Sample } from './measure.js';

const row = (name: string, p50: number, p99: number, mean: number): Sample => ({ name, p50, p99, mean, samples: 100 });

describe('medianOfRuns', () => {
  it('takes the median of each figure across runs, row by row, and counts every run’s calls', () => {
    const merged = medianOfRuns([
      [row('raw', 100, 300, 120), row('added', 9, 90, 11)],
      [row('raw', 140, 200, 150), row('added', 14, 70, 16)],
      [row('raw', 120, 250, 130), row('added', 7, 80, 8)],
    ]);
    expect(merged).toEqual([
      { name: 'raw', p50: 120, p99: 250, mean: 130, samples: 300, runP50s: [100, 140, 120] },
      { name: 'added', p50: 9, p99: 80, mean: 11, samples: 300, runP50s: [9, 14, 7] },
    ]);
  });

  it('averages the two middle runs of an even count, and keeps a bytes row’s unit', () => {
    const bytes = (p50: number): Sample => ({ name: 'heap', unit: 'bytes', p50, p99: p50, mean: p50, samples: 1 });
    const [merged] = medianOfRuns([[bytes(10)], [bytes(40)], [bytes(20)], [bytes(30)]]);
    expect(merged).toEqual({
      name: 'heap',
      unit: 'bytes',
      p50: 25,
      p99: 25,
      mean: 25,
      samples: 4,
      runP50s: [10, 40, 20, 30],
    });
  });

  it('a single run is reported as it is, with no per-run column', () => {
    const only = [row('added', 9, 90, 11)];
    expect(medianOfRuns([only])).toEqual(only);
    expect(report('t', only)).not.toContain('each run');
    expect(report('t', medianOfRuns([only, only]))).toContain('| 9 ns · 9 ns |');
  });
});
