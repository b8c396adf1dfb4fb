import { expect, test } from 'vitest';
import { runInProcesses } from './index.js';

test('every byte of a large output arrives, from every process, in input order', async () => {
  // 2 MB per child spans many pipe reads: the output must be read to its end before the child counts as done.
  const outputs = await runInProcesses<{ size: number; fill: string }, string>({
    module: new URL('./echo-job.test-helpers.ts', import.meta.url).href,
    name: 'echoJob',
    inputs: [
      { size: 2_000_000, fill: 'a' },
      { size: 2_000_000, fill: 'b' },
    ],
  });
  expect(outputs.map((output) => [output.length, output[0], output.at(-1)])).toEqual([
    [2_000_000, 'a', 'a'],
    [2_000_000, 'b', 'b'],
  ]);
});

test('a child whose job is missing fails the run with its error', async () => {
  await expect(
    runInProcesses({
      module: new URL('./echo-job.test-helpers.ts', import.meta.url).href,
      name: 'noSuchJob',
      inputs: [{}],
    }),
  ).rejects.toThrow(/has no export named noSuchJob/);
});
