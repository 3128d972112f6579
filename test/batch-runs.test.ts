/**
 * What a thread does with a batch (workers/worker.ts, runBatch): it runs the batch's runs one
 * after another and says which it replied to; past its time budget (a run slower than its
 * function usually is) it stops starting them, and the rest go back to the host's queue.
 * Observed at the hand-over to Piscina, so what each batch carried and what the thread
 * reported for it are both seen.
 */
import { Piscina } from 'piscina';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { batchingLoaderFactory, watchHostErrors } from './helpers.js';

watchHostErrors();
const make = batchingLoaderFactory();

interface Seen {
  /** Arguments of each run in the batch, in order. */
  args: unknown[][];
  /** The nonces of the runs the thread replied to, from its BatchDone. */
  replied: unknown[];
}
let batches: Seen[] = [];
/** Each batch's BatchDone, which may arrive after the replies its runs' callers wait for. */
let done: Promise<unknown>[] = [];
beforeEach(() => {
  const seen: Seen[] = (batches = []);
  const pending: Promise<unknown>[] = (done = []);
  const run = Piscina.prototype.run;
  vi.spyOn(Piscina.prototype, 'run').mockImplementation(function (
    this: Piscina,
    task: unknown,
    options?: object,
  ) {
    const result = run.call(this, task, options) as Promise<unknown>;
    const batch = (task as { batch?: { args: unknown[] }[] } | null)?.batch;
    if (Array.isArray(batch)) {
      pending.push(
        result.then(
          (reply) => {
            seen.push({ args: batch.map((t) => t.args), replied: (reply as { replied: unknown[] }).replied });
          },
          () => undefined,
        ),
      );
    }
    return result;
  });
});
afterEach(() => vi.restoreAllMocks());

const RUNS = 2000;

it('quick runs: a batch runs all its runs and replies to each, by its nonce', async () => {
  const l = make({ threads: 2 });
  const add = l.asyncLoad((n: number) => n + 1);
  for (let i = 0; i < 5; i++) await add.wait(-1 - i);
  const values = await Promise.all(Array.from({ length: RUNS }, (_, i) => add.wait(i)));
  expect(values).toEqual(Array.from({ length: RUNS }, (_, i) => i + 1));
  await Promise.all(done);
  const sent = batches.reduce((n, b) => n + b.args.length, 0);
  expect(sent).toBeGreaterThan(RUNS / 4);
  for (const b of batches) {
    expect(b.replied.length).toBeLessThanOrEqual(b.args.length);
    for (const nonce of b.replied) expect(nonce).toBeTypeOf('number');
  }
  // Runs of a microsecond against a budget of 5 ms: batches run several runs each (how many
  // depends on the machine; under mutation testing's instrumentation about two thirds).
  const replied = batches.reduce((n, b) => n + b.replied.length, 0);
  expect(replied).toBeGreaterThan(batches.length * 1.5);
  expect(batches.some((b) => b.replied.length === b.args.length && b.args.length >= 4)).toBe(true);
});

it('a run past the budget: the runs after it in its batch are not started there', async () => {
  const l = make({ threads: 2 });
  // Every 50th run takes 20 ms (the budget is 5 ms); the others are quick.
  // Negative arguments warm up and say which thread ran them.
  const uneven = l.asyncLoad((n: number) => {
    if (n < 0) return -(require('node:worker_threads') as typeof import('node:worker_threads')).threadId;
    if (n % 50 === 25) {
      const end = performance.now() + 20;
      while (performance.now() < end);
    }
    return n;
  });
  // Many at once, so both threads compile the function: a thread that has not replies to a
  // whole batch at once with "missing" (the host sends it again with the source), which would
  // look like a batch run past its budget.
  const threads = new Set<number>();
  for (let round = 0; threads.size < 2 && round < 50; round++) {
    const ids = await Promise.all(Array.from({ length: 100 }, (_, i) => uneven.wait(-1 - round * 100 - i)));
    for (const id of ids) threads.add(id);
  }
  expect(threads.size).toBe(2);
  await Promise.all(done);
  batches.length = 0;
  const values = await Promise.all(Array.from({ length: RUNS }, (_, i) => uneven.wait(i)));
  expect(values).toEqual(Array.from({ length: RUNS }, (_, i) => i));
  await Promise.all(done);
  let checked = 0;
  for (const b of batches) {
    const slow = b.args.findIndex(([n]) => (n as number) % 50 === 25);
    if (slow < 0 || slow === b.args.length - 1) continue;
    // Nothing after the slow run was started (on a loaded machine a pause before it may have
    // used the budget up earlier).
    expect(b.replied.length, `batch ${JSON.stringify(b.args)}`).toBeLessThanOrEqual(slow + 1);
    checked++;
  }
  expect(checked).toBeGreaterThan(0);
});
