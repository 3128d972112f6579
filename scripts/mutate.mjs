// `npm run mutate`: both Stryker passes, one after the other (each runs one test process; the
// suite starts real threads), then the scores per file and over src/ and workers/. Extra
// arguments go to both passes (for example `--incrementalFile` is NOT one to pass here: each pass
// keeps its own).
import { spawnSync } from 'node:child_process';

const extra = process.argv.slice(2);
const passes = [
  ['pure modules, thread-free tests', 'stryker.unit.config.mjs', 'reports/mutation/unit.json'],
  [
    'coordinator, pool and worker, whole mutation suite',
    'stryker.config.mjs',
    'reports/mutation/mutation.json',
  ],
];
let failed = false;
for (const [what, config] of passes) {
  const started = Date.now();
  console.log(`\n== Stryker: ${what} (${config})`);
  const r = spawnSync('npx', ['stryker', 'run', config, ...extra], { stdio: 'inherit' });
  console.log(`== ${config}: exit ${r.status}, ${((Date.now() - started) / 60_000).toFixed(1)} min`);
  failed ||= r.status !== 0;
}
spawnSync('node', ['scripts/mutation-scores.mjs', ...passes.map((p) => p[2]), '--quiet'], {
  stdio: 'inherit',
});
process.exit(failed ? 1 : 0);
