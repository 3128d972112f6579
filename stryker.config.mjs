// @ts-check
import { GROUPS } from './scripts/mutate-files.mjs';

const name = process.env.ASYNC_LOAD_MUTATE_GROUP ?? 'coordinator';
const group = GROUPS[/** @type {keyof typeof GROUPS} */ (name)];
if (!group) throw new Error(`ASYNC_LOAD_MUTATE_GROUP=${name}: not one of ${Object.keys(GROUPS).join(', ')}`);

/**
 * Mutation testing of one file group (scripts/mutate-files.mjs), chosen by
 * `ASYNC_LOAD_MUTATE_GROUP`; `npm run mutate` (scripts/mutate.mjs) runs every group in turn.
 * Each group keeps its results in reports/incremental/<group>.json, which is committed: a run
 * re-tests only the mutants whose code or covering tests changed. One file of a group, with a
 * throw-away incremental file: `ASYNC_LOAD_MUTATE_GROUP=coordinator npx stryker run --mutate
 * src/store.ts --incrementalFile reports/store.json`.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  vitest: {
    // Every group: the thread-free tests plus its own list (vitest.mutate.config.ts, the whole
    // mutation suite, is their base; a survivor against it cost minutes).
    configFile: 'vitest.mutate-unit.config.ts',
    related: false,
  },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: group.files,
  coverageAnalysis: 'perTest',
  checkers: [],
  // One test process: every group's list has tests that start real threads. A group may set its
  // own (the distributed tests wait on a redis-server, not on the CPU).
  concurrency: group.concurrency ?? 1,
  timeoutMS: 4000,
  // A group's initial test run, instrumented, takes up to 5 minutes here beside a second Stryker
  // run (the whole mutation suite did); the default (5) aborted a group before it tested anything.
  dryRunTimeoutMinutes: 20,
  timeoutFactor: 1.25,
  incremental: true,
  incrementalFile: `reports/incremental/${name}.json`,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  tempDirName: '.stryker-tmp',
  // Not copied into the sandbox: the sandboxes of a second run started with `--tempDirName
  // .stryker-tmp-<x>` (a copy of one changing under the copy failed the run).
  ignorePatterns: ['/.stryker-tmp*'],
  cleanTempDir: true,
};
