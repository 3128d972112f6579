/** Calls, sharing and identity, with real worker threads. */
import { afterAll, describe, expect, it } from 'vitest';
import { createLoader, UnsendableFunctionError, UnsendableValueError } from '../src/index.js';
import { setHashForTesting } from '../src/hash.js';
import { nextTurn, runCounter, watchHostErrors } from './helpers.js';

const loader = createLoader({ threads: 2, pollInterval: 0 });
afterAll(() => loader.close());
watchHostErrors();

describe('a first call', () => {
  it('returns undefined at once, leaves the event loop free, and starts exactly one run', async () => {
    const runs = runCounter();
    const slow = loader.asyncLoad((file: string, ms: number) => {
      require('node:fs').appendFileSync(file, 'x');
      const end = Date.now() + ms;
      while (Date.now() < end);
      return 'done';
    });
    const t0 = performance.now();
    expect(slow(runs.path, 300)).toBeUndefined();
    const callTime = performance.now() - t0;
    // The event loop keeps turning while the thread is busy.
    let turns = 0;
    const waiting = slow.wait(runs.path, 300);
    let settled = false;
    void waiting.finally(() => (settled = true));
    while (!settled) {
      await nextTurn();
      turns++;
    }
    expect(callTime).toBeLessThan(100);
    expect(turns).toBeGreaterThan(10);
    expect(await waiting).toBe('done');
    expect(runs.count()).toBe(1);
  });

  it('shares one run between 1,000 calls while it is in flight', async () => {
    const runs = runCounter();
    const load = loader.asyncLoad((file: string) => {
      require('node:fs').appendFileSync(file, 'x');
      return 1;
    });
    for (let i = 0; i < 1000; i++) load(runs.path);
    const waits = Array.from({ length: 10 }, () => load.wait(runs.path));
    expect(await Promise.all(waits)).toEqual(Array(10).fill(1));
    expect(load(runs.path)).toBe(1);
    expect(runs.count()).toBe(1);
  });
});

describe('a settled run', () => {
  it('is returned by calls and wait(), with status complete', async () => {
    const double = loader.asyncLoad((n: number) => n * 2);
    expect(double(21)).toBeUndefined();
    expect(double.state(21).status).toBe('running');
    expect(await double.wait(21)).toBe(42);
    expect(double(21)).toBe(42);
    expect(double.state(21)).toMatchObject({ status: 'complete', value: 42, error: undefined, runs: 1 });
    const { startedAt, finishedAt } = double.state(21);
    expect(finishedAt! >= startedAt!).toBe(true);
  });

  it('can really be undefined, and state() tells that from still running', async () => {
    const nothing = loader.asyncLoad((_n: number) => undefined);
    expect(nothing(1)).toBeUndefined();
    expect(nothing.state(1).status).toBe('running');
    await nothing.wait(1);
    expect(nothing(1)).toBeUndefined();
    expect(nothing.state(1)).toMatchObject({ status: 'complete', runs: 1 });
  });

  it('state() never starts a run', async () => {
    const runs = runCounter();
    const load = loader.asyncLoad((file: string) => require('node:fs').appendFileSync(file, 'x'));
    expect(load.state(runs.path)).toEqual({ status: 'idle', value: undefined, error: undefined, runs: 0 });
    await nextTurn();
    expect(runs.count()).toBe(0);
  });
});

describe('entry identity', () => {
  it('ignores object key order and keeps types apart', async () => {
    const runs = runCounter();
    const echo = loader.asyncLoad((file: string, v: unknown) => {
      require('node:fs').appendFileSync(file, 'x');
      return v;
    });
    await echo.wait(runs.path, { a: 1, b: 2 });
    expect(echo(runs.path, { b: 2, a: 1 })).toEqual({ a: 1, b: 2 });
    expect(runs.count()).toBe(1);
    expect(await echo.wait(runs.path, 1)).toBe(1);
    expect(await echo.wait(runs.path, '1')).toBe('1');
    const date = new Date(0);
    expect(await echo.wait(runs.path, date)).toEqual(date);
    expect(await echo.wait(runs.path, date.toISOString())).toBe(date.toISOString());
    expect(await echo.wait(runs.path, new Map([['a', 1]]))).toBeInstanceOf(Map);
    expect(await echo.wait(runs.path, { a: 1 })).toEqual({ a: 1 });
    expect(runs.count()).toBe(7);
  });

  it('never shares an entry between two different functions with the same arguments', async () => {
    const first = loader.asyncLoad(() => 'first');
    const second = loader.asyncLoad(() => 'second');
    expect(await first.wait()).toBe('first');
    expect(await second.wait()).toBe('second');
    expect(first()).toBe('first');
  });

  it('verifies hash matches: with every hash colliding, each entry still gets its own value', async () => {
    setHashForTesting(() => 'collide');
    try {
      const sum = loader.asyncLoad((a: Uint8Array) => a.reduce((s, x) => s + x, 0));
      const values = await Promise.all([1, 2, 3, 4].map((n) => sum.wait(new Uint8Array([n, n]))));
      expect(values).toEqual([2, 4, 6, 8]);
      expect(sum(new Uint8Array([3, 3]))).toBe(6);
      sum.clear(new Uint8Array([2, 2]));
      expect(sum(new Uint8Array([4, 4]))).toBe(8);
      expect(sum(new Uint8Array([1, 1]))).toBe(2);
    } finally {
      setHashForTesting();
    }
  });
});

describe('key', () => {
  it('separates entries and names the latest value in loader.get()', async () => {
    const runs = runCounter();
    const body = (file: string, n: number): number => {
      require('node:fs').appendFileSync(file, 'x');
      return n * 10;
    };
    const a = loader.asyncLoad(body, { key: 'a' });
    const b = loader.asyncLoad(body, { key: 'b' });
    expect(await a.wait(runs.path, 1)).toBe(10);
    expect(await b.wait(runs.path, 1)).toBe(10);
    expect(runs.count()).toBe(2);
    expect(loader.get('a')).toBe(10);
    await a.wait(runs.path, 2);
    expect(loader.get('a')).toBe(20);
    expect(loader.get('b')).toBe(10);
    expect(loader.get('none')).toBeUndefined();
  });
});

describe('inline functions', () => {
  it('are compiled once per thread and reused', async () => {
    const single = createLoader({ threads: 1 });
    try {
      const counted = single.asyncLoad(function compiledOnce(_n: number): number {
        const self = compiledOnce as unknown as { calls?: number };
        self.calls = (self.calls ?? 0) + 1;
        return self.calls;
      });
      expect(await counted.wait(1)).toBe(1);
      expect(await counted.wait(2)).toBe(2);
      expect(await counted.wait(3)).toBe(3);
    } finally {
      await single.close();
    }
  });

  it('may be async, use nested named functions (esbuild __name), and import modules', async () => {
    const load = loader.asyncLoad(async (name: string) => {
      function shout(s: string): string {
        return s.toUpperCase();
      }
      const { basename } = await import('node:path');
      const fs = await import('node:fs');
      return `${shout(basename(name))}:${typeof fs.readFileSync}`;
    });
    expect(load.toString()).toBeDefined();
    expect(await load.wait('/tmp/report.txt')).toBe('REPORT.TXT:function');
  });

  it('are refused at asyncLoad() time when they cannot be sent', () => {
    expect(() => loader.asyncLoad(Math.max)).toThrow(UnsendableFunctionError);
    expect(() => loader.asyncLoad((() => 1).bind(null))).toThrow(/bound function/);
    expect(() => loader.asyncLoad('() => 1' as never)).toThrow(UnsendableFunctionError);
    expect(() => loader.asyncLoad(class X {} as never)).toThrow(/class/);
  });

  it('fail with an error that names a variable captured from the outer scope', async () => {
    const rate = 0.2;
    const withTax = loader.asyncLoad((n: number) => n * (1 + rate));
    const error = await withTax.wait(100).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_ASYNC_LOAD_OUTER_SCOPE', variable: 'rate' });
    expect((error as Error).message).toContain('Pass `rate` as an argument');
    expect((error as Error).message).toContain('moduleTask()');
    expect((error as Error).cause).toBeInstanceOf(ReferenceError);
  });

  it('fail clearly when they use `this`', async () => {
    const usesThis = loader.asyncLoad(function (this: { rate: number }, n: number) {
      return n * this.rate;
    });
    await expect(usesThis.wait(1)).rejects.toThrow(/`this.rate`.*not carried/);
  });
});

describe('arguments that cannot be carried', () => {
  it('throw at call time naming the path, and start no run', async () => {
    const runs = runCounter();
    const load = loader.asyncLoad((file: string, _o: unknown) =>
      require('node:fs').appendFileSync(file, 'x'),
    );
    expect(() => load(runs.path, { onDone: () => 1 })).toThrow(UnsendableValueError);
    expect(() => load(runs.path, { onDone: () => 1 })).toThrow('args[1].onDone is a function');
    await expect(load.wait(runs.path, [Symbol('s')])).rejects.toThrow('args[1][0] is a symbol');
    expect(() => load(runs.path, new WeakMap())).toThrow('args[1] is a WeakMap');
    await nextTurn();
    expect(runs.count()).toBe(0);
  });
});
