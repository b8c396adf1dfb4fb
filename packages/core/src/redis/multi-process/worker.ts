// The child side of `runInProcesses`: argv[2] is `{ module, name, input }` as JSON. Prints "ready" once the
// job is prepared, waits for "go" on stdin, runs it, and prints `{ "output": … }` on one line.
import { once } from 'node:events';
import type { ProcessJob } from './index.js';

const { module, name, input } = JSON.parse(process.argv[2] ?? '{}') as { module: string; name: string; input: unknown };
const job = (await import(module))[name] as ProcessJob<unknown, unknown>;
if (typeof job !== 'function') throw new Error(`${module} has no export named ${name}`);
const prepared = await job(input);
process.stdout.write('ready\n');
let received = '';
process.stdin.setEncoding('utf8');
while (!received.includes('go\n')) {
  const [chunk] = (await once(process.stdin, 'data')) as [string];
  received += chunk;
}
process.stdin.pause();
const output = await prepared.run();
// The output first: a close that never settles (a client quitting on a connection that is already gone leaves a
// promise with nothing to keep the process alive) must not swallow it.
// `process.exit` drops what the pipe has not taken yet, so wait until the whole line is written.
await new Promise((resolve) => process.stdout.write(`${JSON.stringify({ output })}\n`, resolve));
await Promise.race([prepared.close?.(), new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
process.exit(0);
