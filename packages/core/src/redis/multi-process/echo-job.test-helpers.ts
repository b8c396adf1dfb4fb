/** A `runInProcesses` job for the helper's own test: answers `size` characters of `fill`. */
export async function echoJob(input: { size: number; fill: string }) {
  return {
    async run(): Promise<string> {
      return input.fill.repeat(input.size);
    },
  };
}
