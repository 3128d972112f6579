import { readdirSync, readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';
import mutate from './vitest.mutate.config.js';
import { GROUPS, type MutateGroup } from './scripts/mutate-files.mjs';

/**
 * The thread-free part of the mutation suite, for the pure modules (`npm run mutate`'s first pass,
 * see scripts/mutate.mjs): test files that never create a loader, so no real threads. A mutant of
 * the key, the codec or the value classification is reached by nearly every test of the whole
 * suite (each call derives a key, each run carries its arguments and result), so one that
 * survives cost the whole suite (about 45 s instrumented); here it costs the unit tests of these
 * modules. Fewer tests can only kill fewer mutants: the score this pass reports is a lower bound
 * of what the whole suite would give.
 */
const threadFree = readdirSync('test')
  .filter((f) => f.endsWith('.test.ts'))
  .filter((f) => !/createLoader|asyncLoad\(/.test(readFileSync(`test/${f}`, 'utf8')))
  .map((f) => `test/${f}`);
// A group may add some tests with threads (scripts/mutate-files.mjs).
const group = GROUPS[process.env.ASYNC_LOAD_MUTATE_GROUP as keyof typeof GROUPS] as MutateGroup | undefined;

export default defineConfig({
  ...mutate,
  test: { ...mutate.test, include: [...threadFree, ...(group?.threadTests ?? [])] },
});
