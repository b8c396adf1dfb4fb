import { expect, test } from 'vitest';
import { runInProcesses } from './index.js';

test('every byte of a large output arrives, from every process, in input order', async () => {
  // 2 MB per child spans many pipe reads: the output must be read to its end before the child counts as done, and
  // a two-byte character split between two reads must come out whole.
  const inputs = [
    { size: 2_000_000, fill: 'a' },
    { size: 1_000_000, fill: 'é' },
  ];
  const outputs = await runInProcesses<{ size: number; fill: string }, string>({
    module: new URL('./echo-job.test-helpers.ts', import.meta.url).href,
    name: 'echoJob',
    inputs,
  });
  expect(outputs.map((output, index) => output === inputs[index]!.fill.repeat(inputs[index]!.size))).toEqual([
    true,
    true,
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
