// @ts-check
import { PURE_MODULES } from './scripts/mutate-files.mjs';

/**
 * Mutation testing, second pass of `npm run mutate` (scripts/mutate.mjs): the coordinator, the
 * pool and the worker, against the whole mutation suite (vitest.mutate.config.ts, real threads).
 * The pure modules are the first pass (stryker.unit.config.mjs). One file:
 * `npx stryker run --mutate src/store.ts --incrementalFile reports/store.json`. Results are kept
 * in the incremental file, so a second run only tests mutants whose code or covering tests
 * changed. One process at a time: the suite starts real threads.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutate.config.ts', related: false },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: ['src/**/*.ts', '!src/index.ts', 'workers/**/*.ts', ...PURE_MODULES.map((f) => `!${f}`)],
  coverageAnalysis: 'perTest',
  checkers: [],
  concurrency: 1,
  timeoutMS: 4000,
  timeoutFactor: 1.25,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
