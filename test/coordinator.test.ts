/**
 * The coordinator's scheduling and bookkeeping, with a hand-driven executor and fake time:
 * refresh from each run's start, batching by pollInterval, eviction, clearing.
 */
import { describe, expect, it, vi } from 'vitest';
import { CancelledError, RedisUnavailableError, RunLostError } from '../src/errors.js';
import type { UpdateEvent } from '../src/entry.js';
import { useFakeClock, fakeCoordinator } from './fixtures/fake-executor.js';

const fn = { kind: 'inline', source: '(a) => a' } as const;

/** Lets promise callbacks run without moving fake time. */
async function settleMicrotasks(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

useFakeClock();

describe('refreshEvery', () => {
  it('starts the next run at the previous actual start + refreshEvery, even when runs take long', async () => {
    const { core, executor } = fakeCoordinator();
    const reg = core.register(fn, { refreshEvery: 1000 });
    core.read(reg, [1]);
    await vi.advanceTimersByTimeAsync(100);
    executor.last.start();
    const firstStart = executor.last.started!;
    await vi.advanceTimersByTimeAsync(300);
    executor.last.succeed('v1');
    await vi.advanceTimersByTimeAsync(0);
    expect(executor.runs).toHaveLength(1);
    // Handed to the pool a little before the target; the run must not start before it.
    await vi.advanceTimersByTimeAsync(firstStart + 1000 - performance.timeOrigin - performance.now());
    expect(executor.runs).toHaveLength(2);
    expect(executor.last.request.notBefore).toBeCloseTo(firstStart + 1000, 6);
    expect(core.read(reg, [1])).toBe('v1');
  });

  it('never overlaps: a run longer than the interval is followed as soon as it ends', async () => {
    const { core, executor } = fakeCoordinator();
    const reg = core.register(fn, { refreshEvery: 100 });
    core.read(reg, [1]);
    executor.last.start();
    await vi.advanceTimersByTimeAsync(350);
    expect(executor.runs).toHaveLength(1);
    executor.last.succeed(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(executor.runs).toHaveLength(2);
  });

  it('keeps refreshing after a failed run, keeping the last good value', async () => {
    const { core, executor } = fakeCoordinator();
    const reg = core.register(fn, { refreshEvery: 100 });
    core.read(reg, [1]);
    executor.last.succeed('good');
    await vi.advanceTimersByTimeAsync(100);
    executor.last.fail(new Error('bad'));
    await vi.advanceTimersByTimeAsync(0);
    expect(() => core.read(reg, [1])).toThrow('bad');
    expect(core.state(reg, [1])).toMatchObject({ status: 'error', value: 'good', runs: 2 });
    await vi.advanceTimersByTimeAsync(100);
    expect(executor.runs).toHaveLength(3);
    executor.last.succeed('again');
    await vi.advanceTimersByTimeAsync(0);
    expect(core.read(reg, [1])).toBe('again');
  });

  it('aims every start at the schedule, so 20 refreshes do not drift', async () => {
    const { core, executor } = fakeCoordinator();
    const reg = core.register(fn, { refreshEvery: 100 });
    core.read(reg, [1]);
    const starts: number[] = [];
    for (let i = 0; i < 21; i++) {
      // Every dispatch takes 0.5 ms to reach a thread: the lag that would otherwise add up.
      await vi.advanceTimersByTimeAsync(0.5);
      executor.last.start();
      starts.push(executor.last.started!);
      await vi.advanceTimersByTimeAsync(30);
      executor.last.succeed(i);
      await vi.advanceTimersByTimeAsync(
        Math.max(0, starts[i]! + 100 - 0.5 - performance.timeOrigin - performance.now()),
      );
    }
    expect(starts[20]! - starts[0]!).toBeCloseTo(2000, 0);
  });
});

describe('pollInterval', () => {
  it('announces runs settling within one interval in one batch, no later than the interval', async () => {
    const { core, executor } = fakeCoordinator({ pollInterval: 50 });
    const reg = core.register(fn, {});
    const batches: UpdateEvent[][] = [];
    core.subscribe(core.loaderListeners, (events) => batches.push(events));
    core.read(reg, [1]);
    core.read(reg, [2]);
    core.read(reg, [3]);
    executor.runs[0]!.succeed('a');
    await vi.advanceTimersByTimeAsync(20);
    executor.runs[1]!.succeed('b');
    await settleMicrotasks();
    // The value is readable as soon as the run settles; only the announcement waits.
    expect(core.read(reg, [2])).toBe('b');
    await vi.advanceTimersByTimeAsync(20);
    expect(batches).toHaveLength(0);
    // No later than the interval after the first of them settled.
    await vi.advanceTimersByTimeAsync(10);
    expect(batches).toHaveLength(1);
    expect(batches[0]!.map((e) => e.value)).toEqual(['a', 'b']);
    executor.runs[2]!.succeed('c');
    await vi.advanceTimersByTimeAsync(50);
    expect(batches).toHaveLength(2);
  });

  it('with 0, announces in the same turn of the event loop', async () => {
    const { core, executor } = fakeCoordinator({ pollInterval: 0 });
    const reg = core.register(fn, {});
    const listener = vi.fn();
    core.subscribe(reg.listeners, listener);
    core.read(reg, [1]);
    executor.last.succeed('x');
    await vi.advanceTimersByTimeAsync(0);
    expect(listener).toHaveBeenCalledTimes(1);
    expect(listener.mock.calls[0]![0][0]).toMatchObject({
      status: 'complete',
      value: 'x',
      args: [1],
      runs: 1,
    });
  });

  it('a listener that throws reaches onError, and the others still run', async () => {
    const onError = vi.fn();
    const { core, executor } = fakeCoordinator({ pollInterval: 0, onError });
    const reg = core.register(fn, {});
    const second = vi.fn();
    core.subscribe(core.loaderListeners, () => {
      throw new Error('listener bug');
    });
    core.subscribe(core.loaderListeners, second);
    core.read(reg, [1]);
    executor.last.succeed(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(second).toHaveBeenCalledTimes(1);
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: 'listener bug' }));
  });
});

describe('bounds', () => {
  it('maxEntries evicts the least recently read settled entry, never a running one', async () => {
    const { core, executor } = fakeCoordinator({ maxEntries: 2 });
    const reg = core.register(fn, {});
    core.read(reg, ['running']);
    core.read(reg, ['a']);
    executor.runs[1]!.succeed('A');
    core.read(reg, ['b']);
    executor.runs[2]!.succeed('B');
    await vi.advanceTimersByTimeAsync(0);
    // Three entries, bound two: 'a' (oldest settled) goes, 'running' stays.
    expect(core.size).toBe(2);
    expect(core.state(reg, ['a']).status).toBe('idle');
    expect(core.state(reg, ['running']).status).toBe('running');
    expect(core.state(reg, ['b']).status).toBe('complete');
  });

  it('ttl forgets an entry nobody read, and stops its refresh', async () => {
    const { core, executor } = fakeCoordinator({ ttl: 1000 });
    const reg = core.register(fn, { refreshEvery: 300 });
    core.read(reg, [1]);
    executor.last.succeed(1);
    for (let i = 0; i < 3; i++) {
      await vi.advanceTimersByTimeAsync(300);
      executor.last.succeed(i);
    }
    await vi.advanceTimersByTimeAsync(2000);
    const runs = executor.runs.length;
    expect(core.size).toBe(0);
    await vi.advanceTimersByTimeAsync(3000);
    expect(executor.runs.length).toBe(runs);
  });
});

describe('clear()', () => {
  it('cancels the running run and rejects its waiters with CancelledError', async () => {
    const { core, executor } = fakeCoordinator();
    const reg = core.register(fn, {});
    const waiting = core.wait(reg, [1]);
    core.clear(reg, [1]);
    await expect(waiting).rejects.toBeInstanceOf(CancelledError);
    expect(executor.last.cancelledWith).toBeInstanceOf(CancelledError);
    expect(core.state(reg, [1]).status).toBe('idle');
  });

  it("without arguments forgets all of the function's entries and no other function's", async () => {
    const { core, executor } = fakeCoordinator();
    const one = core.register(fn, {});
    const other = core.register({ kind: 'inline', source: '(a) => a * 2' }, {});
    core.read(one, [1]);
    core.read(one, [2]);
    core.read(other, [1]);
    for (const run of executor.runs) run.succeed(0);
    await vi.advanceTimersByTimeAsync(0);
    core.clear(one, undefined);
    expect(core.size).toBe(1);
    expect(core.state(other, [1]).status).toBe('complete');
  });
});

describe('a run the executor lost', () => {
  it.each([
    ['RunLostError', () => new RunLostError('gone')],
    ['RedisUnavailableError', () => new RedisUnavailableError('down')],
  ])('after a %s, the next call runs the entry again; wait() waits for that run', async (_name, lost) => {
    const { core, executor } = fakeCoordinator();
    const reg = core.register(fn, {});
    core.read(reg, [1]);
    executor.last.fail(lost());
    await settleMicrotasks();
    expect(executor.runs).toHaveLength(1);
    // state() reads without starting anything.
    expect(core.state(reg, [1]).status).toBe('error');
    expect(executor.runs).toHaveLength(1);
    // A call serves the failure it has and starts the entry again.
    expect(() => core.read(reg, [1])).toThrow(lost().message);
    expect(executor.runs).toHaveLength(2);
    const waited = core.wait(reg, [1]);
    expect(executor.runs).toHaveLength(2);
    executor.last.succeed('back');
    await expect(waited).resolves.toBe('back');
    expect(core.read(reg, [1])).toBe('back');
  });

  it("does not run the entry again after the function's own error", async () => {
    const { core, executor } = fakeCoordinator();
    const reg = core.register(fn, {});
    core.read(reg, [1]);
    executor.last.fail(new Error('its own'));
    await settleMicrotasks();
    expect(() => core.read(reg, [1])).toThrow('its own');
    await expect(core.wait(reg, [1])).rejects.toThrow('its own');
    expect(executor.runs).toHaveLength(1);
  });
});
