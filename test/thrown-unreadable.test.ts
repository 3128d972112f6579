/**
 * A function that throws a value whose every read throws (a revoked Proxy, a Proxy whose traps
 * throw): its own run fails with a coded error, its thread goes on, and runs batched after it
 * in the same task are not touched. Real threads.
 */
import { threadId } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolveLoaderOptions } from '../src/options.js';
import { PoolExecutor } from '../src/pool-executor.js';
import {
  HOLD,
  loaderFactory,
  recordTasks,
  release,
  submitRun as submit,
  until,
  watchHostErrors,
} from './helpers.js';

watchHostErrors();
const makeLoader = loaderFactory();

/** Each throws a value that cannot be read: `instanceof` on it throws. */
const UNREADABLE = {
  'a revoked Proxy': `(n) => { const r = Proxy.revocable({}, {}); r.revoke(); throw r.proxy; }`,
  'a Proxy whose getPrototypeOf trap throws': `(n) => {
    throw new Proxy(new Error('inner'), { getPrototypeOf() { throw new Error('trap'); } });
  }`,
};

describe.each(Object.entries(UNREADABLE))('a function that throws %s', (_, source) => {
  it('fails its own run with an UnsendableValueError; its thread goes on', async () => {
    const loader = makeLoader({ threads: 1 });
    const thread = loader.asyncLoad(async () => (await import('node:worker_threads')).threadId);
    const thrower = loader.asyncLoad(new Function(`return ${source}`)() as (n: number) => never);
    const before = await thread.wait();
    expect(before).not.toBe(threadId);
    const error = await thrower.wait(1).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'ERR_ASYNC_LOAD_UNSENDABLE_VALUE' });
    thread.refresh();
    expect(await thread.wait()).toBe(before);
  });

  describe('first in a batch', () => {
    const executors: PoolExecutor[] = [];
    const errors: Error[] = [];
    afterEach(async () => {
      await Promise.all(executors.splice(0).map((e) => e.close()));
      vi.restoreAllMocks();
      expect(errors.splice(0)).toEqual([]);
    });

    it('leaves the runs after it in the batch to run and reply', async () => {
      const settings = resolveLoaderOptions({ threads: 1, onError: (error: Error) => errors.push(error) });
      // Quick runs go in batches once every thread is busy; the threshold is far past any run here.
      // And the runs behind the thrower stay in its batch however long it takes (instrumented,
      // on a loaded machine, it took more than the 10 ms after which they are taken back).
      const e = new PoolExecutor({ ...settings, quickMs: 60_000, stealMs: 60_000 });
      executors.push(e);
      // Both functions known as quick (three runs each).
      for (let i = 0; i < 3; i++) {
        expect(await submit(e, { args: [i] }).outcome).toMatchObject({ ok: true });
        expect(await submit(e, { args: [i] }, source).outcome).toMatchObject({ ok: false });
      }
      // The thread takes four tasks: a held run and three quick ones. The rest wait in the
      // executor's queue and go over as one batch once the held run ends.
      const hold = new SharedArrayBuffer(4);
      const busy = submit(e, { args: ['busy', hold] }, `${HOLD} /* another function */`);
      await until(() => busy.handle.startedAt() !== undefined);
      const fillers = [1, 2, 3].map((n) => submit(e, { args: [n] }));
      const tasks = recordTasks();
      const thrower = submit(e, { args: ['thrower'] }, source);
      const after = [4, 5, 6].map((n) => submit(e, { args: [n] }));
      release(hold);
      const outcomes = await Promise.all(after.map((run) => run.outcome));
      expect(tasks.map((task) => task.runs.length)).toEqual([4]);
      expect(outcomes).toMatchObject([
        { ok: true, value: 4 },
        { ok: true, value: 5 },
        { ok: true, value: 6 },
      ]);
      expect(await thrower.outcome).toMatchObject({
        ok: false,
        error: { code: 'ERR_ASYNC_LOAD_UNSENDABLE_VALUE' },
      });
      expect((await Promise.all(fillers.map((f) => f.outcome))).map((o) => o.ok)).toEqual([true, true, true]);
    });
  });
});

describe('a function whose thrown error, once read, changes Error.prototype so that reading any error throws', () => {
  it('fails its own run with an UnsendableValueError; runs queued behind it on its thread go on', async () => {
    const loader = makeLoader({ threads: 1 });
    const quick = loader.asyncLoad((n: number) => n * 2);
    const thrower = loader.asyncLoad(() => {
      const error = new Error('hostile');
      Object.defineProperty(error, 'cause', {
        get() {
          for (const k of ['name', 'cause'])
            Object.defineProperty(Error.prototype, k, {
              get() {
                throw new Error(`getter ${k}`);
              },
              configurable: true,
            });
          throw new Error('cause getter');
        },
      });
      throw error;
    });
    const before = Array.from({ length: 10 }, (_, i) => quick.wait(i));
    const thrown = thrower.wait().then(
      () => undefined,
      (e: unknown) => e,
    );
    const after = Array.from({ length: 10 }, (_, i) => quick.wait(100 + i));
    expect(await thrown).toMatchObject({ code: 'ERR_ASYNC_LOAD_UNSENDABLE_VALUE' });
    expect(await Promise.all([...before, ...after])).toEqual([
      ...Array.from({ length: 10 }, (_, i) => i * 2),
      ...Array.from({ length: 10 }, (_, i) => (100 + i) * 2),
    ]);
    // And errors read right again on that thread afterwards.
    const fails = loader.asyncLoad(() => {
      throw new RangeError('plain');
    });
    await expect(fails.wait()).rejects.toThrow(RangeError);
  });
});
