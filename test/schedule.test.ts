/**
 * Scheduling rules that an earlier suite let change unnoticed (each was a surviving mutant):
 * refresh() never doubles a run, the next refresh is anchored on the scheduled start of an
 * on-time run, the hand-over lead follows the measured lag, eviction is by least recent read
 * (not by insertion), and an announcement is timed from the run's end, not its reply.
 * Hand-driven executor, fake time.
 */
import { describe, expect, it, vi } from 'vitest';
import { now } from '../src/clock.js';
import type { UpdateEvent } from '../src/entry.js';
import { Notifier } from '../src/notifier.js';
import type { Registration } from '../src/registration.js';
import { fakeCoordinator, useFakeClock } from './fixtures/fake-executor.js';

const fn = { kind: 'inline', source: '(a) => a' } as const;

useFakeClock();

/** Milliseconds from now to the epoch time `at`. */
const until = (at: number): number => Math.max(0, at - now());

describe('refresh()', () => {
  it('during a run starts no second run of the entry', async () => {
    const { core, executor } = fakeCoordinator();
    const reg = core.register(fn, {});
    core.read(reg, [1]);
    core.refresh(reg, [1]);
    core.refresh(reg, [1]);
    expect(executor.runs).toHaveLength(1);
    executor.last.succeed('v');
    await vi.advanceTimersByTimeAsync(0);
    core.refresh(reg, [1]);
    expect(executor.runs).toHaveLength(2);
  });
});

describe('the refresh anchor', () => {
  it('measures from the scheduled start when a refresh started on time, from the actual start otherwise', async () => {
    const { core, executor } = fakeCoordinator();
    const reg = core.register(fn, { refreshEvery: 100 });
    core.read(reg, [1]);
    executor.last.start();
    executor.last.succeed(0);
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(until(executor.runs[0]!.started! + 100));
    const first = executor.last;
    const target = first.request.notBefore!;
    // The thread wakes 0.6 ms late: on time, so the next is aimed at target + 100 exactly.
    await vi.advanceTimersByTimeAsync(until(target + 0.6));
    first.started = target + 0.6;
    first.succeed(1);
    await vi.advanceTimersByTimeAsync(until(target + 100));
    const second = executor.last;
    expect(second).not.toBe(first);
    expect(second.request.notBefore).toBeCloseTo(target + 100, 6);
    // This one starts 30 ms late (a busy pool): the next is measured from its actual start.
    await vi.advanceTimersByTimeAsync(until(target + 130));
    second.started = target + 130;
    second.succeed(2);
    await vi.advanceTimersByTimeAsync(until(target + 230));
    expect(executor.last.request.notBefore).toBeCloseTo(target + 230, 6);
  });

  it('hands a refresh over earlier after a slow hand-over, so it still starts on schedule', async () => {
    const { core, executor } = fakeCoordinator();
    const reg = core.register(fn, { refreshEvery: 1000 });
    core.read(reg, [1]);
    executor.last.start();
    executor.last.succeed(0);
    const handOver = async (lag: number): Promise<number> => {
      const before = executor.runs.length;
      // Advance until the refresh is handed over; note how long before its target that was.
      while (executor.runs.length === before) await vi.advanceTimersByTimeAsync(0.25);
      const run = executor.last;
      const early = run.request.notBefore! - now();
      await vi.advanceTimersByTimeAsync(lag);
      run.start();
      // The fake run reports arrival at its start; the lag is what the coordinator learns.
      run.succeed('v');
      await vi.advanceTimersByTimeAsync(0);
      return early;
    };
    const firstLead = await handOver(12);
    const secondLead = await handOver(0);
    expect(firstLead).toBeLessThan(5);
    // 12 ms of lag learnt: handed over at least that much early next time.
    expect(secondLead).toBeGreaterThanOrEqual(12);
  });
});

describe('maxEntries', () => {
  it('evicts the least recently read entry, not the first one added', async () => {
    const { core, executor } = fakeCoordinator({ maxEntries: 2 });
    const reg = core.register(fn, {});
    core.read(reg, ['first']);
    executor.last.succeed(1);
    core.read(reg, ['second']);
    executor.last.succeed(2);
    await vi.advanceTimersByTimeAsync(0);
    expect(core.read(reg, ['first'])).toBe(1);
    core.read(reg, ['third']);
    executor.last.succeed(3);
    await vi.advanceTimersByTimeAsync(0);
    expect(core.state(reg, ['first']).status).toBe('complete');
    expect(core.state(reg, ['second']).status).toBe('idle');
  });
});

describe('announcements', () => {
  it('are timed from the run’s end on its thread, not from its reply reaching this thread', async () => {
    const notifier = new Notifier(() => undefined);
    const registration = { pollInterval: 50, listeners: new Set() } as unknown as Registration;
    const heard: number[] = [];
    notifier.loaderListeners.add(() => heard.push(now()));
    const ended = now() - 40;
    notifier.push({ finishedAt: ended } as UpdateEvent, registration);
    await vi.advanceTimersByTimeAsync(8);
    expect(heard).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(2);
    // Due 50 ms after the run ended (less a millisecond for timer lateness), 40 of them gone.
    expect(heard).toHaveLength(1);
    expect(heard[0]! - ended).toBeLessThanOrEqual(50);
  });
});
