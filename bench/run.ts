/**
 * Runs the benchmark suites, prints a table and rewrites bench/RESULTS.md.
 *   npm run bench                  every suite
 *   npm run bench -- dispatch hit  some suites
 *   npm run bench -- --check       exit 1 if a target is missed
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { Figure } from './harness.js';
import { dispatch } from './suites/dispatch.js';
import { cpu } from './suites/cpu.js';
import { hit } from './suites/hit.js';
import { memory } from './suites/memory.js';
import { notify } from './suites/notify.js';
import { payload } from './suites/payload.js';
import { refresh } from './suites/refresh.js';

const suites: Record<string, () => Promise<Figure[]>> = {
  dispatch,
  hit,
  cpu,
  notify,
  payload,
  refresh,
  memory,
};

const args = process.argv.slice(2);
const check = args.includes('--check');
const chosen = args.filter((a) => !a.startsWith('--'));
for (const name of chosen) {
  if (!suites[name]) {
    console.error(`Unknown suite "${name}"; suites: ${Object.keys(suites).join(', ')}`);
    process.exit(2);
  }
}

const fmt = (n: number): string =>
  Math.abs(n) >= 1000
    ? Math.round(n).toLocaleString('en-US')
    : Math.abs(n) >= 10
      ? n.toFixed(1)
      : n.toFixed(3);

const figures: Figure[] = [];
for (const name of chosen.length ? chosen : Object.keys(suites)) {
  console.error(`running ${name} ...`);
  const t0 = performance.now();
  figures.push(...(await suites[name]!()));
  console.error(`  ${name} took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

const header = '| suite | figure | ours (median [min–max]) | baseline (median) | ratio | target | met |';
const lines = figures.map((f) => {
  const ours = `${fmt(f.ours.median)} ${f.unit} [${fmt(f.ours.min)}–${fmt(f.ours.max)}]`;
  const base = f.baseline ? `${f.baseline.name}: ${fmt(f.baseline.stat.median)}` : '–';
  const ratio = f.ratio === undefined ? '–' : `${f.ratio.toFixed(2)}×`;
  return `| ${f.suite} | ${f.name}${f.note ? ` (${f.note})` : ''} | ${ours} | ${base} | ${ratio} | ${f.target} | ${f.met ? 'yes' : '**no**'} |`;
});
const table = [header, '|---|---|---|---|---|---|---|', ...lines].join('\n');
console.log(table);

const cpuModel = cpus()[0]?.model ?? 'unknown CPU';
const doc = `# Benchmark results

Written by \`npm run bench\` on ${new Date().toISOString()}.
Node ${process.version}, ${cpuModel}, ${cpus().length} cores; suites use 2 worker threads.
Medians over repeated rounds after a warm-up, with min–max. Ratios are ours / baseline, both measured in this run.

${table}
`;
if (!chosen.length) writeFileSync(new URL('./RESULTS.md', import.meta.url), doc);
else console.error('(bench/RESULTS.md is only rewritten by a run of every suite)');

const missed = figures.filter((f) => !f.met);
if (check && missed.length) {
  console.error(`${missed.length} target(s) missed: ${missed.map((f) => `${f.suite}/${f.name}`).join(', ')}`);
  process.exit(1);
}
