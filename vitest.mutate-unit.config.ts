import { readdirSync, readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';
import mutate from './vitest.mutate.config.js';
import { GROUPS, type MutateGroup } from './scripts/mutate-files.mjs';

/**
 * The mutation suite of every group (scripts/mutate-files.mjs): test files that never create a
 * loader (picked by their text), so no real threads, plus a group's `threadTests`. A mutant of the key, the codec or the loader is
 * reached by nearly every test of the whole suite, so one that survives would cost the whole
 * suite (about a minute instrumented); here it costs these tests. Fewer tests can only kill
 * fewer mutants: such a group's score is a lower bound of what the whole suite would give.
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
