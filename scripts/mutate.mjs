// `npm run mutate [group ...]`: one Stryker run per file group (scripts/mutate-files.mjs), one
// after the other, then the score of each file and the totals over src/ and workers/. Each group
// reuses its committed results (reports/incremental/<group>.json) for the mutants whose code and
// covering tests did not change; `--force` re-tests everything. Other arguments go to Stryker.
import { spawnSync } from 'node:child_process';
import { GROUPS } from './mutate-files.mjs';

const args = process.argv.slice(2);
const chosen = args.filter((a) => a in GROUPS);
const extra = args.filter((a) => !(a in GROUPS));
const began = Date.now();
// A few tests in the groups' lists run the built package (dist/) in a script of their own, as a
// user would; nothing there is mutated, but a clean clone has no build: build it first.
const build = spawnSync('npm', ['run', 'build'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
let failed = false;
for (const group of chosen.length > 0 ? chosen : Object.keys(GROUPS)) {
  const started = Date.now();
  console.log(`\n== Stryker: ${group} (${GROUPS[group].files.join(', ')})`);
  const r = spawnSync('npx', ['stryker', 'run', ...extra], {
    stdio: 'inherit',
    env: { ...process.env, ASYNC_LOAD_MUTATE_GROUP: group },
  });
  console.log(`== ${group}: exit ${r.status}, ${((Date.now() - started) / 60_000).toFixed(1)} min`);
  failed ||= r.status !== 0;
}
console.log(`\n== every group: ${((Date.now() - began) / 60_000).toFixed(1)} min`);
spawnSync('node', ['scripts/mutation-scores.mjs', '--quiet'], { stdio: 'inherit' });
process.exit(failed ? 1 : 0);
