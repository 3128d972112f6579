// @ts-check
import base from './stryker.config.mjs';
import { PURE_MODULES } from './scripts/mutate-files.mjs';

/**
 * First pass of `npm run mutate`: the pure modules, tested against the thread-free test files
 * only (vitest.mutate-unit.config.ts). See stryker.config.mjs for the second pass.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  ...base,
  vitest: { ...base.vitest, configFile: 'vitest.mutate-unit.config.ts' },
  mutate: PURE_MODULES,
  incrementalFile: 'reports/stryker-incremental-unit.json',
  htmlReporter: { fileName: 'reports/mutation/unit.html' },
  jsonReporter: { fileName: 'reports/mutation/unit.json' },
};
