/**
 * What onError hears of threads that exit: each thread that exits while starting is reported
 * once, as a WorkerCrashedError that says so; after close(), threads that exit (while starting,
 * or terminated between runs) are not reported at all. Real threads.
 */
import { describe, expect, it, vi } from 'vitest';
import {
  LoaderClosedError,
  WorkerCrashedError,
  WorkerStartError,
  createLoader,
  type Loader,
} from '../src/index.js';
import { watchHostErrors } from './helpers.js';
import { useExitingThreads } from './support/exiting-threads.js';

watchHostErrors();

const loaders: Loader[] = [];
/** Threads that see the flag count themselves, then wait their delay before they exit. */
const threadsExitWhileStarting = useExitingThreads(loaders);

describe('onError and threads that exit', () => {
  it('hears each thread that exited while starting, as a WorkerCrashedError that says so', async () => {
    const { seen } = threadsExitWhileStarting(0);
    const heard: Error[] = [];
    const loader = createLoader({ threads: 1, onError: (error) => heard.push(error) });
    loaders.push(loader);
    const error = await loader
      .asyncLoad((n: number) => n)
      .wait(1)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerStartError);
    expect(heard.length).toBeGreaterThan(0);
    // One report for each thread that saw the flag (each exits at once); the last may follow.
    await vi.waitFor(() => expect(heard).toHaveLength(seen()), { timeout: 10_000, interval: 10 });
    for (const report of heard) {
      expect(report).toBeInstanceOf(WorkerCrashedError);
      // Said by the pool's start watch, or by Piscina's failure of a task the thread held.
      expect([
        'A worker thread exited with code 4 while starting, before running anything',
        'The worker thread exited with code 4 before the run handed to it started.',
      ]).toContain(report.message);
    }
  }, 60_000);

  it('hears nothing of a thread still starting when close() ends it', async () => {
    // The pool's first thread (which Piscina counts as started at once) exits; its replacement
    // is still starting when close() terminates it.
    const { seen } = threadsExitWhileStarting(0, 30_000);
    const heard: Error[] = [];
    const loader = createLoader({ threads: 1, onError: (error) => heard.push(error) });
    const pending = loader
      .asyncLoad((n: number) => n)
      .wait(1)
      .catch((e: unknown) => e);
    await vi.waitFor(() => expect(seen()).toBe(2), { timeout: 15_000, interval: 10 });
    // What the first thread's exit brought (not this test's subject) has been heard by now.
    await vi.waitFor(() => expect(heard.length).toBeGreaterThan(0), { timeout: 15_000, interval: 10 });
    const before = heard.length;
    await loader.close();
    expect(await pending).toBeInstanceOf(LoaderClosedError);
    // Exits reported after the current turn (see the pool's start watch) would come by now.
    await new Promise((resolve) => setImmediate(resolve));
    expect(heard.slice(before)).toEqual([]);
  }, 60_000);

  it('hears nothing of threads that close() ends between runs', async () => {
    const heard: Error[] = [];
    const loader = createLoader({ threads: 2, onError: (error) => heard.push(error) });
    const double = loader.asyncLoad((n: number) => n * 2);
    expect(await Promise.all([double.wait(1), double.wait(2), double.wait(3)])).toEqual([2, 4, 6]);
    await loader.close();
    await new Promise((resolve) => setImmediate(resolve));
    expect(heard).toEqual([]);
  }, 60_000);
});
