/**
 * Runs the benchmark suites, prints a table and, after a full run of every suite, rewrites
 * bench/RESULTS.md.
 *   npm run bench                  every suite, full sizes
 *   npm run bench -- dispatch hit  some suites
 *   npm run bench -- --quick       smaller sizes and fewer rounds (smoke runs; never written)
 *   npm run bench -- --check       exit 1 if a target is missed
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import type { Figure, Stat, SuiteOptions } from './harness.js';
import { big } from './suites/big.js';
import { cpu } from './suites/cpu.js';
import { dispatch } from './suites/dispatch.js';
import { distributed } from './suites/distributed.js';
import { hit } from './suites/hit.js';
import { latency } from './suites/latency.js';
import { memory } from './suites/memory.js';
import { notify } from './suites/notify.js';
import { payload } from './suites/payload.js';
import { refresh } from './suites/refresh.js';
import { source } from './suites/source.js';

const suites: Record<string, (options: SuiteOptions) => Promise<Figure[]>> = {
  dispatch,
  latency,
  hit,
  big,
  source,
  notify,
  refresh,
  memory,
  cpu,
  payload,
  distributed,
};

const args = process.argv.slice(2);
const check = args.includes('--check');
const quick = args.includes('--quick');
for (const flag of args.filter((a) => a.startsWith('--'))) {
  if (flag !== '--check' && flag !== '--quick') {
    console.error(`Unknown flag "${flag}"; flags: --quick, --check`);
    process.exit(2);
  }
}
const chosen = args.filter((a) => !a.startsWith('--'));
for (const name of chosen) {
  if (!suites[name]) {
    console.error(`Unknown suite "${name}"; suites: ${Object.keys(suites).join(', ')}`);
    process.exit(2);
  }
}

const fmt = (n: number): string =>
  !Number.isFinite(n)
    ? String(n)
    : Math.abs(n) >= 1000
      ? Math.round(n).toLocaleString('en-US')
      : Math.abs(n) >= 10
        ? n.toFixed(1)
        : n.toFixed(3);
const span = (s: Stat, unit = ''): string =>
  s.min === s.max ? `${fmt(s.median)}${unit}` : `${fmt(s.median)}${unit} [${fmt(s.min)}–${fmt(s.max)}]`;
const times = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)}×` : String(n));

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown CPU',
  cores: cpus().length,
  parallelism: availableParallelism(),
  memGiB: totalmem() / 2 ** 30,
  node: process.version,
  load: loadavg(),
};
const machineLine = `${machine.cpu}, ${machine.cores} cores (availableParallelism ${machine.parallelism}), ${machine.memGiB.toFixed(1)} GiB, Node ${machine.node}, ${process.platform}/${process.arch}`;
console.error(
  `machine: ${machineLine}; load average at start ${machine.load.map((l) => l.toFixed(2)).join(' ')}`,
);
if (quick) console.error('--quick: smaller sizes and fewer rounds; figures are indicative only');

const figures: Figure[] = [];
for (const name of chosen.length ? chosen : Object.keys(suites)) {
  console.error(`running ${name} ...`);
  const t0 = performance.now();
  const got = await suites[name]!({ quick });
  figures.push(...got);
  console.error(`  ${name} took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  for (const f of got)
    console.error(
      `  ${f.met ? 'ok    ' : 'MISSED'} ${f.name}: ${span(f.ours, ` ${f.unit}`)}${f.ratio ? `, ratio ${times(f.ratio.median)} [${times(f.ratio.min)}–${times(f.ratio.max)}]` : ''}`,
    );
}

const header =
  '| suite | figure | ours: median [min–max] | baseline: median [min–max] | ratio ours/baseline, per round: median [min–max] | target | met |';
const lines = figures.map((f) => {
  const ours = span(f.ours, ` ${f.unit}`);
  const base = f.baseline ? `${f.baseline.name}: ${span(f.baseline.stat, ` ${f.unit}`)}` : '–';
  const ratio = f.ratio
    ? f.ratio.min === f.ratio.max
      ? times(f.ratio.median)
      : `${times(f.ratio.median)} [${times(f.ratio.min)}–${times(f.ratio.max)}]`
    : '–';
  return `| ${f.suite} | ${f.name}${f.note ? ` (${f.note})` : ''} | ${ours} | ${base} | ${ratio} | ${f.target} | ${f.met ? 'yes' : '**no**'} |`;
});
const table = [header, '|---|---|---|---|---|---|---|', ...lines].join('\n');
console.log(table);

const doc = `# Benchmark results

Written by \`npm run bench\` on ${new Date().toISOString()}.

Machine: ${machineLine}. Load average when the run started: ${machine.load.map((l) => l.toFixed(2)).join(' / ')} (1 / 5 / 15 min).

Every baseline was measured in the same run as ours, in interleaved rounds whose order rotates (refresh, whose figure is about 20 consecutive intervals, runs ours and then its baseline). The ratio column is the median and min–max **of the per-round ratios** ours / baseline (never a ratio of medians); absolute figures are medians [min–max] over the same rounds. Default options unless a row says otherwise. Each suite's file says what its baseline represents and why it is fair.

${table}
`;
if (!chosen.length && !quick) writeFileSync(new URL('./RESULTS.md', import.meta.url), doc);
else console.error('(bench/RESULTS.md is only rewritten by a full run of every suite, without --quick)');

const missed = figures.filter((f) => !f.met);
if (missed.length) {
  console.error(`${missed.length} target(s) missed: ${missed.map((f) => `${f.suite}/${f.name}`).join(', ')}`);
  if (check) process.exit(1);
}
