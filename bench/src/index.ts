/**
 * `npm run bench`: every benchmark, one table. Run on a quiet machine: figures are per call, after warm-up.
 * `--write` also saves the table to bench/RESULTS.md.
 */
import { writeFile } from 'node:fs/promises';
import { agentsBench } from './agents.js';
import { cacheBench } from './cache.js';
import { composeBench } from './compose.js';
import { detectBench } from './detect.js';
import { governanceBench } from './governance.js';
import { guardrailsBench } from './guardrails.js';
import { report, type Sample } from './measure.js';
import { modelsBench } from './models.js';
import { toolsBench } from './tools.js';
import { toolsAccessBench } from './tools-access.js';

const suites: [string, () => Promise<Sample[]>][] = [
  ['compose', composeBench],
  ['models', modelsBench],
  ['governance', governanceBench],
  ['guardrails', guardrailsBench],
  ['cache', cacheBench],
  ['detect', detectBench],
  ['tools-access', toolsAccessBench],
  ['tools', toolsBench],
  ['agents', agentsBench],
];

const only = process.argv.slice(2).filter((argument) => !argument.startsWith('--'));
const samples: Sample[] = [];
for (const [name, run] of suites) {
  if (only.length > 0 && !only.includes(name)) continue;
  console.error(`running ${name}…`);
  samples.push(...(await run()));
}
const table = report('Gatehouse benchmarks', samples);
console.log(table);
if (process.argv.includes('--write')) {
  await writeFile(
    new URL('../RESULTS.md', import.meta.url),
    `# Benchmark results\n\nProduced by \`npm run bench -- --write\`.\n\n${table}\n`,
  );
}
process.exit(0);
