/**
 * Threads that exit (process.exit in a preloaded module) while starting, with no error event:
 * every run, the first and any later one, fails with WorkerStartError instead of pending, and
 * once threads can start again, the next call runs. Real threads.
 */
import { rmSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { WorkerCrashedError, WorkerStartError, createLoader, type Loader } from '../src/index.js';
import { watchHostErrors } from './helpers.js';
import { settledWithin as within, useExitingThreads } from './support/exiting-threads.js';

watchHostErrors();

const loaders: Loader[] = [];
/** Threads started from now on exit while starting, until the returned flag file is removed. */
const exitingThreads = useExitingThreads(loaders);
const threadsExitWhileStarting = (): string => exitingThreads().flag;

describe('threads that exit while starting', () => {
  it.each([1, 2])(
    'with %i thread(s): first and later runs fail with WorkerStartError; once threads start, the next call runs',
    async (threads) => {
      const flag = threadsExitWhileStarting();
      const lost: Error[] = [];
      const loader = createLoader({ threads, onError: (error) => lost.push(error) });
      loaders.push(loader);
      const double = loader.asyncLoad((n: number) => n * 2);
      // In turn: each later call comes after the pool has given up on the threads before it.
      for (const n of [1, 2, 3]) {
        const outcome = await within(double.wait(n), 15_000);
        expect(outcome, `call ${n}`).not.toBe('pending');
        expect((outcome as { error: unknown }).error, `call ${n}`).toBeInstanceOf(WorkerStartError);
      }
      // Nothing ran: what onError heard says so, not that a thread died while running a function.
      expect(lost.length).toBeGreaterThan(0);
      for (const error of lost) {
        expect(error).toBeInstanceOf(WorkerCrashedError);
        expect(error.message).not.toMatch(/while running/);
        expect(error).toMatchObject({ exitCode: 4 });
      }
      // Threads can start again (what stopped them has passed): the next call runs.
      rmSync(flag);
      expect(await within(double.wait(4), 15_000)).toEqual({ value: 8 });
      // A call whose entry holds the start failure runs again too, rather than serving it.
      expect(await within(double.wait(3), 15_000)).toEqual({ value: 6 });
    },
    60_000,
  );
});

describe('an entry with refreshEvery whose threads cannot start', () => {
  it('stops refreshing (no thread starts every refreshEvery); its next call runs it, and refreshes resume', async () => {
    const flag = threadsExitWhileStarting();
    const lost: Error[] = [];
    const loader = createLoader({ threads: 1, onError: (error) => lost.push(error) });
    loaders.push(loader);
    const double = loader.asyncLoad((n: number) => n * 2, { refreshEvery: 50 });
    const first = await within(double.wait(1), 15_000);
    expect((first as { error: unknown }).error).toBeInstanceOf(WorkerStartError);
    // Refreshing every 50 ms would have run it again about ten times by now, each time starting
    // threads (and failing to).
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(double.state(1)).toMatchObject({ status: 'error', runs: 1 });
    rmSync(flag);
    expect(await within(double.wait(1), 15_000)).toEqual({ value: 2 });
    // Refreshing again, from that run.
    await vi.waitFor(() => expect(double.state(1).runs).toBeGreaterThanOrEqual(4), {
      timeout: 15_000,
      interval: 20,
    });
  }, 60_000);
});
