/**
 * When the coordinator starts refreshes, measured with a hand-driven executor that records when
 * each run was handed over and with what `notBefore`: one run per entry at a time, the anchor
 * (the scheduled start when a refresh started on time, else its actual start), and the lead
 * (how early a refresh is handed over) learnt from dispatch lag.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { now } from '../src/clock.js';
import type { Executor, Outcome, RunHandle, RunRequest } from '../src/executor.js';
import { Coordinator } from '../src/loader.js';
import { resolveLoaderOptions } from '../src/options.js';

const fn = { kind: 'inline', source: '(a) => a' } as const;

interface Submitted {
  request: RunRequest;
  /** now() when the coordinator handed the run over. */
  handedOver: number;
  settle(outcome: Partial<Outcome> & { ok: boolean }): void;
}

/** Records each submission; the test settles runs with whatever outcome it needs. */
class RecordingExecutor implements Executor {
  readonly runs: Submitted[] = [];
  /** When set, the next submit throws it (a full queue). */
  refuseNext: Error | undefined;

  submit(request: RunRequest, onSettle: (outcome: Outcome) => void): RunHandle {
    if (this.refuseNext) {
      const error = this.refuseNext;
      this.refuseNext = undefined;
      throw error;
    }
    const handedOver = now();
    this.runs.push({
      request,
      handedOver,
      settle: (outcome) => {
        const at = now();
        const full = { startedAt: at, finishedAt: at, value: undefined, error: undefined, ...outcome };
        queueMicrotask(() => onSettle(full));
      },
    });
    return { startedAt: () => undefined, cancel: () => undefined };
  }

  get last(): Submitted {
    return this.runs[this.runs.length - 1]!;
  }

  async close(): Promise<void> {}
}

function coordinator(): { core: Coordinator; executor: RecordingExecutor } {
  const executor = new RecordingExecutor();
  return { core: new Coordinator(executor, resolveLoaderOptions({ threads: 1 })), executor };
}

/** Runs fake time up to the moment the next run is handed over. */
async function untilNextRun(executor: RecordingExecutor): Promise<Submitted> {
  const count = executor.runs.length;
  while (executor.runs.length === count) await vi.advanceTimersToNextTimerAsync();
  return executor.last;
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'Date', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('one run per entry', () => {
  it('refresh() while a run is in flight starts no second run', async () => {
    const { core, executor } = coordinator();
    const reg = core.register(fn, {});
    core.read(reg, [1]);
    core.refresh(reg, [1]);
    core.refresh(reg, [1]);
    expect(executor.runs).toHaveLength(1);
    executor.last.settle({ ok: true, value: 'a' });
    await vi.advanceTimersByTimeAsync(0);
    core.refresh(reg, [1]);
    expect(executor.runs).toHaveLength(2);
  });

  it('refresh() between scheduled refreshes replaces the pending one: the schedule restarts from it', async () => {
    const { core, executor } = coordinator();
    const reg = core.register(fn, { refreshEvery: 1000 });
    core.read(reg, [1]);
    const t0 = now();
    executor.last.settle({ ok: true, startedAt: t0 });
    await vi.advanceTimersByTimeAsync(400);
    core.refresh(reg, [1]);
    const manual = executor.last;
    manual.settle({ ok: true, startedAt: now() });
    const next = await untilNextRun(executor);
    expect(executor.runs).toHaveLength(3);
    // From the manual run's start (t0 + 400), not from the first run's.
    expect(next.request.notBefore).toBeCloseTo(t0 + 1400, 3);
  });
});

describe('the anchor of the next refresh', () => {
  async function secondRefresh(
    startOffset: number,
    refreshEvery = 1000,
  ): Promise<{ scheduled: number; next: Submitted }> {
    const { core, executor } = coordinator();
    const reg = core.register(fn, { refreshEvery });
    core.read(reg, [1]);
    executor.last.settle({ ok: true, startedAt: now(), arrivedAt: now() });
    const refresh = await untilNextRun(executor);
    const scheduled = refresh.request.notBefore!;
    await vi.advanceTimersByTimeAsync(scheduled + startOffset - now() + 5);
    refresh.settle({ ok: true, startedAt: scheduled + startOffset, arrivedAt: refresh.handedOver + 1 });
    return { scheduled, next: await untilNextRun(executor) };
  }

  it('is the scheduled start when the refresh started within 1 ms of it (no drift)', async () => {
    const { scheduled, next } = await secondRefresh(0.6);
    expect(next.request.notBefore).toBe(scheduled + 1000);
  });

  it('is the scheduled start when the refresh started exactly on time', async () => {
    const { scheduled, next } = await secondRefresh(0);
    expect(next.request.notBefore).toBe(scheduled + 1000);
  });

  it('is the scheduled start when the refresh started late by up to 1/40 of the interval, 1 to 25 ms', async () => {
    for (const [every, late] of [
      [1000, 25],
      [4000, 25],
      [400, 10],
      [20, 1],
    ] as const) {
      const { scheduled, next } = await secondRefresh(late, every);
      expect(next.request.notBefore, `${late} ms late, every ${every} ms`).toBe(scheduled + every);
    }
  });

  it('is the actual start when the refresh started later than 1/40 of the interval, 1 to 25 ms', async () => {
    for (const [every, late] of [
      [1000, 25.5],
      [4000, 26],
      [400, 10.5],
      [20, 1.5],
    ] as const) {
      const { scheduled, next } = await secondRefresh(late, every);
      expect(next.request.notBefore, `${late} ms late, every ${every} ms`).toBeCloseTo(
        scheduled + late + every,
        6,
      );
    }
  });

  it('is the scheduled start when the refresh started before it (handed over early while every thread was busy)', async () => {
    for (const early of [0.5, 1.5]) {
      const { scheduled, next } = await secondRefresh(-early);
      expect(next.request.notBefore).toBe(scheduled + 1000);
    }
  });

  it('is the end of a run that never started (failed in the queue)', async () => {
    const { core, executor } = coordinator();
    const reg = core.register(fn, { refreshEvery: 1000 });
    core.read(reg, [1]);
    await vi.advanceTimersByTimeAsync(300);
    const failedAt = now();
    executor.last.settle({ ok: false, error: new Error('x'), startedAt: undefined, finishedAt: failedAt });
    const next = await untilNextRun(executor);
    expect(next.request.notBefore).toBeCloseTo(failedAt + 1000, 6);
  });
});

describe('the lead', () => {
  /** Hands over refreshes, each arriving on its thread `lags[i]` ms after hand-over; returns how early each was handed over. */
  async function leads(lags: number[]): Promise<number[]> {
    const { core, executor } = coordinator();
    const reg = core.register(fn, { refreshEvery: 1000 });
    core.read(reg, [1]);
    // The first run is not a refresh: its lag (from the call) teaches nothing.
    executor.last.settle({ ok: true, startedAt: now(), arrivedAt: now() + 500 });
    const seen: number[] = [];
    for (const lag of lags) {
      const run = await untilNextRun(executor);
      const target = run.request.notBefore!;
      seen.push(target - run.handedOver);
      await vi.advanceTimersByTimeAsync(target - now());
      run.settle({ ok: true, startedAt: target, arrivedAt: run.handedOver + lag });
    }
    seen.push(target(await untilNextRun(executor)));
    return seen;
  }
  const target = (run: Submitted): number => run.request.notBefore! - run.handedOver;

  // Fake timers fire at whole milliseconds, so a lead of 15.5 ms shows as a hand-over 16 ms early.
  it('starts at 2 ms, jumps up to 1.5 × a longer lag + 0.5 ms at once, and is capped at 20 ms', async () => {
    const seen = await leads([10, 100]);
    expect(seen).toEqual([2, Math.ceil(15.5), 20]);
  });

  it('drifts down slowly after short lags, and never below 1 ms', async () => {
    const seen = await leads([10, 0, 0, ...Array<number>(100).fill(0)]);
    // 15.5, then 0.9 × 15.5 + 0.1 × 1 = 14.05, then 12.745
    expect(seen.slice(1, 4)).toEqual([16, 15, 13]);
    // 1 + 11 × 0.9^100: just above the 1 ms floor.
    expect(seen[seen.length - 1]).toBe(2);
  });
});

describe('a refresh the pool refuses', () => {
  it('is recorded as a failed run, keeps the last value, and refreshing goes on', async () => {
    const { core, executor } = coordinator();
    const reg = core.register(fn, { refreshEvery: 1000 });
    core.read(reg, [1]);
    executor.last.settle({ ok: true, value: 'first', startedAt: now() });
    await vi.advanceTimersByTimeAsync(0);
    const full = new Error('queue full');
    executor.refuseNext = full;
    await vi.advanceTimersByTimeAsync(1000);
    const state = core.state(reg, [1]);
    expect(state).toMatchObject({ status: 'error', value: 'first', error: full, runs: 2 });
    const next = await untilNextRun(executor);
    next.settle({ ok: true, value: 'second', startedAt: now() });
    await vi.advanceTimersByTimeAsync(0);
    expect(core.read(reg, [1])).toBe('second');
  });
});
