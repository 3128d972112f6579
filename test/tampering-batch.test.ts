/**
 * Built-ins the pool's own code relies on for batches and big arguments are put back after
 * each run (workers/start-up.ts): a function that replaced them could otherwise forge other
 * runs' replies or reach another entry's argument in shared memory.
 */
import { expect, it } from 'vitest';
import { batchingLoaderFactory, watchHostErrors } from './helpers.js';

watchHostErrors();
const make = batchingLoaderFactory();

it('AsyncLocalStorage#run replaced by a function: later runs of other entries return their own values', async () => {
  const l = make({ threads: 1 });
  const victim = l.asyncLoad((x: number) => x * 3);
  const evil = l.asyncLoad(() => {
    const { AsyncLocalStorage } = require('node:async_hooks') as typeof import('node:async_hooks');
    const { parentPort } = require('node:worker_threads') as typeof import('node:worker_threads');

    const proto = AsyncLocalStorage.prototype as unknown as { run: (...a: any[]) => unknown };
    const original = proto.run;
    proto.run = function (this: unknown, store: { task?: { nonce?: number } }, ...rest: unknown[]) {
      const nonce = store?.task?.nonce;
      if (typeof nonce === 'number') {
        const forged = Object.assign(Object.create(null) as object, {
          ok: true,
          value: 'FORGED',
          startedAt: Date.now(),
          finishedAt: Date.now(),
          nonce,
        });
        parentPort!.postMessage(forged);
      }
      return original.call(this, store, ...rest);
    };
    return 'installed';
  });
  for (let i = 0; i < 5; i++) await victim.wait(-1 - i);
  expect(await evil.wait()).toBe('installed');
  const values = await Promise.all(Array.from({ length: 2000 }, (_, i) => victim.wait(i)));
  expect(values).toEqual(Array.from({ length: 2000 }, (_, i) => i * 3));
});

it("TypedArray#set replaced by a function: another entry's big argument keeps its bytes", async () => {
  const l = make({ threads: 1 });
  const victim = l.asyncLoad((a: Uint8Array) => `${a[0]},${a[a.length - 1]}`);
  const evil = l.asyncLoad(() => {
    const proto = Object.getPrototypeOf(Uint8Array.prototype) as { set: (...a: any[]) => void };
    const original = proto.set;
    proto.set = function (
      this: unknown,
      source: { buffer?: unknown; fill?: (v: number) => void },
      ...rest: unknown[]
    ) {
      if (source?.buffer instanceof SharedArrayBuffer) source.fill!(66);
      return original.call(this, source, ...rest);
    };
    return 'patched';
  });
  const big = new Uint8Array(70_000).fill(1);
  expect(await victim.wait(big)).toBe('1,1');
  expect(await evil.wait()).toBe('patched');
  victim.refresh(big);
  expect(await victim.wait(big)).toBe('1,1');
  expect(victim.state(big).status).toBe('complete');
  victim.refresh(big);
  expect(await victim.wait(big)).toBe('1,1');
});
