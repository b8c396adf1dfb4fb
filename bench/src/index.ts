/**
 * `npm run bench`: every benchmark, one table. Run on a quiet machine: figures are per call, after warm-up.
 * `--write` also saves the table to bench/RESULTS.md.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { agentsBench } from './agents.js';
import { cacheBench } from './cache.js';
import { composeBench } from './compose.js';
import { detectBench } from './detect.js';
import { governanceBench, governancePartsBench, governanceRunBench } from './governance.js';
import { guardrailsBench } from './guardrails.js';
import { medianOfRuns, report, type Sample } from './measure.js';
import { modelsBench, modelsLayerBench } from './models.js';
import { toolsBench } from './tools.js';
import { toolsAccessBench } from './tools-access.js';

const suites: [string, () => Promise<Sample[]>][] = [
  ['compose', composeBench],
  ['models', modelsBench],
  ['models-layer', modelsLayerBench],
  ['governance', governanceBench],
  ['governance-run', governanceRunBench],
  ['governance-parts', governancePartsBench],
  ['guardrails', guardrailsBench],
  ['cache', cacheBench],
  ['detect', detectBench],
  ['tools-access', toolsAccessBench],
  ['tools', toolsBench],
  ['agents', agentsBench],
];

const suite = process.argv.indexOf('--suite');
if (suite >= 0) {
  // A child: one suite, its samples as JSON on stdout.
  const run = suites.find(([name]) => name === process.argv[suite + 1])?.[1];
  if (!run) throw new Error(`no benchmark suite ${process.argv[suite + 1]}`);
  process.stdout.write(JSON.stringify(await run()));
  process.exit(0);
}

// Each suite in a process of its own: one suite's JIT state, heap and AsyncLocalStorage hooks (on for good once a
// gateway.run() has happened) never weigh on the next one's figures. `--runs N` runs each suite in N processes and
// reports the median of each figure: a process can settle in a faster or slower JIT state than the next one.
const runsAt = process.argv.indexOf('--runs');
const runs = runsAt >= 0 ? Number(process.argv[runsAt + 1]) : 1;
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a whole number of runs, 1 or more');
const only = process.argv
  .slice(2)
  .filter((argument, index, all) => !argument.startsWith('--') && all[index - 1] !== '--runs');
const samples: Sample[] = [];
for (const [name] of suites) {
  // `models` also selects `models-layer`, and so on.
  if (only.length > 0 && !only.some((each) => name === each || name.startsWith(`${each}-`))) continue;
  const each: Sample[][] = [];
  for (let run = 1; run <= runs; run++) {
    console.error(runs === 1 ? `running ${name}…` : `running ${name} (${run} of ${runs})…`);
    const output = execFileSync(
      process.execPath,
      [...process.execArgv, fileURLToPath(import.meta.url), '--suite', name],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    each.push(JSON.parse(output.toString()) as Sample[]);
  }
  samples.push(...medianOfRuns(each));
}
const table = report(runs === 1 ? 'Gatehouse benchmarks' : `Gatehouse benchmarks (median of ${runs} runs)`, samples);
console.log(table);
if (process.argv.includes('--write')) {
  await writeFile(
    new URL('../RESULTS.md', import.meta.url),
    `# Benchmark results\n\nProduced by \`npm run bench -- --write${runs === 1 ? '' : ` --runs ${runs}`}\`.\n\n${table}\n`,
  );
}
process.exit(0);
