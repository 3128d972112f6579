/**
 * Faults and bad input: whatever a function does on its thread, the host keeps running, the
 * caller gets a typed error, the pool heals, and a later call on the same loader works. Every
 * test also fails if anything reached the host as an unhandled rejection or uncaught exception.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  CancelledError,
  createLoader,
  LoaderClosedError,
  QueueFullError,
  TimeoutError,
  UnsendableFunctionError,
  UnsendableValueError,
  WorkerCrashedError,
  type Loader,
} from '../src/index.js';
import { loaderFactory, watchHostErrors } from './helpers.js';
import { gc } from './support/gc.js';

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

watchHostErrors();

const loader = loaderFactory();

/** A later call on the same loader still works. */
async function stillWorks(l: Loader): Promise<void> {
  const probe = l.asyncLoad((n: number) => n + 1);
  expect(await probe.wait(Math.random())).toBeGreaterThan(1);
}

const threadIdOf = (_tag: number): number => require('node:worker_threads').threadId as number;

describe('faults on the thread', () => {
  it('process.exit(3): WorkerCrashedError with the exit code; other runs finish; the pool is back to its size', async () => {
    const l = loader();
    const slow = l.asyncLoad((ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end);
      return 'survived';
    });
    const exits = l.asyncLoad((code: number) => {
      const end = Date.now() + 50;
      while (Date.now() < end);
      process.exit(code);
    });
    const other = slow.wait(300);
    const error = await exits.wait(3).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(error).toMatchObject({ code: 'ERR_ASYNC_LOAD_WORKER_CRASHED', exitCode: 3 });
    expect(await other).toBe('survived');
    // Two runs at once land on two different threads: the pool has its two threads again.
    const who = l.asyncLoad((_tag: number) => {
      const end = Date.now() + 100;
      while (Date.now() < end);
      return require('node:worker_threads').threadId as number;
    });
    const [a, b] = await Promise.all([who.wait(1), who.wait(2)]);
    expect(a).not.toBe(b);
    await stillWorks(l);
  });

  it('a stray throw from a timer after the run returned goes to onError, never to the host', async () => {
    const errors: Error[] = [];
    const l = loader({ onError: (e) => errors.push(e) });
    const stray = l.asyncLoad(() => {
      setTimeout(() => {
        throw new Error('stray timer error');
      }, 10);
      return 'returned';
    });
    expect(await stray.wait()).toBe('returned');
    await expect.poll(() => errors.length, { timeout: 5000 }).toBeGreaterThan(0);
    expect(errors[0]).toBeInstanceOf(WorkerCrashedError);
    expect(String((errors[0] as Error).cause)).toContain('stray timer error');
    await stillWorks(l);
  });

  it('an endless loop with timeout 200 fails with TimeoutError within timeout + 250 ms, and the thread is replaced', async () => {
    const l = loader({ threads: 1 });
    const before = await l.asyncLoad(threadIdOf).wait(1);
    const endless = l.asyncLoad(
      () => {
        for (;;);
      },
      { timeout: 200 },
    );
    const t0 = performance.now();
    await expect(endless.wait()).rejects.toBeInstanceOf(TimeoutError);
    expect(performance.now() - t0).toBeLessThan(450);
    expect(await l.asyncLoad(threadIdOf).wait(2)).not.toBe(before);
  });

  it('running out of memory under resourceLimits: WorkerCrashedError naming memory; host unaffected', async () => {
    const l = loader({
      threads: 1,
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
    });
    const hog = l.asyncLoad(() => {
      const keep: number[][] = [];
      for (;;) keep.push(new Array(100_000).fill(1));
    });
    const error = await hog.wait().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect((error as Error).message).toMatch(/memory/);
    await stillWorks(l);
  });

  it('a promise that never settles is ended by clear() and by close()', async () => {
    const l = createLoader({ threads: 1, pollInterval: 0 });
    const forever = l.asyncLoad((n: number) => new Promise(() => n));
    const first = forever.wait(1).catch((e: unknown) => e);
    await expect.poll(() => forever.state(1).startedAt, { timeout: 5000 }).toBeDefined();
    forever.clear(1);
    expect(await first).toBeInstanceOf(CancelledError);
    // The thread was freed: another run gets it.
    await stillWorks(l);
    const second = forever.wait(2).catch((e: unknown) => e);
    await expect.poll(() => forever.state(2).startedAt, { timeout: 5000 }).toBeDefined();
    await l.close();
    expect(await second).toBeInstanceOf(LoaderClosedError);
  });
});

describe('values and functions that cannot work', () => {
  const l = loader();

  it('arguments: function, symbol, WeakMap, class instance, 100,000 levels deep: a clear error, no stack overflow', () => {
    const echo = l.asyncLoad((v: unknown) => v);
    class Account {
      balance = 1;
    }
    let deep: unknown = 0;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    for (const [value, message] of [
      [{ cb: () => 1 }, 'args[0].cb is a function'],
      [[Symbol('x')], 'args[0][0] is a symbol'],
      [new WeakMap(), 'args[0] is a WeakMap'],
      [{ owner: new Account() }, 'args[0].owner is an instance of Account'],
      [deep, 'nested more than 1000 levels deep'],
    ] as const) {
      expect(() => echo(value)).toThrow(UnsendableValueError);
      expect(() => echo(value)).toThrow(message);
    }
  });

  it('a cyclic argument is fine', async () => {
    const cyc: Record<string, unknown> = { n: 1 };
    cyc.me = cyc;
    const count = l.asyncLoad((v: Record<string, unknown>) => Object.keys(v).length);
    expect(await count.wait(cyc)).toBe(2);
  });

  it('a result that cannot be carried fails the run with the path', async () => {
    const bad = l.asyncLoad(() => ({ ok: 1, handle: new WeakMap() }));
    await expect(bad.wait()).rejects.toMatchObject({
      code: 'ERR_ASYNC_LOAD_UNSENDABLE_VALUE',
      path: 'result.handle',
    });
  });

  it('closures, `this`, getters, overridden toString and unparseable source are refused or explained', async () => {
    const outer = 2;
    await expect(l.asyncLoad((n: number) => n * outer).wait(1)).rejects.toThrow(
      /uses `outer` from the scope/,
    );
    await expect(
      l
        .asyncLoad(function (this: { k: number }) {
          return this.k;
        })
        .wait(),
    ).rejects.toThrow(/`this.k`/);
    const getter = Object.getOwnPropertyDescriptor(
      {
        get v() {
          return 1;
        },
      },
      'v',
    )!.get!;
    expect(() => l.asyncLoad(getter)).toThrow(UnsendableFunctionError);
    const sneaky = (n: number): number => n + 1;
    sneaky.toString = () => '() => process.exit(1)';
    expect(await l.asyncLoad(sneaky).wait(1)).toBe(2);
    const method = {
      twice(n: number) {
        return n * 2;
      },
    };
    expect(await l.asyncLoad(method.twice).wait(4)).toBe(8);
    const computed = {
      ['x' + 'y'](n: number) {
        return n;
      },
    };
    expect(() => l.asyncLoad(computed.xy!)).toThrow(/does not parse/);
  });
});

describe('load', () => {
  it('a full queue: the call that does not fit throws QueueFullError, nothing queued is lost', async () => {
    const l = loader({ threads: 1, maxQueue: 2 });
    const slow = l.asyncLoad((n: number) => {
      const end = Date.now() + 100;
      while (Date.now() < end);
      return n;
    });
    const accepted = [slow.wait(1), slow.wait(2), slow.wait(3)];
    expect(() => slow(4)).toThrow(QueueFullError);
    expect(slow.state(4).status).toBe('idle');
    expect(await Promise.all(accepted)).toEqual([1, 2, 3]);
    expect(await slow.wait(4)).toBe(4);
  });

  // 2,000 in mutation runs (npm run mutate), where instrumented code takes several times longer.
  const ENTRIES = process.env.ASYNC_LOAD_MUTATION_RUN === '1' ? 2_000 : 10_000;
  it(`${ENTRIES} distinct entries in flight at once each complete with their own value`, async () => {
    const l = loader({ maxEntries: 20_000 });
    const square = l.asyncLoad((n: number) => n * n);
    const baseline = heapAfterGc();
    const values = await Promise.all(Array.from({ length: ENTRIES }, (_, i) => square.wait(i)));
    expect(values.every((v, i) => v === i * i)).toBe(true);
    expect(l.size).toBe(ENTRIES);
    square.clear();
    expect(l.size).toBe(0);
    expect(square.state(5).status).toBe('idle');
    // Within 1 MiB of where it was: the 10,000 entries held several MiB.
    expect(heapAfterGc() - baseline).toBeLessThan(1024 * 1024);
  });
});

describe('close() in the middle of everything', () => {
  it('rejects every pending wait() with the closed error and fires no timer afterwards', async () => {
    const l = createLoader({ threads: 2, pollInterval: 50 });
    const heard: unknown[] = [];
    l.subscribe((e) => heard.push(...e));
    const work = l.asyncLoad(
      (n: number) => {
        const end = Date.now() + 30;
        while (Date.now() < end);
        return n;
      },
      { refreshEvery: 20, timeout: 5000 },
    );
    const pending = Array.from({ length: 50 }, (_, i) => work.wait(i).catch((e: unknown) => e));
    await new Promise((r) => setTimeout(r, 120));
    await l.close();
    const outcomes = await Promise.all(pending);
    expect(outcomes.filter((o) => o instanceof LoaderClosedError).length).toBeGreaterThan(0);
    expect(outcomes.every((o) => typeof o === 'number' || o instanceof LoaderClosedError)).toBe(true);
    const heardAtClose = heard.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(heard.length).toBe(heardAtClose);
  });

  it('lets the process exit within a second of close()', async () => {
    const script = fileURLToPath(new URL('./fixtures/close-mid-load.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], {
      timeout: 20_000,
    });
    const report = JSON.parse(stdout) as {
      closedAfterMs: number;
      exitAfterCloseMs: number;
      rejected: number;
    };
    expect(report.rejected).toBeGreaterThan(0);
    expect(report.exitAfterCloseMs).toBeLessThan(1000);
  });
});

describe('security', () => {
  const l = loader();

  it('arguments are data: a string that looks like code stays a string', async () => {
    const echo = l.asyncLoad((s: string) => typeof s + ':' + s);
    expect(await echo.wait('process.exit(1)')).toBe('string:process.exit(1)');
  });

  it('__proto__, constructor and prototype keys pollute nothing, here or on the thread', async () => {
    const payload = JSON.parse(
      '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}',
    ) as object;
    const probe = l.asyncLoad((p: Record<string, unknown>) => {
      const copy = { ...p, inner: JSON.parse('{"__proto__": {"pollutedInWorker": true}}') as unknown };
      return {
        copy,
        worker:
          ({} as Record<string, unknown>).polluted ??
          ({} as Record<string, unknown>).pollutedInWorker ??
          'clean',
      };
    });
    const result = await probe.wait(payload as Record<string, unknown>);
    expect(result.worker).toBe('clean');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).pollutedInWorker).toBeUndefined();
  });

  it('a string in place of a function is refused', () => {
    expect(() => l.asyncLoad('n => n' as never)).toThrow(UnsendableFunctionError);
  });
});
