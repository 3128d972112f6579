/**
 * Threads that exit while starting, in the cases start-exit.test.ts leaves out: threads started
 * on demand (`minThreads: 0`) rather than all at once, two loaders whose threads fail together,
 * and two wrappers sharing one entry with `refreshEvery`. Each call fails with WorkerStartError
 * instead of pending, nothing spreads between loaders, and once threads can start again every
 * caller is served. Real threads.
 */
import { rmSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { WorkerStartError, createLoader, type Loader } from '../src/index.js';
import { watchHostErrors } from './helpers.js';
import { settledWithin, useExitingThreads } from './support/exiting-threads.js';

watchHostErrors();

const loaders: Loader[] = [];
const exitingThreads = useExitingThreads(loaders);

/** What a promise settled with, or 'pending' if it did not within 15 s. */
const settled = (promise: Promise<unknown>): Promise<unknown> => settledWithin(promise, 15_000);

/** Threads started from now on exit while starting, until the returned flag file is removed. */
const threadsExitWhileStarting = (): string => exitingThreads().flag;

function loader(options: Parameters<typeof createLoader>[0] = {}): Loader {
  const created = createLoader({ onError: () => {}, ...options });
  loaders.push(created);
  return created;
}

const startFailure = { error: expect.any(WorkerStartError) as unknown };

describe('threads that exit while starting, beyond one loader and one caller', () => {
  it('threads started on demand (minThreads: 0): calls fail with WorkerStartError, then run', async () => {
    const flag = threadsExitWhileStarting();
    const triple = loader({ threads: 2, minThreads: 0 }).asyncLoad((n: number) => n * 3);
    expect(await settled(triple.wait(1))).toEqual(startFailure);
    expect(await settled(Promise.all([triple.wait(2), triple.wait(3)]))).toEqual(startFailure);
    rmSync(flag);
    expect(await settled(Promise.all([triple.wait(1), triple.wait(2), triple.wait(3)]))).toEqual({
      value: [3, 6, 9],
    });
  }, 60_000);

  it('two loaders whose threads fail together: each call fails on its own, and each loader recovers', async () => {
    const flag = threadsExitWhileStarting();
    const one = loader({ threads: 1 }).asyncLoad((n: number) => n + 1);
    const two = loader({ threads: 2 }).asyncLoad((n: number) => n + 2);
    const outcomes = await Promise.all([one.wait(1), two.wait(1), one.wait(2), two.wait(2)].map(settled));
    expect(outcomes).toEqual([startFailure, startFailure, startFailure, startFailure]);
    rmSync(flag);
    expect(await Promise.all([one.wait(1), two.wait(1), one.wait(2), two.wait(2)].map(settled))).toEqual([
      { value: 2 },
      { value: 3 },
      { value: 3 },
      { value: 4 },
    ]);
  }, 60_000);

  it('two wrappers sharing an entry with refreshEvery: both fail, neither refreshes, both are served after', async () => {
    const flag = threadsExitWhileStarting();
    const shared = loader({ threads: 1 });
    const square = (n: number): number => n * n;
    const first = shared.asyncLoad(square, { refreshEvery: 50 });
    const second = shared.asyncLoad(square, { refreshEvery: 50 });
    expect(await Promise.all([first.wait(4), second.wait(4)].map(settled))).toEqual([
      startFailure,
      startFailure,
    ]);
    // One entry, one run: the second caller shared the first's.
    expect(second.state(4)).toMatchObject({ status: 'error', runs: 1 });
    // Refreshing every 50 ms would have run it about ten times by now, each time starting
    // threads (and failing to).
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(first.state(4)).toMatchObject({ status: 'error', runs: 1 });
    rmSync(flag);
    expect(await Promise.all([first.wait(4), second.wait(4)].map(settled))).toEqual([
      { value: 16 },
      { value: 16 },
    ]);
    // Refreshing again, from that run, for both wrappers.
    await vi.waitFor(() => expect(second.state(4).runs).toBeGreaterThanOrEqual(4), {
      timeout: 15_000,
      interval: 20,
    });
    expect(first.state(4).runs).toBe(second.state(4).runs);
  }, 60_000);

  it.each([1, 2])(
    'a call made once threads can start again runs, even as threads started before then exit (%i thread(s))',
    async (threads) => {
      // Threads that see the flag say so, then take 1.5 s to exit.
      const { flag, seen: seenCount } = exitingThreads(1500);
      const double = loader({ threads }).asyncLoad((n: number) => n * 2);
      expect(await settled(double.wait(1))).toEqual(startFailure);
      // The pool tries again with threads started as the call failed: once they have all seen
      // the flag (and will exit), the cause is gone, and a call comes.
      const before = seenCount();
      await vi.waitFor(() => expect(seenCount()).toBeGreaterThanOrEqual(before + threads), {
        timeout: 15_000,
        interval: 10,
      });
      rmSync(flag);
      expect(await settled(double.wait(2))).toEqual({ value: 4 });
    },
    60_000,
  );
});
