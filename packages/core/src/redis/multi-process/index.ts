import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * A job one child process runs: `prepare` connects (to Redis, say) and answers `run`, which every process
 * starts at the same moment, so their calls truly interleave. The input and output travel as JSON.
 */
export type ProcessJob<Input, Output> = (input: Input) => Promise<{ run(): Promise<Output>; close?(): Promise<void> }>;

export interface RunInProcessesOptions<Input> {
  /** The module exporting the job, as a URL (`new URL('./my-job.ts', import.meta.url).href`). */
  module: string;
  /** The job's export name. */
  name: string;
  /** One input for each child process. */
  inputs: Input[];
  /** Fail if the children have not all answered by then; default 60 s. */
  timeoutMs?: number;
}

const here = fileURLToPath(import.meta.url);
const workerPath = fileURLToPath(new URL(`./worker${extname(here)}`, import.meta.url));
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/**
 * Runs a job in one Node process per input (TypeScript through tsx), releases them together once all are
 * prepared, and answers each process's output in input order. For tests that need real separate
 * instances of an app racing on one shared store.
 */
export async function runInProcesses<Input, Output>(options: RunInProcessesOptions<Input>): Promise<Output[]> {
  const children = options.inputs.map((input) =>
    startChild(JSON.stringify({ module: options.module, name: options.name, input })),
  );
  let timer: NodeJS.Timeout | undefined;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`child processes did not finish in ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([Promise.all(children.map((child) => child.ready)), timeout]);
    for (const child of children) child.process.stdin?.write('go\n');
    return (await Promise.race([Promise.all(children.map((child) => child.result)), timeout])) as Output[];
  } finally {
    clearTimeout(timer);
    for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGKILL');
  }
}

interface Child {
  process: ChildProcess;
  ready: Promise<void>;
  result: Promise<unknown>;
}

function startChild(job: string): Child {
  const child = spawn(process.execPath, ['--import', tsxLoader, workerPath, job], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  // Decoded as a stream: a character split across two reads is not mangled.
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    stdout += chunk;
    if (stdout.startsWith('ready\n')) markReady();
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => (stderr += chunk));
  // 'close', not 'exit': 'exit' can come before the last of stdout has been read, and the output would be lost.
  const exited = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  const result = exited.then(([code, signal]) => {
    const line = stdout.split('\n').find((text) => text.startsWith('{'));
    if (code !== 0 || line === undefined)
      throw new Error(`child process failed (${signal ?? code}):\n${stderr}${stdout}`);
    return (JSON.parse(line) as { output: unknown }).output;
  });
  // A child that dies while preparing must fail the run, not leave it waiting for "ready".
  const readyOrFailed = Promise.race([ready, result.then(() => {})]);
  result.catch(() => {});
  return { process: child, ready: readyOrFailed, result };
}
