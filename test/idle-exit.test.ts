/**
 * A thread that exits by itself between runs (a timer a function left behind calls
 * process.exit) is reported to onError, once, and replaced; threads the pool stops itself
 * (idle retirement, a timeout, close()) are not reported. With `minThreads: 0`, runs waiting
 * when the last thread went still get a thread.
 */
import { describe, expect, it } from 'vitest';
import { TimeoutError, WorkerCrashedError } from '../src/index.js';
import { loaderFactory, watchHostErrors } from './helpers.js';

watchHostErrors();
const make = loaderFactory();

const threadOf = (): number =>
  (require('node:worker_threads') as typeof import('node:worker_threads')).threadId;

describe('a thread exiting between runs', () => {
  it('goes to onError as WorkerCrashedError with its exit code; the next run gets a new thread', async () => {
    const errors: Error[] = [];
    const l = make({ threads: 1, onError: (e) => errors.push(e) });
    const leaves = l.asyncLoad((code: number) => {
      setTimeout(() => process.exit(code), 20);
      return (require('node:worker_threads') as typeof import('node:worker_threads')).threadId;
    });
    const where = l.asyncLoad(threadOf);
    const before = await leaves.wait(3);
    await expect.poll(() => errors.length, { timeout: 10_000 }).toBe(1);
    expect(errors[0]).toBeInstanceOf(WorkerCrashedError);
    expect(errors[0]!.message).toMatch(/exited between runs \(exit code 3\)/);
    expect((errors[0] as WorkerCrashedError).exitCode).toBe(3);
    expect(await where.wait()).not.toBe(before);
    expect(errors).toHaveLength(1);
  });

  it('threads the pool stops itself are not reported: idle retirement, a timeout, close()', async () => {
    const errors: Error[] = [];
    const l = make({ threads: 1, minThreads: 0, idleTimeout: 20, onError: (e) => errors.push(e) });
    const where = l.asyncLoad((call: number) => {
      void call;
      return (require('node:worker_threads') as typeof import('node:worker_threads')).threadId;
    });
    const first = await where.wait(0);
    // Idle retirement: ask again (new entries) until a run lands on a new thread.
    let call = 1;
    let now = first;
    while (now === first && call < 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      now = await where.wait(call++);
    }
    expect(now).not.toBe(first);
    const spin = l.asyncLoad(
      () => {
        for (;;);
      },
      { timeout: 50 },
    );
    await expect(spin.wait()).rejects.toBeInstanceOf(TimeoutError);
    expect(typeof (await where.wait(-1))).toBe('number');
    await l.close();
    expect(errors).toEqual([]);
  });
});

describe('minThreads: 0', () => {
  it('five threads exiting between runs, one after another, are five reports, not more', async () => {
    const errors: Error[] = [];
    // The thread exits 20 ms after its run; it must still be there then. With a short idle
    // timeout, a thread starved of CPU for longer (two busy cores) was retired first, and a
    // thread the pool stops itself is rightly not reported.
    const l = make({ threads: 2, minThreads: 0, idleTimeout: 1_000, onError: (e) => errors.push(e) });
    const leaves = l.asyncLoad((round: number) => {
      setTimeout(() => process.exit(5), 20);
      return round;
    });
    for (let round = 0; round < 5; round++) {
      expect(await leaves.wait(round)).toBe(round);
      await expect.poll(() => errors.length, { timeout: 10_000 }).toBe(round + 1);
    }
    // Long enough for idle threads to retire (1 s) and for any late report to arrive.
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    expect(errors.map((e) => (e as WorkerCrashedError).exitCode)).toEqual([5, 5, 5, 5, 5]);
  });

  it('a run waiting when the only thread was stopped for a timeout still runs', async () => {
    const l = make({ threads: 1, minThreads: 0 });
    const spin = l.asyncLoad(
      () => {
        for (;;);
      },
      { timeout: 50 },
    );
    const double = l.asyncLoad((n: number) => n * 2);
    const stopped = spin.wait();
    // Queued behind the endless run: handed to the pool while its thread is being stopped.
    const waiting = double.wait(21);
    await expect(stopped).rejects.toBeInstanceOf(TimeoutError);
    expect(await waiting).toBe(42);
    await expect(spin.wait()).rejects.toBeInstanceOf(TimeoutError);
    expect(await double.wait(4)).toBe(8);
  });

  it('a run waiting when the only thread exited mid-run still runs', async () => {
    const l = make({ threads: 1, minThreads: 0, onError: () => undefined });
    const quit = l.asyncLoad(() => process.exit(5));
    const double = l.asyncLoad((n: number) => n * 2);
    const crashed = quit.wait();
    const waiting = double.wait(21);
    await expect(crashed).rejects.toBeInstanceOf(WorkerCrashedError);
    expect(await waiting).toBe(42);
  });
});
