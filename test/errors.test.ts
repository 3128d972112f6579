/** What a failing run looks like to the caller, with real worker threads. */
import { afterAll, describe, expect, it } from 'vitest';
import { createLoader } from '../src/index.js';
import { watchHostErrors } from './helpers.js';

const loader = createLoader({ threads: 1, pollInterval: 0 });
afterAll(() => loader.close());
watchHostErrors();

describe('a run that throws', () => {
  it('makes calls throw its error, with name, message, worker stack, cause and own properties', async () => {
    const fails = loader.asyncLoad((month: string) => {
      const error = new RangeError(`no data for ${month}`, {
        cause: new TypeError('inner'),
      }) as RangeError & {
        code: string;
        details: { month: string };
      };
      error.code = 'E_NO_DATA';
      error.details = { month };
      throw error;
    });
    const error = (await fails.wait('2026-11').catch((e: unknown) => e)) as RangeError & {
      code: string;
      details: unknown;
    };
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe('no data for 2026-11');
    expect(error.code).toBe('E_NO_DATA');
    expect(error.details).toEqual({ month: '2026-11' });
    expect(error.cause).toBeInstanceOf(TypeError);
    expect(error.stack).toContain('async-load-inline-function');
    expect(() => fails('2026-11')).toThrow(error);
    expect(fails.state('2026-11')).toMatchObject({ status: 'error', error, runs: 1 });
  });

  it('rejects from async functions the same way', async () => {
    const rejects = loader.asyncLoad(async () => {
      await new Promise((r) => setTimeout(r, 1));
      throw new SyntaxError('bad input');
    });
    await expect(rejects.wait()).rejects.toBeInstanceOf(SyntaxError);
  });

  it('carries a thrown non-Error value as it was thrown', async () => {
    const throwsValue = loader.asyncLoad((v: unknown) => {
      throw v;
    });
    await expect(throwsValue.wait('plain text')).rejects.toBe('plain text');
    await expect(throwsValue.wait({ reason: 42 })).rejects.toEqual({ reason: 42 });
    await expect(throwsValue.wait(undefined)).rejects.toBeUndefined();
  });

  it('keeps the previous good value beside the error, until a later run succeeds', async () => {
    const flaky = loader.asyncLoad(() => {
      const g = globalThis as { flakyRuns?: number };
      g.flakyRuns = (g.flakyRuns ?? 0) + 1;
      if (g.flakyRuns === 2) throw new Error('second run fails');
      return g.flakyRuns;
    });
    expect(await flaky.wait()).toBe(1);
    flaky.refresh();
    await expect(flaky.wait()).rejects.toThrow('second run fails');
    expect(() => flaky()).toThrow('second run fails');
    expect(flaky.state()).toMatchObject({ status: 'error', value: 1, runs: 2 });
    flaky.refresh();
    // While the recovery runs, the last error is still what calls see.
    expect(flaky.state().status).toBe('running');
    expect(() => flaky()).toThrow('second run fails');
    expect(await flaky.wait()).toBe(3);
    expect(flaky()).toBe(3);
    expect(flaky.state()).toMatchObject({ status: 'complete', error: undefined, runs: 3 });
  });

  it('fails the run, naming the path, when the result cannot be carried', async () => {
    const badResult = loader.asyncLoad(() => ({ rows: [1, 2], render: () => 'x' }));
    await expect(badResult.wait()).rejects.toMatchObject({
      code: 'ERR_ASYNC_LOAD_UNSENDABLE_VALUE',
      path: 'result.render',
    });
  });
});
