/**
 * Durations past Node's longest timer (2^31-1 ms, about 24.8 days): the library's timers are
 * chained so `timeout`, `refreshEvery`, `ttl` and `pollInterval` work for a year and more, and
 * no thread is ever held waiting for a schedule that far away. The chaining is tested with fake
 * timers (which overflow exactly as Node's do); the options end to end with real threads.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { now } from '../src/clock.js';
import type { Outcome } from '../src/executor.js';
import { resolveLoaderOptions } from '../src/options.js';
import { PoolExecutor } from '../src/pool-executor.js';
import { MAX_START_WAIT_MS } from '../src/protocol.js';
import { after, MAX_TIMER_MS } from '../src/timers.js';
import { loaderFactory, watchHostErrors } from './helpers.js';

const DAY = 86_400_000;

describe('after() chains timers past 2^31-1 ms (fake timers)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a 40-day timer fires at 40 days, not after 1 ms and not at 2^31-1 ms', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    after(40 * DAY, fn);
    vi.advanceTimersByTime(1);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(MAX_TIMER_MS);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(40 * DAY - MAX_TIMER_MS - 2);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(400 * DAY);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('a 365-day timer fires once, at 365 days', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    after(365 * DAY, fn);
    vi.advanceTimersByTime(365 * DAY - 1);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('exactly 2^31-1 ms is one timer; short timers are unchanged', () => {
    vi.useFakeTimers();
    const long = vi.fn();
    const short = vi.fn();
    after(MAX_TIMER_MS, long);
    after(5, short);
    expect(vi.getTimerCount()).toBe(2);
    vi.advanceTimersByTime(5);
    expect(short).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(MAX_TIMER_MS - 6);
    expect(long).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(long).toHaveBeenCalledTimes(1);
  });

  it('cancel() stops a chained timer in any link of the chain', () => {
    vi.useFakeTimers();
    const first = vi.fn();
    const later = vi.fn();
    after(60 * DAY, first).cancel();
    const timer = after(60 * DAY, later);
    vi.advanceTimersByTime(30 * DAY);
    timer.cancel();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(60 * DAY);
    expect(first).not.toHaveBeenCalled();
    expect(later).not.toHaveBeenCalled();
  });
});

describe('long durations on real threads', () => {
  watchHostErrors();
  const loader = loaderFactory();
  const busy = (ms: number): string => {
    const end = Date.now() + ms;
    while (Date.now() < end);
    return 'finished';
  };

  it('timeout: 30 days lets a 50 ms run finish (no TimeoutError after a millisecond)', async () => {
    const l = loader();
    const load = l.asyncLoad(busy, { timeout: 30 * DAY });
    expect(await load.wait(50)).toBe('finished');
    expect(load.state(50).status).toBe('complete');
  });

  it('refreshEvery: 30 days does not start a second run (no thread is handed a run 30 days early)', async () => {
    const l = loader();
    const load = l.asyncLoad((n: number) => n, { refreshEvery: 30 * DAY });
    expect(await load.wait(1)).toBe(1);
    // Both threads still answer at once: neither sits in Atomics.wait for a 30-day schedule.
    const probe = l.asyncLoad(busy);
    expect(await Promise.all([probe.wait(30), probe.wait(31)])).toEqual(['finished', 'finished']);
    // An overflowed timer would have fired 1 ms after the first run; 200 ms is ample margin.
    await new Promise((r) => setTimeout(r, 200));
    expect(load.state(1)).toMatchObject({ status: 'complete', runs: 1 });
  });

  it('ttl and pollInterval of a year work (a 1-year pollInterval just holds the announcement)', async () => {
    const l = loader({ ttl: 365 * DAY });
    const heard: unknown[] = [];
    const load = l.asyncLoad((n: number) => n * 2, { pollInterval: 365 * DAY });
    load.subscribe((events) => heard.push(...events));
    expect(await load.wait(2)).toBe(4);
    await new Promise((r) => setTimeout(r, 100));
    // Not announced after an overflowed 1 ms, and not evicted by an overflowed sweep.
    expect(heard).toEqual([]);
    expect(load.state(2)).toMatchObject({ status: 'complete', value: 4 });
    expect(l.size).toBe(1);
  });

  it(`a thread told to start a run 30 days from now waits at most ${MAX_START_WAIT_MS} ms`, async () => {
    const executor = new PoolExecutor(resolveLoaderOptions({ threads: 1, onError: () => undefined }));
    try {
      const handedOver = now();
      const outcome = await Promise.race([
        new Promise<Outcome>((resolve) =>
          executor.submit(
            {
              fn: { kind: 'inline', source: '(n) => n + 1' },
              args: [1],
              encoded: false,
              notBefore: handedOver + 30 * DAY,
            },
            resolve,
          ),
        ),
        new Promise<'held'>((resolve) => setTimeout(() => resolve('held'), 10_000)),
      ]);
      expect(outcome).toMatchObject({ ok: true, value: 2 });
      const { arrivedAt, startedAt } = outcome as Outcome & { arrivedAt: number; startedAt: number };
      expect(startedAt - arrivedAt).toBeLessThan(MAX_START_WAIT_MS + 50);
    } finally {
      await executor.close();
    }
  });
});
