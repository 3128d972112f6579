/**
 * Attribution: an uncaught exception or unhandled rejection belongs to the run that created it.
 * While that run is in flight it fails with the error; after it settled, the error goes to
 * `onError` as a WorkerCrashedError naming the function; a run that merely shares the thread
 * never fails for it, and the thread survives. Runs are ordered through files in a temp dir
 * (the stray fires only once the innocent run has started), never through sleeps.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLoader, WorkerCrashedError, type Loader } from '../src/index.js';
import { watchHostErrors } from './helpers.js';

watchHostErrors();

const loaders: Loader[] = [];
afterAll(() => Promise.all(loaders.map((l) => l.close())));
function loader(onError: (error: Error) => void): Loader {
  const l = createLoader({ threads: 1, pollInterval: 0, onError });
  loaders.push(l);
  return l;
}

const threadIdOf = (_tag: number): number => require('node:worker_threads').threadId as number;

/**
 * The innocent run: lets the stray fire (writes `go`), waits until it has fired (`fired`),
 * then gives the thread one more turn so the stray has been fully handled before returning.
 */
async function innocent(dir: string): Promise<string> {
  const fs = require('node:fs') as typeof import('node:fs');
  fs.writeFileSync(`${dir}/go`, '');
  while (!fs.existsSync(`${dir}/fired`)) await new Promise((resolve) => setTimeout(resolve, 2));
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  return 'innocent finished';
}

describe('a stray error after its run settled', () => {
  it('a forgotten rejected promise: the next run of another function succeeds, onError names the culprit', async () => {
    const errors: Error[] = [];
    const l = loader((e) => errors.push(e));
    const dir = mkdtempSync(join(tmpdir(), 'async-load-attr-'));
    const culprit = l.asyncLoad(function leavesRejection(where: string) {
      const fs = require('node:fs') as typeof import('node:fs');
      const timer = setInterval(() => {
        if (!fs.existsSync(`${where}/go`)) return;
        clearInterval(timer);
        void Promise.reject(new Error('forgotten rejection'));
        fs.writeFileSync(`${where}/fired`, '');
      }, 2);
      return 'culprit returned';
    });
    const before = await l.asyncLoad(threadIdOf).wait(1);
    expect(await culprit.wait(dir)).toBe('culprit returned');
    expect(await l.asyncLoad(innocent).wait(dir)).toBe('innocent finished');
    await expect.poll(() => errors.length, { timeout: 5000 }).toBeGreaterThan(0);
    expect(errors).toHaveLength(1);
    const error = errors[0]!;
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(error.message).toContain('leavesRejection');
    expect(error.message).toContain(JSON.stringify(dir).slice(1, -1));
    expect(error.message).toContain('forgotten rejection');
    expect((error.cause as Error).message).toBe('forgotten rejection');
    // The thread survived.
    expect(await l.asyncLoad(threadIdOf).wait(2)).toBe(before);
  });

  it('a timer that throws later: the next run of another function succeeds, onError names the culprit', async () => {
    const errors: Error[] = [];
    const l = loader((e) => errors.push(e));
    const dir = mkdtempSync(join(tmpdir(), 'async-load-attr-'));
    const culprit = l.asyncLoad(function throwsLater(where: string) {
      const fs = require('node:fs') as typeof import('node:fs');
      const timer = setInterval(() => {
        if (!fs.existsSync(`${where}/go`)) return;
        clearInterval(timer);
        fs.writeFileSync(`${where}/fired`, '');
        throw new TypeError('stray throw from a timer');
      }, 2);
      return 'culprit returned';
    });
    const before = await l.asyncLoad(threadIdOf).wait(1);
    expect(await culprit.wait(dir)).toBe('culprit returned');
    expect(await l.asyncLoad(innocent).wait(dir)).toBe('innocent finished');
    await expect.poll(() => errors.length, { timeout: 5000 }).toBeGreaterThan(0);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(WorkerCrashedError);
    expect(errors[0]!.message).toContain('throwsLater');
    expect(errors[0]!.cause).toBeInstanceOf(TypeError);
    expect(await l.asyncLoad(threadIdOf).wait(2)).toBe(before);
    // The culprit's entry keeps its good value: the stray did not rewrite its settled run.
    expect(culprit.state(dir)).toMatchObject({ status: 'complete', value: 'culprit returned' });
  });
});

describe('a stray error from a queueMicrotask callback', () => {
  it('after its run settled: onError names the culprit; while in flight: the run fails', async () => {
    const errors: Error[] = [];
    const l = loader((e) => errors.push(e));
    const dir = mkdtempSync(join(tmpdir(), 'async-load-attr-'));
    const culprit = l.asyncLoad(function microtaskLater(where: string) {
      const fs = require('node:fs') as typeof import('node:fs');
      const timer = setInterval(() => {
        if (!fs.existsSync(`${where}/go`)) return;
        clearInterval(timer);
        fs.writeFileSync(`${where}/fired`, '');
        queueMicrotask(() => {
          throw new Error('thrown from a microtask');
        });
      }, 2);
      return 'culprit returned';
    });
    expect(await culprit.wait(dir)).toBe('culprit returned');
    expect(await l.asyncLoad(innocent).wait(dir)).toBe('innocent finished');
    await expect.poll(() => errors.length, { timeout: 5000 }).toBeGreaterThan(0);
    expect(errors[0]!.message).toContain('microtaskLater');
    const inFlight = l.asyncLoad(async function microtaskInFlight() {
      queueMicrotask(() => {
        throw new Error('microtask in flight');
      });
      await new Promise(() => undefined);
    });
    await expect(inFlight.wait()).rejects.toThrow('microtask in flight');
    expect(errors).toHaveLength(1);
  });
});

describe('a stray error while its run is in flight', () => {
  it('a timer that throws fails that run with the error as thrown; the thread survives; onError hears nothing', async () => {
    const errors: Error[] = [];
    const l = loader((e) => errors.push(e));
    const before = await l.asyncLoad(threadIdOf).wait(1);
    const culprit = l.asyncLoad(async function throwsInFlight() {
      setTimeout(() => {
        throw new RangeError('thrown while in flight');
      }, 1);
      await new Promise(() => undefined);
    });
    const error = await culprit.wait().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RangeError);
    expect(error).not.toBeInstanceOf(WorkerCrashedError);
    expect((error as Error).message).toBe('thrown while in flight');
    expect(await l.asyncLoad(threadIdOf).wait(2)).toBe(before);
    expect(errors).toEqual([]);
  });

  it('an unhandled rejection fails that run with the rejection reason', async () => {
    const errors: Error[] = [];
    const l = loader((e) => errors.push(e));
    const culprit = l.asyncLoad(async function rejectsInFlight(n: number) {
      void Promise.reject(Object.assign(new Error('rejected while in flight'), { code: 'E_STRAY', n }));
      await new Promise(() => undefined);
    });
    await expect(culprit.wait(7)).rejects.toMatchObject({
      message: 'rejected while in flight',
      code: 'E_STRAY',
      n: 7,
    });
    expect(await l.asyncLoad((n: number) => n * 2).wait(21)).toBe(42);
    expect(errors).toEqual([]);
  });
});
