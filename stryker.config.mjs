// @ts-check
/**
 * Mutation testing: `npm run mutate` (everything), `npm run mutate -- --mutate src/store.ts` (one
 * file). Results are kept in reports/stryker-incremental.json, so a second run only tests mutants
 * whose code or covering tests changed. One process at a time: the suite starts real threads.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutate.config.ts', related: false },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: ['src/**/*.ts', '!src/index.ts', 'workers/**/*.ts'],
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
