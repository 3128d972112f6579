/** moduleTask(): functions that live in ES or CommonJS module files. */
import { afterAll, describe, expect, it } from 'vitest';
import { createLoader, moduleTask, UnsendableFunctionError } from '../src/index.js';
import { watchHostErrors } from './helpers.js';

const loader = createLoader({ threads: 1, pollInterval: 0 });
afterAll(() => loader.close());
watchHostErrors();

const esm = new URL('./fixtures/tasks.mjs', import.meta.url);
const cjs = new URL('./fixtures/tasks.cjs', import.meta.url);

describe('moduleTask', () => {
  it('runs the default export of an ES module, with its own imports', async () => {
    const digest = loader.asyncLoad(moduleTask<(text: string) => string>(esm));
    expect(await digest.wait('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('keeps module state between runs on a thread', async () => {
    const count = loader.asyncLoad(moduleTask<(n: number) => { calls: number }>(esm, 'count'));
    const first = await count.wait(1);
    const second = await count.wait(2);
    expect(second.calls).toBe(first.calls + 1);
  });

  it('runs named exports of a CommonJS module', async () => {
    const join = loader.asyncLoad(moduleTask<(a: string, b: string) => string>(cjs, 'join'));
    expect(await join.wait('/a', 'b')).toBe('/a/b');
    const count = loader.asyncLoad(moduleTask<(n: number) => { calls: number }>(cjs, 'count'));
    expect((await count.wait(1)).calls).toBe(1);
    expect((await count.wait(2)).calls).toBe(2);
  });

  it('fails clearly for a missing or non-function export', async () => {
    const missing = loader.asyncLoad(moduleTask(esm, 'nope'));
    await expect(missing.wait()).rejects.toBeInstanceOf(UnsendableFunctionError);
    await expect(missing.wait()).rejects.toThrow(/no exported function `nope`/);
    const notFn = loader.asyncLoad(moduleTask(esm, 'notAFunction'));
    await expect(notFn.wait()).rejects.toThrow(/no exported function `notAFunction`/);
  });

  it('is part of the entry identity: module URL and export name', async () => {
    const a = loader.asyncLoad(moduleTask(cjs, 'count'));
    const b = loader.asyncLoad(moduleTask(esm, 'count'));
    const [ra, rb] = await Promise.all([a.wait(99), b.wait(99)]);
    expect(ra).not.toBe(rb);
  });
});
