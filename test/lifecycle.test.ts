/** Closing, disposing, exiting, and isolation between loaders. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createLoader, LoaderClosedError, type UpdateEvent } from '../src/index.js';
import { runCounter, watchHostErrors } from './helpers.js';

watchHostErrors();
const run = promisify(execFile);

describe('close()', () => {
  it('fails queued and running runs with LoaderClosedError, and can be called twice', async () => {
    const loader = createLoader({ threads: 1 });
    const forever = loader.asyncLoad((n: number) => new Promise(() => n));
    const outcomes = Promise.allSettled([forever.wait(1), forever.wait(2)]);
    await new Promise((r) => setTimeout(r, 100));
    expect(forever.state(1).status).toBe('running');
    await loader.close();
    await loader.close();
    const [running, queued] = await outcomes;
    expect(running).toMatchObject({ status: 'rejected', reason: expect.any(LoaderClosedError) });
    expect(queued).toMatchObject({ status: 'rejected', reason: { code: 'ERR_ASYNC_LOAD_CLOSED' } });
  });

  it('makes later calls throw the closed error', async () => {
    const loader = createLoader({ threads: 1 });
    const load = loader.asyncLoad((n: number) => n);
    await load.wait(1);
    await loader.close();
    expect(() => load(1)).toThrow(LoaderClosedError);
    await expect(load.wait(1)).rejects.toBeInstanceOf(LoaderClosedError);
    expect(() => loader.asyncLoad((n: number) => n)).toThrow(LoaderClosedError);
  });

  it('stops refresh timers: nothing runs after close', async () => {
    const runs = runCounter();
    const loader = createLoader({ threads: 1 });
    const load = loader.asyncLoad((file: string) => require('node:fs').appendFileSync(file, 'x'), {
      refreshEvery: 20,
    });
    await load.wait(runs.path);
    await loader.close();
    const count = runs.count();
    await new Promise((r) => setTimeout(r, 150));
    expect(runs.count()).toBe(count);
  });

  it('works with Symbol.asyncDispose (await using)', async () => {
    let captured: ReturnType<typeof createLoader> | undefined;
    {
      await using loader = createLoader({ threads: 1 });
      captured = loader;
      expect(await loader.asyncLoad((n: number) => n + 1).wait(1)).toBe(2);
    }
    expect(() => captured.asyncLoad((n: number) => n)).toThrow(LoaderClosedError);
  });
});

describe('process exit', () => {
  it('exits by itself when nothing is running, even with a refreshing entry and no close()', async () => {
    const script = fileURLToPath(new URL('./fixtures/exits-by-itself.ts', import.meta.url));
    const t0 = Date.now();
    const { stdout } = await run(process.execPath, ['--import', 'tsx', script], { timeout: 20_000 });
    expect(stdout.trim()).toBe('49');
    expect(Date.now() - t0).toBeLessThan(20_000);
  });
});

describe('loaders are isolated', () => {
  it('share no entries, keys, threads or subscribers', async () => {
    const runs = runCounter();
    const one = createLoader({ threads: 1, pollInterval: 0 });
    const two = createLoader({ threads: 1, pollInterval: 0 });
    try {
      const body = (file: string): number => {
        require('node:fs').appendFileSync(file, 'x');
        return require('node:worker_threads').threadId as number;
      };
      const heardByOne: UpdateEvent[] = [];
      const heardByTwo: UpdateEvent[] = [];
      one.subscribe((e) => heardByOne.push(...e));
      two.subscribe((e) => heardByTwo.push(...e));
      const a = one.asyncLoad(body, { key: 'k' });
      const b = two.asyncLoad(body, { key: 'k' });
      const threadA = await a.wait(runs.path);
      expect(b(runs.path)).toBeUndefined();
      const threadB = await b.wait(runs.path);
      expect(runs.count()).toBe(2);
      expect(threadA).not.toBe(threadB);
      await new Promise((r) => setTimeout(r, 20));
      expect(heardByOne).toHaveLength(1);
      expect(heardByTwo).toHaveLength(1);
      await two.close();
      expect(one.get('k')).toBe(threadA);
      expect(a(runs.path)).toBe(threadA);
    } finally {
      await one.close();
      await two.close();
    }
  });
});
