/**
 * The coordinator's public operations against a fake executor and fake time, one rule each:
 * wait() on a settled entry, close() twice, get() by the `key` option after a failure, what a
 * run request carries, an entry cleared before the hasher loaded. (Each rule was untested
 * until mutation testing showed a change to it passing every test.)
 */
import { describe, expect, it, vi } from 'vitest';
import { after, setTimerProvider } from '../src/timers.js';
import { coordinatorBeforeHasher, fakeCoordinator, useFakeClock } from './fixtures/fake-executor.js';

useFakeClock();

const fn = { kind: 'inline', source: '(a) => a' } as const;
const settle = async (): Promise<void> => {
  await vi.advanceTimersByTimeAsync(1);
};

describe('wait()', () => {
  it('resolves with a settled value, or rejects with a settled error, without a new run', async () => {
    const { core, executor } = fakeCoordinator();
    const reg = core.register(fn, {});
    core.read(reg, [1]);
    executor.last.succeed('one');
    core.read(reg, [2]);
    const boom = new Error('boom');
    executor.last.fail(boom);
    await settle();
    await expect(core.wait(reg, [1])).resolves.toBe('one');
    await expect(core.wait(reg, [2])).rejects.toBe(boom);
    expect(executor.runs).toHaveLength(2);
    await core.close();
  });
});

describe('close()', () => {
  it('closes the executor once, however often it is called', async () => {
    const { core, executor } = fakeCoordinator();
    const close = vi.spyOn(executor, 'close');
    await Promise.all([core.close(), core.close()]);
    await core.close();
    expect(close).toHaveBeenCalledTimes(1);
  });
});

describe('get(key)', () => {
  it("returns the latest value settled under the key; a failed run's entry does not count", async () => {
    const { core, executor } = fakeCoordinator();
    const reg = core.register(fn, { key: 'k' });
    core.read(reg, [1]);
    executor.last.succeed('first');
    await settle();
    core.read(reg, [2]);
    executor.last.fail(new Error('no'));
    await settle();
    expect(core.get('k')).toBe('first');
    core.read(reg, [3]);
    executor.last.succeed('third');
    await settle();
    expect(core.get('k')).toBe('third');
    core.refresh(reg, [1]);
    executor.last.succeed('first again');
    await settle();
    expect(core.get('k')).toBe('first again');
    expect(core.get('other')).toBeUndefined();
    await core.close();
  });
});

describe('a run request', () => {
  it('says whether its arguments went through the codec', async () => {
    const { core, executor } = fakeCoordinator();
    const reg = core.register(fn, {});
    core.read(reg, [1, 'two', { three: [3] }]);
    expect(executor.last.request.encoded).toBe(false);
    core.read(reg, [new Map([[1, 2]]), new Date(0)]);
    expect(executor.last.request.encoded).toBe(false);
    // Structured clone loses a URL and an error's class: these go through the codec.
    core.read(reg, [1, new URL('https://example.com/')]);
    expect(executor.last.request.encoded).toBe(true);
    core.read(reg, [new TypeError('e'), 2]);
    expect(executor.last.request.encoded).toBe(true);
    await core.close();
  });
});

describe('channels', () => {
  it('keep their number while they hold an entry', async () => {
    const { core, executor } = fakeCoordinator();
    const reg = core.register(fn, { key: 'a' });
    core.read(reg, [1]);
    executor.last.succeed(1);
    await settle();
    expect(core.register(fn, { key: 'a' }).prefix).toBe(reg.prefix);
    expect(core.register(fn, { key: 'b' }).prefix).not.toBe(reg.prefix);
    await core.close();
  });
});

describe('an entry made before the hasher loaded', () => {
  it('stays gone when cleared before the hasher loads', async () => {
    vi.useRealTimers();
    const { core, executor, loaded } = await coordinatorBeforeHasher();
    const reg = core.register(fn, {});
    const bytes = (): Uint8Array => new Uint8Array([1, 2, 3]);
    core.read(reg, [bytes()]);
    core.clear(reg, [bytes()]);
    await loaded();
    await new Promise((resolve) => setImmediate(resolve));
    expect(core.state(reg, [bytes()]).status).toBe('idle');
    expect(executor.runs).toHaveLength(1);
    await core.close();
  });
});

describe('announcements', () => {
  it('are made for the listeners there when a run settles: one subscribed later hears the next run', async () => {
    const { core, executor } = fakeCoordinator({ pollInterval: 5 });
    const reg = core.register(fn, {});
    core.read(reg, [1]);
    executor.last.succeed(1);
    await vi.advanceTimersByTimeAsync(0);
    const heard: unknown[] = [];
    core.subscribe(reg.listeners, (events) => heard.push(...events.map((e) => e.value)));
    await vi.advanceTimersByTimeAsync(10);
    expect(heard).toEqual([]);
    core.refresh(reg, [1]);
    executor.last.succeed(2);
    await vi.advanceTimersByTimeAsync(10);
    expect(heard).toEqual([2]);
    // A loader-wide listener counts too.
    const all: unknown[] = [];
    core.subscribe(core.loaderListeners, (events) => all.push(...events.map((e) => e.value)));
    const other = core.register(fn, { key: 'other' });
    core.read(other, [1]);
    executor.last.succeed(3);
    await vi.advanceTimersByTimeAsync(10);
    expect(all).toEqual([3]);
    await core.close();
  });

  it('a listener that throws a non-error reaches onError as an Error naming what it threw', async () => {
    const errors: Error[] = [];
    const { core, executor } = fakeCoordinator({ pollInterval: 0, onError: (e) => errors.push(e) });
    const reg = core.register(fn, {});
    core.subscribe(reg.listeners, () => {
      throw 'a string';
    });
    core.read(reg, [1]);
    executor.last.succeed(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(errors.map((e) => e.message)).toEqual(['A subscriber threw a string']);
    await core.close();
  });
});

describe('timers', () => {
  it("let the process exit unless held, whatever the provider's handles look like", () => {
    const unrefs: string[] = [];
    const handles: unknown[] = [
      { unref: () => unrefs.push('a') },
      { unref: () => unrefs.push('b') },
      {},
      null,
    ];
    let next = 0;
    setTimerProvider({ setTimeout: () => handles[next++], clearTimeout: () => undefined });
    try {
      after(10, () => undefined);
      after(10, () => undefined, true);
      after(10, () => undefined);
      after(10, () => undefined);
      expect(unrefs).toEqual(['a']);
      expect(next).toBe(4);
    } finally {
      setTimerProvider();
    }
    // Restored: Node's timers (faked here) again.
    let fired = false;
    after(5, () => (fired = true));
    vi.advanceTimersByTime(5);
    expect(fired).toBe(true);
  });
});
