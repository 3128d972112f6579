/**
 * Refresh, notification and timeout timing with real threads and real time. Bounds here are
 * generous (a loaded CI machine); exact figures are measured in bench/.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createLoader, TimeoutError, type UpdateEvent } from '../src/index.js';
import { watchHostErrors } from './helpers.js';

watchHostErrors();

describe('refreshEvery on real threads', () => {
  const loader = createLoader({ threads: 2, pollInterval: 0 });
  afterAll(() => loader.close());

  it('starts runs at previous start + interval, serves the last value meanwhile, and does not drift', async () => {
    const load = loader.asyncLoad(
      (ms: number) => {
        const end = Date.now() + ms;
        while (Date.now() < end);
        return Date.now();
      },
      { refreshEvery: 100 },
    );
    const events: UpdateEvent<number>[] = [];
    const done = new Promise<void>((resolve) =>
      load.subscribe((batch) => {
        events.push(...batch);
        if (events.length >= 21) resolve();
      }),
    );
    await load.wait(30);
    await done;
    const starts = events.map((e) => e.startedAt!);
    const gaps = starts.slice(1).map((s, i) => s - starts[i]!);
    // Never early. Late: a loaded machine (CI) delays single starts by tens of ms, so the
    // typical gap is checked, and only a few may be late. A refresh measured from the run's end
    // instead of its start would add 30 ms to every gap.
    const sorted = [...gaps].sort((a, b) => a - b);
    expect(sorted[0]).toBeGreaterThan(85);
    // The typical cycle adds no lag: what a start-anchored schedule lost per cycle (a thread
    // waking late, the dispatch) would add up over the cycles.
    expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThan(103);
    expect(
      gaps.filter((gap) => gap > 130).length,
      `gaps ${gaps.map(Math.round).join(' ')}`,
    ).toBeLessThanOrEqual(4);
    // The value stayed readable all along.
    expect(typeof load(30)).toBe('number');
    load.clear();
  });
});

describe('pollInterval on real threads', () => {
  const loader = createLoader({ threads: 2 });
  afterAll(() => loader.close());

  it('makes values readable at once and announces them within the interval, in one batch', async () => {
    const load = loader.asyncLoad((n: number) => n, { pollInterval: 300 });
    const batches: { at: number; events: UpdateEvent<number>[] }[] = [];
    load.subscribe((events) => batches.push({ at: performance.timeOrigin + performance.now(), events }));
    const values = await Promise.all([load.wait(1), load.wait(2), load.wait(3)]);
    expect(values).toEqual([1, 2, 3]);
    // wait() resolved before the announcement.
    expect(batches).toHaveLength(0);
    expect(load(2)).toBe(2);
    await new Promise((r) => setTimeout(r, 450));
    expect(batches).toHaveLength(1);
    expect(batches[0]!.events.map((e) => e.value).sort()).toEqual([1, 2, 3]);
    const lastFinish = Math.max(...batches[0]!.events.map((e) => e.finishedAt));
    expect(batches[0]!.at - lastFinish).toBeLessThanOrEqual(300 + 50);
  });
});

describe('timeout', () => {
  const loader = createLoader({ threads: 1, pollInterval: 0 });
  afterAll(() => loader.close());

  it('counts from the actual start, not from queueing', async () => {
    const busy = loader.asyncLoad(
      (ms: number) => {
        const end = Date.now() + ms;
        while (Date.now() < end);
        return ms;
      },
      { timeout: 1_000 },
    );
    const timed = loader.asyncLoad(
      (ms: number) => {
        const end = Date.now() + ms;
        while (Date.now() < end);
        return 'finished';
      },
      { timeout: 250 },
    );
    const blocker = busy.wait(400);
    // Queued behind 400 ms of work, runs for 100 ms: 500 ms after queueing, 100 ms after its start.
    await expect(timed.wait(100)).resolves.toBe('finished');
    await blocker;
  });

  it('stops the thread on expiry, fails with TimeoutError, and the pool replaces the thread', async () => {
    const whoAmI = loader.asyncLoad((_n: number) => require('node:worker_threads').threadId as number);
    const before = await whoAmI.wait(1);
    const endless = loader.asyncLoad(
      () => {
        for (;;);
      },
      { timeout: 200 },
    );
    const t0 = performance.now();
    const error = await endless.wait().catch((e: unknown) => e);
    const elapsed = performance.now() - t0;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ code: 'ERR_ASYNC_LOAD_TIMEOUT', timeout: 200 });
    expect(elapsed).toBeGreaterThanOrEqual(195);
    expect(elapsed).toBeLessThan(200 + 250);
    const after = await whoAmI.wait(2);
    expect(after).not.toBe(before);
  });
});
