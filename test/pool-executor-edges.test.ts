/**
 * The pool executor's own bookkeeping, driven directly (no loader in front of it): what a run's
 * handle answers while queued, cancelling a handle twice, a refresh held back and then
 * cancelled, a batched run cancelled after it ended, the source of an inline function sent once
 * per thread, and exits of threads reported with their own exit code. Real threads.
 */
import { Piscina } from 'piscina';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Outcome } from '../src/executor.js';
import { LoaderClosedError, WorkerCrashedError } from '../src/index.js';
import { resolveLoaderOptions } from '../src/options.js';
import { PoolExecutor, type PoolSettings } from '../src/pool-executor.js';
import { HOLD, nextTurn, ref, release, submitRun as submit, watchHostErrors } from './helpers.js';
import { gc } from './support/gc.js';

watchHostErrors();

const executors: PoolExecutor[] = [];
/** What reached onError of executors made without one of their own: nothing, in every test. */
const unexpected: Error[] = [];
afterEach(async () => {
  await Promise.all(executors.splice(0).map((e) => e.close()));
  vi.restoreAllMocks();
  expect(unexpected.splice(0)).toEqual([]);
});

function executor(options: Record<string, unknown> = {}, extra: Partial<PoolSettings> = {}): PoolExecutor {
  const settings = resolveLoaderOptions({
    threads: 1,
    onError: (error: Error) => unexpected.push(error),
    ...options,
  });
  const e = new PoolExecutor({ ...settings, ...extra });
  executors.push(e);
  return e;
}

/** Adds one to the first int of `ran`; returns `n`. */
const COUNT = '(n, ran) => { Atomics.add(new Int32Array(ran), 0, 1); return n; }';
/** Takes 60 ms of the thread's time; returns `n`. */
const SLOW_60 = '(n) => { const end = Date.now() + 60; while (Date.now() < end); return n; }';

interface SentRun {
  fn: { source?: string };
  args: unknown[];
}
/** Every task handed to Piscina from now on: its runs as sent, and whether it went as a batch. */
function recordTasks(): { runs: SentRun[]; batch: boolean }[] {
  const tasks: { runs: SentRun[]; batch: boolean }[] = [];
  const run = Piscina.prototype.run;
  vi.spyOn(Piscina.prototype, 'run').mockImplementation(function (this: Piscina, task: unknown, ...rest) {
    const { batch } = task as { batch?: SentRun[] };
    tasks.push(batch ? { runs: batch, batch: true } : { runs: [task as SentRun], batch: false });
    return run.call(this, task, ...rest);
  });
  return tasks;
}

/** Waits (yielding to the event loop) until `check` holds. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await nextTurn();
}

describe("a run's handle", () => {
  it('answers startedAt() with undefined while its run waits in the queue, a number once it runs', async () => {
    const e = executor();
    const hold = new SharedArrayBuffer(4);
    const first = submit(e, { args: [0, hold] });
    // One thread takes four tasks; the rest wait in the executor's own queue, with no slot yet.
    const queued = Array.from({ length: 6 }, (_, i) => submit(e, { args: [i + 1] }));
    await until(() => first.handle.startedAt() !== undefined);
    for (const run of queued) expect(run.handle.startedAt()).toBeUndefined();
    release(hold);
    const outcomes = await Promise.all(queued.map((run) => run.outcome));
    expect(outcomes.map((o) => (o.ok ? o.value : o.error))).toEqual([1, 2, 3, 4, 5, 6]);
    for (const run of queued) expect(run.handle.startedAt()).toBeUndefined();
  });

  it('cancelled again after it settled, leaves the run that took its start slot alone', async () => {
    const e = executor();
    const settled = submit(e, { args: [1] });
    expect(await settled.outcome).toMatchObject({ ok: true, value: 1 });
    // Handed over at once (the thread is idle) with a start time ahead: it holds the slot the
    // settled run gave back, not yet started.
    const later = submit(e, { args: [2], notBefore: Date.now() + 300 });
    settled.handle.cancel(new Error('too late'));
    expect(await settled.outcome).toMatchObject({ ok: true, value: 1 });
    expect(await later.outcome).toMatchObject({ ok: true, value: 2 });
  });

  it('held back for its start time and then cancelled, is let go at once (nothing keeps its arguments)', async () => {
    const e = executor();
    const hold = new SharedArrayBuffer(4);
    const busy = submit(e, { args: [0, hold] });
    await until(() => busy.handle.startedAt() !== undefined);
    const cancel = async (): Promise<WeakRef<object>> => {
      const big = { payload: 'x'.repeat(1000) };
      // The only thread is busy: a refresh due in a day waits in the executor, not on a thread.
      const deferred = submit(e, { args: [big], notBefore: Date.now() + 86_400_000 });
      deferred.handle.cancel(new Error('cleared'));
      const outcome = await deferred.outcome;
      expect(outcome).toMatchObject({ ok: false, error: { message: 'cleared' }, startedAt: undefined });
      return new WeakRef(big);
    };
    const ref = await cancel();
    await nextTurn();
    gc();
    expect(ref.deref()).toBeUndefined();
    release(hold);
    expect(await busy.outcome).toMatchObject({ ok: true, value: 0 });
  });
});

describe('the order of runs', () => {
  it('runs handed over while the thread is busy start in the order they were submitted (five rounds)', async () => {
    const e = executor();
    for (let round = 0; round < 5; round++) {
      const hold = new SharedArrayBuffer(4);
      const busy = submit(e, { args: [-1, hold] });
      await until(() => busy.handle.startedAt() !== undefined);
      // Handed to Piscina at once (the thread takes four tasks), to wait behind the busy run.
      const waiting = [0, 1, 2].map((n) => submit(e, { args: [n] }, `${HOLD} /* ${n} */`));
      release(hold);
      const outcomes = await Promise.all(waiting.map((run) => run.outcome));
      const starts = outcomes.map((o) => o.startedAt!);
      expect(starts).toEqual([...starts].sort((x, y) => x - y));
      expect(await busy.outcome).toMatchObject({ ok: true });
    }
  });
});

describe('a batched run cancelled after it ended on its thread', () => {
  it('settles with the reason and its start time; the run after it in the batch goes on', async () => {
    // Quick runs of a function go in batches once every thread is busy. The threshold is raised
    // far past any run here, so that a loaded machine or instrumented code (mutation runs), where
    // a thread's first run can take hundreds of ms, still counts them as quick: with 50 ms, a
    // slow first run once left `a` and `b` in two tasks, and `b` could not start below.
    const e = executor({}, { quickMs: 60_000 });
    for (let i = 0; i < 4; i++) expect(await submit(e, { args: [i] }).outcome).toMatchObject({ ok: true });
    const blocker = new SharedArrayBuffer(4);
    const second = new SharedArrayBuffer(4);
    const busy = submit(e, { args: ['busy', blocker] }, `${HOLD} /* another function */`);
    await until(() => busy.handle.startedAt() !== undefined);
    // Three more tasks fill the thread's four; `a` and `b` then wait in the executor's queue and
    // go over together, as one batch, when the thread is next free.
    const fillers = [1, 2, 3].map((n) => submit(e, { args: [n] }));
    const tasks = recordTasks();
    const a = submit(e, { args: ['a'] });
    const b = submit(e, { args: ['b', second] });
    release(blocker);
    // Piscina hands the batch over as it reads the last filler's reply, before that reply's
    // promise settles. From here the event loop is held, so the reply `a` posts when it ends
    // cannot be read before the cancel: `a` has ended on its thread, `b` has started.
    await Promise.all(fillers.map((f) => f.outcome));
    expect(tasks.map((task) => task.runs.length)).toEqual([2]);
    const deadline = Date.now() + 10_000;
    while (b.handle.startedAt() === undefined && Date.now() < deadline);
    expect(b.handle.startedAt()).toBeTypeOf('number');
    expect(a.settled()).toBeUndefined();
    const reason = new Error('cleared');
    a.handle.cancel(reason);
    const outcome = a.settled();
    expect(outcome).toMatchObject({ ok: false, error: reason });
    expect(outcome?.startedAt).toBeTypeOf('number');
    release(second);
    expect(await b.outcome).toMatchObject({ ok: true, value: 'b' });
    expect(await busy.outcome).toMatchObject({ ok: true, value: 'busy' });
    expect((await Promise.all(fillers.map((f) => f.outcome))).map((o) => o.ok)).toEqual([true, true, true]);
  });
});

describe('the source of an inline function', () => {
  it('goes to a thread with its first run only', async () => {
    const tasks = recordTasks();
    const e = executor();
    for (let i = 0; i < 20; i++) expect(await submit(e, { args: [i] }).outcome).toMatchObject({ value: i });
    const sent = tasks.flatMap((task) => task.runs.map((t) => t.fn.source));
    expect(sent).toHaveLength(20);
    expect(sent.filter((source) => source !== undefined)).toEqual([HOLD]);
  });
});

describe('a closed executor', () => {
  it('refuses a run', async () => {
    const e = executor();
    await e.close();
    expect(() => submit(e, { args: [1] })).toThrow(LoaderClosedError);
  });
});

describe('threads exiting', () => {
  /** Both runs wait until both have started (so each is on its own thread), then return. */
  const MEET = `(sab, code) => {
    const count = new Int32Array(sab);
    Atomics.add(count, 0, 1);
    Atomics.notify(count, 0);
    for (let seen = Atomics.load(count, 0); seen < 2; seen = Atomics.load(count, 0))
      Atomics.wait(count, 0, seen, 10000);
    setTimeout(() => process.exit(code), 50);
    return code;
  }`;

  it('between runs: each thread reported with its own exit code (two digits)', async () => {
    const errors: Error[] = [];
    const e = executor({ threads: 2, onError: (error: Error) => errors.push(error) });
    const meet = new SharedArrayBuffer(4);
    const runs = [submit(e, { args: [meet, 17] }, MEET), submit(e, { args: [meet, 42] }, MEET)];
    expect((await Promise.all(runs.map((r) => r.outcome))).map((o) => o.ok)).toEqual([true, true]);
    await until(() => errors.length >= 2);
    expect(errors.every((error) => error instanceof WorkerCrashedError)).toBe(true);
    expect(errors.map((error) => (error as WorkerCrashedError).exitCode).sort()).toEqual([17, 42]);
    expect(errors[0]!.message).toBe(
      `A worker thread exited between runs (exit code ${(errors[0] as WorkerCrashedError).exitCode}); work a ` +
        'function left running after its run (a timer, a promise) may have called process.exit. The thread ' +
        'was replaced.',
    );
  });

  it('between runs while another thread has a run: reported all the same', async () => {
    const errors: Error[] = [];
    const e = executor({ threads: 2, onError: (error: Error) => errors.push(error) });
    const hold = new SharedArrayBuffer(4);
    const busy = submit(e, { args: [0, hold] });
    await until(() => busy.handle.startedAt() !== undefined);
    const leaves = submit(
      e,
      { args: [11] },
      '(code) => { setTimeout(() => process.exit(code), 20); return code; }',
    );
    expect(await leaves.outcome).toMatchObject({ ok: true, value: 11 });
    await until(() => errors.length > 0);
    expect((errors[0] as WorkerCrashedError).exitCode).toBe(11);
    release(hold);
    expect(await busy.outcome).toMatchObject({ ok: true, value: 0 });
    expect(errors).toHaveLength(1);
  });

  it('during a run: the run fails with the two-digit exit code, and onError hears nothing', async () => {
    const errors: Error[] = [];
    const e = executor({ onError: (error: Error) => errors.push(error) });
    const quits = submit(e, { args: [] }, '() => process.exit(42)');
    const outcome = await quits.outcome;
    expect(outcome.ok).toBe(false);
    expect((outcome as { error: unknown }).error).toBeInstanceOf(WorkerCrashedError);
    expect(((outcome as { error: unknown }).error as WorkerCrashedError).exitCode).toBe(42);
    expect(await submit(e, { args: [5] }).outcome).toMatchObject({ ok: true, value: 5 });
    expect(errors).toEqual([]);
  });

  it('stopped by close(): not reported', async () => {
    const errors: Error[] = [];
    const e = executor({ threads: 2, minThreads: 2, onError: (error: Error) => errors.push(error) });
    expect(await submit(e, { args: [1] }).outcome).toMatchObject({ ok: true, value: 1 });
    await e.close();
    // The threads' exit events come after close() resolved.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(errors).toEqual([]);
  });
});

describe('settling', () => {
  it('a run cancelled while running settles once, also when its thread has exited', async () => {
    const e = executor();
    const hold = new SharedArrayBuffer(4);
    let settles = 0;
    const handle = e.submit({ fn: ref(HOLD), args: [0, hold], encoded: false }, () => settles++);
    await until(() => handle.startedAt() !== undefined);
    handle.cancel(new Error('cleared'));
    expect(settles).toBe(1);
    // The next run goes to the thread that replaced the stopped one: by then Piscina has
    // failed the stopped run's task.
    expect(await submit(e, { args: [7] }).outcome).toMatchObject({ ok: true, value: 7 });
    expect(settles).toBe(1);
  });

  it("an exception thrown by whoever is told of a run's end goes to onError, not to the host", async () => {
    const errors: Error[] = [];
    const e = executor({ onError: (error: Error) => errors.push(error) });
    const thrown = new Error('bookkeeping failed');
    e.submit({ fn: ref(HOLD), args: [1], encoded: false }, () => {
      throw thrown;
    });
    expect(await submit(e, { args: [2] }).outcome).toMatchObject({ ok: true, value: 2 });
    expect(errors).toEqual([thrown]);
  });
});

describe('a run cancelled after it was handed to its thread, before it started', () => {
  it('never runs; the thread skips it quietly and takes the next', async () => {
    const e = executor();
    const ran = new SharedArrayBuffer(4);
    const hold = new SharedArrayBuffer(4);
    const busy = submit(e, { args: [0, hold] });
    await until(() => busy.handle.startedAt() !== undefined);
    // The thread takes four tasks: this one waits on it, behind the busy run.
    const skipped = submit(e, { args: [1, ran] }, COUNT);
    const next = submit(e, { args: [2, ran] }, COUNT);
    skipped.handle.cancel(new Error('cleared'));
    expect(skipped.settled()).toMatchObject({
      ok: false,
      error: { message: 'cleared' },
      startedAt: undefined,
    });
    release(hold);
    expect(await next.outcome).toMatchObject({ ok: true, value: 2 });
    expect(Atomics.load(new Int32Array(ran), 0)).toBe(1);
  });
});

describe('batches', () => {
  it('hold two to eight quick runs, never a slow one, never a run cancelled while it waited', async () => {
    const tasks = recordTasks();
    const e = executor({}, { quickMs: 50 });
    const ran = new SharedArrayBuffer(4);
    const SLOW = '(n) => { const end = Date.now() + 80; while (Date.now() < end); return n; }';
    for (let i = 0; i < 4; i++) await submit(e, { args: [i, new SharedArrayBuffer(4)] }, COUNT).outcome;
    for (let i = 0; i < 3; i++) await submit(e, { args: [i] }, SLOW).outcome;
    const hold = new SharedArrayBuffer(4);
    const busy = submit(e, { args: [0, hold] });
    await until(() => busy.handle.startedAt() !== undefined);
    // Three more tasks fill the thread's four; the rest wait in the executor's queue.
    const fillers = [1, 2, 3].map((n) => submit(e, { args: [`filler ${n}`, ran] }, COUNT));
    const quick = Array.from({ length: 10 }, (_, i) => submit(e, { args: [i, ran] }, COUNT));
    const slow = submit(e, { args: ['slow'] }, SLOW);
    const after = Array.from({ length: 10 }, (_, i) => submit(e, { args: [10 + i, ran] }, COUNT));
    quick[3]!.handle.cancel(new Error('cleared'));
    release(hold);
    const outcomes = await Promise.all([...fillers, ...quick, slow, ...after].map((r) => r.outcome));
    expect(outcomes.filter((o) => !o.ok)).toHaveLength(1);
    expect(Atomics.load(new Int32Array(ran), 0)).toBe(3 + 9 + 10);
    const sent = tasks.filter((task) => task.batch).map((task) => task.runs.map((t) => t.args[0]));
    expect(sent.length).toBeGreaterThan(0);
    for (const batch of sent) {
      expect(batch.length).toBeGreaterThanOrEqual(2);
      expect(batch.length).toBeLessThanOrEqual(8);
      expect(batch).not.toContain('slow');
      expect(batch).not.toContain(3);
    }
    expect(Math.max(...sent.map((batch) => batch.length))).toBe(8);
  });
});

describe('a batched run that blocks its thread', () => {
  it('the runs behind it in its batch are taken back and run on the other thread while it blocks', async () => {
    const tasks = recordTasks();
    const e = executor({ threads: 2 }, { quickMs: 50 });
    for (let i = 0; i < 4; i++) {
      expect(await submit(e, { args: [i] }).outcome).toMatchObject({ ok: true });
      expect(await submit(e, { args: [i, new SharedArrayBuffer(4)] }, COUNT).outcome).toMatchObject({
        ok: true,
      });
    }
    // Both threads busy, and Piscina holding as many tasks as the executor hands it (four a
    // thread): the next runs wait in the executor's queue and go over as one batch.
    const holds = [new SharedArrayBuffer(4), new SharedArrayBuffer(4)];
    const busy = holds.map((hold, i) => submit(e, { args: [`busy ${i}`, hold] }));
    await until(() => busy.every((b) => b.handle.startedAt() !== undefined));
    // The first filler takes 60 ms: the batch starts after several rounds of the stealer that
    // found nothing to take, which must go on while a batch is in flight.
    const fillers = [
      submit(e, { args: ['filler 0'] }, SLOW_60),
      ...Array.from({ length: 5 }, (_, i) => submit(e, { args: [`filler ${i + 1}`] })),
    ];
    const blocker = new SharedArrayBuffer(4);
    const blocks = submit(e, { args: ['blocks', blocker] });
    // Counted: a run taken back must run once, however many rounds pass while it waits.
    const ran = new SharedArrayBuffer(4);
    const behind = Array.from({ length: 7 }, (_, i) => submit(e, { args: [i, ran] }, COUNT));
    release(holds[0]!);
    // The batch starts on the first thread, whose run blocks it; the other thread is still busy.
    await until(() => blocks.handle.startedAt() !== undefined);
    const batch = tasks.find((task) => task.batch && task.runs[0]!.args[0] === 'blocks');
    expect(batch?.runs.map((run) => run.args[0])).toEqual(['blocks', 0, 1, 2, 3, 4, 5, 6]);
    // Taken back and handed over again: they wait for the other thread while the stealer's
    // rounds (every 10 ms) go on, which must not take them back a second time.
    await until(() => tasks.some((task) => task !== batch && task.runs.some((run) => run.args[1] === ran)));
    await new Promise((resolve) => setTimeout(resolve, 50));
    release(holds[1]!);
    const outcomes = await Promise.all(behind.map((run) => run.outcome));
    expect(outcomes.map((o) => (o.ok ? o.value : o.error))).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // All of them ran, once each, while the run in front of them still blocked its thread.
    expect(blocks.settled()).toBeUndefined();
    expect(Atomics.load(new Int32Array(ran), 0)).toBe(7);
    release(blocker);
    expect(await blocks.outcome).toMatchObject({ ok: true, value: 'blocks' });
    expect((await Promise.all([...busy, ...fillers].map((r) => r.outcome))).every((o) => o.ok)).toBe(true);
  });
});

describe("messages a function posts on the thread's port", () => {
  it('are not replies: ignored, whatever they hold; the runs go on and onError hears nothing', async () => {
    const e = executor({}, { quickMs: 50 });
    const POST = `(n) => {
      const { parentPort } = require('node:worker_threads');
      for (const message of [null, 7, 'text', { nonce: 'n' }, { nonce: 987654321 }, { nonce: -1, ok: true, value: 'forged' }])
        parentPort.postMessage(message);
      return n;
    }`;
    for (let round = 0; round < 3; round++) {
      const runs = Array.from({ length: 6 }, (_, i) => submit(e, { args: [round * 10 + i] }, POST));
      const outcomes = await Promise.all(runs.map((run) => run.outcome));
      expect(outcomes.map((o) => (o.ok ? o.value : o.error))).toEqual(
        [0, 1, 2, 3, 4, 5].map((i) => round * 10 + i),
      );
    }
    // The messages were read (Node delivers a thread's messages in order) before this run's reply.
    expect(await submit(e, { args: ['after'] }).outcome).toMatchObject({ ok: true, value: 'after' });
  });
});

describe('forget()', () => {
  it('lets go of the function: 20 inline functions of 1 MiB of source each leave under 10 MiB behind', async () => {
    const e = executor();
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 20; i++) {
      const fn = { kind: 'inline', source: `(n) => n + ${i} /* ${String(i).repeat(1 << 20)} */` } as const;
      const outcome = await new Promise<Outcome>((resolve) =>
        e.submit({ fn, args: [1], encoded: false }, resolve),
      );
      expect(outcome).toMatchObject({ ok: true, value: 1 + i });
      e.forget(fn);
    }
    gc();
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(10 * 2 ** 20);
  });
});
