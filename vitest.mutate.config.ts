import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';
import { FastFirstSequencer } from './test/stryker/sequencer.js';

/**
 * The suite as Stryker runs it (`npm run mutate`): without the browser, tarball, soak and README
 * tests, which build, pack or take minutes and do not exercise src/ more than the rest, nor the
 * real-time timing tests (see below), and with a setup file that hands the active mutant to the
 * pool's worker threads (see test/stryker/).
 */
export default mergeConfig(
  base,
  defineConfig({
    test: {
      exclude: [
        'test/dashboard.test.ts',
        'test/package.test.ts',
        'test/soak.test.ts',
        'test/readme.test.ts',
        // Real-time drift and latency bounds on real threads: under instrumentation, on a shared
        // 2-core machine, they fail Stryker's initial run. The same scheduling is tested with fake
        // time in coordinator.test.ts and refresh-schedule.test.ts.
        'test/timing.test.ts',
        // Real processes on a real redis-server, running the build (dist/), not src/.
        'test/distributed/{cluster,security,dashboard-cluster,isolation}.test.ts',
        'node_modules/**',
      ],
      setupFiles: ['test/stryker/thread-mutants.ts'],
      // Tests of the built package (dist/, neither built nor mutated here) skip themselves.
      env: { ASYNC_LOAD_MUTATION_RUN: '1' },
      sequence: { sequencer: FastFirstSequencer },
      // A mutant that makes a run or a promise hang fails its test here rather than waiting out
      // Stryker's timeout, which is computed from the whole covering suite (a minute or more).
      testTimeout: 10_000,
      hookTimeout: 10_000,
      // The timing tests measure real threads on a shared 2-core machine; a failure in Stryker's
      // initial run aborts the whole run, and a spurious one would count a mutant as killed.
      retry: 2,
    },
  }),
);
