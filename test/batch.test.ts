/**
 * Quick runs go several to a task when every thread is busy (pool-executor.ts, #handOffBatch).
 * Each run still gets its own value, and a fault stays with its run: a thread that exits, or a
 * run that times out, in the middle of a batch fails only that run; the runs before it in the
 * batch keep their replies and the runs after it go to another thread.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CancelledError, TimeoutError, WorkerCrashedError } from '../src/index.js';
import { batchingLoaderFactory, watchHostErrors } from './helpers.js';

watchHostErrors();
const make = batchingLoaderFactory();
// Fewer under mutation testing, where every surviving mutant of the worker runs this file.
const RUNS = process.env.ASYNC_LOAD_MUTATION_RUN === '1' ? 1000 : 3000;

/** Runs handed to Piscina in batches during each test: the batch path must have been taken. */
let batched = 0;
/**
 * How many of them each test needs at least: fewer for a test whose thread breaks, none for one
 * whose batching is the machine's business or happens in another process.
 */
let minimum: number | undefined = RUNS / 4;
beforeEach(() => {
  batched = 0;
  minimum = RUNS / 4;
  const run = Piscina.prototype.run;
  vi.spyOn(Piscina.prototype, 'run').mockImplementation(function (
    this: Piscina,
    task: unknown,
    options?: object,
  ) {
    const batch = (task as { batch?: unknown[] } | null)?.batch;
    if (Array.isArray(batch)) batched += batch.length;
    return run.call(this, task, options) as Promise<unknown>;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  if (minimum !== undefined) expect(batched, 'runs that went in batches').toBeGreaterThan(minimum);
});

/** Runs the function a few times on its own first, so the executor knows it is quick. */
async function warm(load: { wait: (n: number) => Promise<unknown> }): Promise<void> {
  for (let i = 0; i < 5; i++) await load.wait(-1 - i).catch(() => undefined);
}

describe('batched runs', () => {
  it('thousands of quick runs at once: each gets the value of its own arguments', async () => {
    const l = make({ threads: 2 });
    const add = l.asyncLoad((n: number) => ({ n, plus: n + 1 }));
    await warm(add);
    const values = await Promise.all(Array.from({ length: RUNS }, (_, i) => add.wait(i)));
    values.forEach((v, i) => expect(v).toEqual({ n: i, plus: i + 1 }));
  });

  it('a thread exiting in the middle: only that run fails; every other run completes with its value', async () => {
    const errors: Error[] = [];
    const l = make({ threads: 2, onError: (e) => errors.push(e) });
    const risky = l.asyncLoad((n: number) => {
      if (n % 500 === 250) process.exit(9);
      return n * 2;
    });
    await warm(risky);
    const outcomes = await Promise.all(
      Array.from({ length: RUNS }, (_, i) =>
        risky.wait(i).then(
          (value) => ({ ok: true as const, value }),
          (error: unknown) => ({ ok: false as const, error }),
        ),
      ),
    );
    outcomes.forEach((o, i) => {
      if (i % 500 === 250) {
        expect(o.ok, `run ${i}`).toBe(false);
        expect((o as { error: unknown }).error).toBeInstanceOf(WorkerCrashedError);
      } else expect(o, `run ${i}`).toEqual({ ok: true, value: i * 2 });
    });
    // Each exit belongs to its run, which heard of it: nothing for onError.
    expect(errors).toEqual([]);
  });

  it('a run timing out in the middle: only that run fails with TimeoutError', async () => {
    const l = make({ threads: 2 });
    const slow = l.asyncLoad(
      (n: number) => {
        if (n === 734) for (;;);
        return n + 1;
      },
      { timeout: 1000 },
    );
    await warm(slow);
    const outcomes = await Promise.all(
      Array.from({ length: RUNS }, (_, i) =>
        slow.wait(i).then(
          (value) => ({ ok: true as const, value }),
          (error: unknown) => ({ ok: false as const, error }),
        ),
      ),
    );
    outcomes.forEach((o, i) => {
      if (i === 734) expect((o as { error: unknown }).error).toBeInstanceOf(TimeoutError);
      else expect(o, `run ${i}`).toEqual({ ok: true, value: i + 1 });
    });
  });

  it('runs cleared while queued fail with CancelledError; the rest complete', async () => {
    const l = make({ threads: 2 });
    const add = l.asyncLoad((n: number) => n + 1);
    await warm(add);
    const waits = Array.from({ length: RUNS }, (_, i) =>
      add.wait(i).then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      ),
    );
    for (let i = RUNS - 1; i >= RUNS - 500; i--) add.clear(i);
    const outcomes = await Promise.all(waits);
    outcomes.forEach((o, i) => {
      if (o.ok) expect(o.value, `run ${i}`).toBe(i + 1);
      else expect(o.error, `run ${i}`).toBeInstanceOf(CancelledError);
    });
    // The last ones were still in the queue when cleared.
    expect(outcomes[RUNS - 1]!.ok).toBe(false);
  });
});

describe('a script that only waits', () => {
  it('does not exit before the replies of its batched runs are read', () => {
    // The built package, as a user's script runs it (npm test builds first). Exit code 13 is
    // Node's "unsettled top-level await": the process ran out of things holding it open.
    const index = fileURLToPath(new URL('../dist/src/index.js', import.meta.url));
    const script = `
      import { createLoader } from ${JSON.stringify(index)};
      const loader = createLoader({ threads: 2 });
      const add = loader.asyncLoad((n) => n + 1);
      for (let i = 0; i < 5; i++) await add.wait(-1 - i);
      let total = 0;
      for (let round = 0; round < 8; round++) {
        const values = await Promise.all(Array.from({ length: 3000 }, (_, i) => add.wait(round * 3000 + i)));
        total += values.length;
        add.clear();
      }
      console.log(total);
      await loader.close();
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    expect(child.stdout.trim()).toBe('24000');
    minimum = undefined; // this test runs its own process; the spy above does not see it
  });
});

describe('a function that breaks its thread', () => {
  it("closing the thread's reply port, in a batch or a run before it: no run waits for ever or gets another's value", async () => {
    const l = make({ threads: 2, onError: () => undefined });
    const add = l.asyncLoad((n: number) => {
      if (n === 777)
        (require('node:worker_threads') as typeof import('node:worker_threads')).parentPort!.close();
      return n + 1;
    });
    await warm(add);
    const outcomes = await Promise.all(
      Array.from({ length: RUNS }, (_, i) =>
        add.wait(i).then(
          (value) => ({ ok: true as const, value }),
          (error: unknown) => ({ ok: false as const, error }),
        ),
      ),
    );
    // Like a forged reply (tampering-more.test.ts): the runs whose replies the broken port
    // swallowed go again or fail as crashed; none gets a wrong value, none is left pending.
    outcomes.forEach((o, i) => {
      if (o.ok) expect(o.value, `run ${i}`).toBe(i + 1);
      else expect(o.error, `run ${i}`).toBeInstanceOf(WorkerCrashedError);
    });
    expect(outcomes.filter((o) => !o.ok).length).toBeLessThan(RUNS / 10);
    expect(await add.wait(RUNS + 1)).toBe(RUNS + 2);
    // How many went in batches depends on how fast the threads are replaced (slow under
    // mutation testing's instrumentation); some must have.
    minimum = 0;
  });

  it('a run before the batch closed the port: the batched runs after it still get their values', async () => {
    const l = make({ threads: 1, onError: () => undefined });
    const innocent = l.asyncLoad((x: number) => x * 3);
    const breaker = l.asyncLoad(() => {
      (require('node:worker_threads') as typeof import('node:worker_threads')).parentPort!.close();
      return 'closed';
    });
    await warm(innocent);
    expect(await breaker.wait()).toBe('closed');
    const values = await Promise.all(Array.from({ length: RUNS }, (_, i) => innocent.wait(i)));
    expect(values).toEqual(Array.from({ length: RUNS }, (_, i) => i * 3));
    // Some went in batches on the broken thread (the rest, after it was replaced, need not).
    minimum = 0;
  });
});

describe('a quick function that is slow this once', () => {
  it('the runs behind it in its batch go to the other thread; a fresh call is not held up', async () => {
    const l = make({ threads: 2 });
    const innocent = l.asyncLoad((x: number) => x * 3);
    const quickThenHangs = l.asyncLoad((x: number) => (x === -1 ? new Promise<number>(() => undefined) : x));
    for (let i = 0; i < 5; i++) {
      await innocent.wait(-10 - i);
      await quickThenHangs.wait(i);
    }
    const before = Array.from({ length: 40 }, (_, i) => innocent.wait(i));
    void quickThenHangs.wait(-1).catch(() => undefined);
    const after = Array.from({ length: 40 }, (_, i) => innocent.wait(40 + i));
    expect(await Promise.all([...before, ...after])).toEqual(Array.from({ length: 80 }, (_, i) => i * 3));
    expect(await innocent.wait(1000)).toBe(3000);
    minimum = undefined; // whether this load batched is the machine's business; what matters is above
  });
});
