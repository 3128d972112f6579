/**
 * The modules `npm run mutate` tests in its first pass, against the thread-free tests only
 * (stryker.unit.config.mjs, vitest.mutate-unit.config.ts): pure functions of values, each with
 * unit and property tests of its own, which every other test also reaches (each call derives a
 * key and carries its arguments), so that a mutant surviving them would otherwise run the whole
 * suite. Everything else in src/ and workers/ is the second pass (stryker.config.mjs).
 */
export const PURE_MODULES = [
  'src/key.ts',
  'src/kinds.ts',
  'src/codec.ts',
  'src/key-memo.ts',
  'src/hash.ts',
  'src/rebuild-args.ts',
  'src/task-function.ts',
  'src/errors.ts',
];
