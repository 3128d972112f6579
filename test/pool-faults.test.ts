/**
 * The pool's own faults: a thread stopped by a timeout or a cancel never takes an innocent run
 * down with it, and threads that cannot start fail the runs waiting for them instead of leaving
 * them pending. Real threads; the race loop's full 10,000 runs run when SOAK is set.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createLoader, TimeoutError, type Loader } from '../src/index.js';
import { watchHostErrors } from './helpers.js';

watchHostErrors();

const loaders: Loader[] = [];
afterAll(() => Promise.all(loaders.map((l) => l.close())));
function loader(options: Parameters<typeof createLoader>[0] = {}): Loader {
  const l = createLoader({ threads: 2, pollInterval: 0, ...options });
  loaders.push(l);
  return l;
}

/** Innocent runs in the race loop: 10,000 under SOAK (the bar), enough to catch the race otherwise. */
const INNOCENT_RUNS = process.env.SOAK ? 10_000 : 600;

describe('thread termination', () => {
  it(
    `a timeout that fires as its run finishes never fails the next run on that thread (${INNOCENT_RUNS} innocent runs)`,
    async () => {
      const l = loader();
      // Busy for 20 ms with a 20 ms timeout: the timeout fires about when the run returns, which
      // is when the thread's next task is handed over.
      const racing = l.asyncLoad(
        (_i: number) => {
          const end = Date.now() + 20;
          while (Date.now() < end);
          return 'done';
        },
        { timeout: 20 },
      );
      const innocent = l.asyncLoad((i: number) => i);
      const failures: unknown[] = [];
      let timeouts = 0;
      let i = 0;
      while (i < INNOCENT_RUNS) {
        const batch: Promise<unknown>[] = [];
        // Two racing runs (one per thread), each followed by innocent runs queued behind it.
        for (let r = 0; r < 2; r++) {
          batch.push(
            racing.wait(i).then(
              () => undefined,
              (error: unknown) => {
                if (error instanceof TimeoutError) timeouts++;
                else failures.push(error);
              },
            ),
          );
          for (let k = 0; k < 5 && i < INNOCENT_RUNS; k++, i++) {
            const n = i;
            batch.push(
              innocent.wait(n).then(
                (v) => {
                  if (v !== n) failures.push(new Error(`innocent run ${n} returned ${String(v)}`));
                },
                (error: unknown) => failures.push(error),
              ),
            );
          }
        }
        await Promise.all(batch);
        racing.clear();
        innocent.clear();
      }
      expect(failures).toEqual([]);
      // The race was exercised: some racing runs did time out.
      expect(timeouts).toBeGreaterThan(0);
    },
    process.env.SOAK ? 600_000 : 30_000,
  );
});
