// A session run in a child process by the crash test: `tsx crash-session.ts <run|resume> <dir> <countFile> <kill point>`.
// The parent kills it with SIGKILL at the point it prints, then resumes the session in a new process.
import { appendFileSync } from 'node:fs';
import { createGateway } from '@gatehouse/core';
import { z } from 'zod';
import { agents, defineAgent, fileSessions, tool } from '../index.js';
import { type Script, scriptedModel } from '../testing/index.js';

const [mode, dir, countFile, killAt] = process.argv.slice(2) as [string, string, string, 'model' | 'tool'];
let resumed = mode === 'resume';

const append = tool({
  name: 'append',
  description: 'Appends a line to the ledger',
  input: z.object({ line: z.string() }),
  execute: async ({ line }) => {
    appendFileSync(countFile, `${line}\n`);
    if (!resumed && killAt === 'tool') {
      console.log('tool-blocked');
      await new Promise(() => setInterval(() => {}, 1000));
    }
    return `appended ${line}`;
  },
});

const first: Script = { toolCalls: [{ id: 'a1', name: 'append', arguments: { line: 'entry' } }] };
const final = 'The ledger has one entry';
const slow: Script = () => {
  console.log('model-waiting');
  return { text: final, delayMs: 60_000 };
};
const script: Script[] = mode === 'run' ? [first, killAt === 'model' ? slow : final] : [final];
const ledger = defineAgent({ name: 'ledger', instructions: 'Keep the ledger.', model: 'm', tools: [append] });
const gateway = createGateway({
  agents: agents({ client: scriptedModel(script), sessions: { store: fileSessions(dir) }, agents: [ledger] }),
});

let result =
  mode === 'run'
    ? await gateway.agents.run(ledger, 'Add an entry', { sessionId: 'crash' })
    : await gateway.agents.resume('crash');
if (result.status === 'needs-decision') {
  console.log(`needs-decision ${result.pending.map((call) => call.id).join(',')}`);
  resumed = true;
  // The ledger shows the line was written: answer the call's result instead of running it again.
  result = await gateway.agents.decide('crash', 'a1', { result: 'appended entry' });
}
console.log(JSON.stringify({ status: result.status, output: result.output }));
