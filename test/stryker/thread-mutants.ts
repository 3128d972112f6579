/**
 * Setup file for mutation runs only (vitest.mutate.config.ts). Stryker's vitest runner switches a
 * mutant on in the test process alone (`globalThis.__stryker__.activeMutant`); the pool's worker
 * threads run the same instrumented code (workers/worker.ts and the src/ modules it imports) but
 * never see it, so every worker mutant was "no coverage". Two things fix that without a line in
 * the worker:
 *
 * - Mutant runs: Stryker's instrumentation header reads `process.env.__STRYKER_ACTIVE_MUTANT__`
 *   when the namespace has no active mutant, and threads copy the creating thread's environment
 *   when they start; so the active mutant id goes into that variable before any loader exists.
 * - The dry run: a preload (thread-preload.mjs), added to `process.execArgv` (which the pool
 *   passes on to its threads), writes the ids of the mutants a thread reaches to a file; after
 *   each test file they are counted as covered by every test of that file, which is coarser than
 *   per test but never misses one.
 *
 * Both rely on the pool starting its threads with this process's environment and execArgv.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { threadId } from 'node:worker_threads';
import fc from 'fast-check';
import { afterAll, beforeEach, inject } from 'vitest';

interface StrykerNamespace {
  currentTestId?: string;
  mutantCoverage?: { static: Record<string, number>; perTest: Record<string, Record<string, number>> };
}

declare module 'vitest' {
  export interface ProvidedContext {
    globalNamespace: string | undefined;
    mode: 'mutant' | 'dry-run';
    activeMutant: string;
  }
}

// A property that fails under a mutant has killed it: shrinking the counterexample (seconds for the
// key properties' argument trees) would only make the report nicer. One seed for every run: a
// property written with @fast-check/vitest's `test.prop` carries its seed in its name, and Stryker
// finds a mutant's covering tests by name, so with a new random seed in each process it found none
// and counted every mutant that only such a property could kill as survived.
fc.configureGlobal({ ...fc.readConfigureGlobal(), endOnFailure: true, seed: 20261127 });

const ACTIVE_MUTANT_ENV = '__STRYKER_ACTIVE_MUTANT__';
const COVERAGE_ENV = 'ASYNC_LOAD_STRYKER_COVERAGE_FILE';
const globals = globalThis as Record<string, unknown>;
const namespace = inject('globalNamespace');
const ns = (namespace === undefined ? {} : (globals[namespace] ??= {})) as StrykerNamespace;

if (namespace === undefined) {
  // Run outside Stryker (plain `vitest -c vitest.mutate.config.ts`): nothing to hand on.
} else if (inject('mode') === 'mutant') {
  process.env[ACTIVE_MUTANT_ENV] = inject('activeMutant');
} else {
  delete process.env[ACTIVE_MUTANT_ENV];
  const file = join(tmpdir(), `async-load-stryker-${process.pid}-${threadId}.txt`);
  writeFileSync(file, '');
  process.env[COVERAGE_ENV] = file;
  const preload = fileURLToPath(new URL('./thread-preload.mjs', import.meta.url));
  process.execArgv.push('--import', preload);

  // Coverage Stryker files as "static" (reached while no test was current) makes a mutant run
  // against the whole suite. Most of it here is not module loading but a test's tail: a run that
  // settles, or a loader that closes, after the test body returned. What was reached before the
  // file's first test is left static (mutants in module-level code need Stryker's reload); what
  // was first reached later is counted, like the threads' coverage, for every test of the file.
  const testIds: string[] = [];
  let beforeFirstTest: Set<string> | undefined;
  beforeEach(() => {
    beforeFirstTest ??= new Set(Object.keys(ns.mutantCoverage?.static ?? {}));
    if (ns.currentTestId !== undefined) testIds.push(ns.currentTestId);
  });
  // afterAll hooks run last-registered first, so this runs before Stryker's own afterAll reads
  // the coverage object.
  afterAll(() => {
    const ids = new Set(readFileSync(file, 'utf8').split('\n').filter(Boolean));
    rmSync(file, { force: true });
    const coverage = (ns.mutantCoverage ??= { static: {}, perTest: {} });
    if (testIds.length === 0) {
      for (const id of ids) coverage.static[id] = (coverage.static[id] ?? 0) + 1;
      return;
    }
    for (const id of Object.keys(coverage.static)) {
      if (beforeFirstTest?.has(id)) continue;
      ids.add(id);
      delete coverage.static[id];
    }
    for (const testId of testIds) {
      const perTest = (coverage.perTest[testId] ??= {});
      for (const id of ids) perTest[id] = (perTest[id] ?? 0) + 1;
    }
  });
}
