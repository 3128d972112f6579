/**
 * The coordinator's edges, with a hand-driven executor and fake time: a closed coordinator,
 * subscribe() arguments, clear() of what does not exist, loader.get(key) among several entries,
 * calls deferred while the hasher loads, what a cleared or expired run may still change, and a
 * channel that lives as long as one of its wrappers.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { UpdateEvent } from '../src/entry.js';
import { CancelledError, LoaderClosedError } from '../src/errors.js';
import type { Executor } from '../src/executor.js';
import { loadHasher } from '../src/hash.js';
import type { Coordinator } from '../src/loader.js';
import { FakeExecutor, fakeCoordinator } from './fixtures/fake-executor.js';

const fn = { kind: 'inline', source: '(a) => a' } as const;

beforeEach(async () => {
  await loadHasher();
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'Date', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('a closed coordinator', () => {
  it('refuses reads, state(), wait() and refresh(); clear() does nothing', async () => {
    const { core } = fakeCoordinator();
    const reg = core.register(fn, {});
    core.read(reg, [1]);
    await core.close();
    expect(() => core.read(reg, [1])).toThrow(LoaderClosedError);
    expect(() => core.state(reg, [1])).toThrow(LoaderClosedError);
    expect(() => core.refresh(reg, [1])).toThrow(LoaderClosedError);
    await expect(core.wait(reg, [1])).rejects.toBeInstanceOf(LoaderClosedError);
    expect(() => core.clear(reg, [1])).not.toThrow();
    expect(() => core.clear(reg, undefined)).not.toThrow();
    await core.close();
  });
});

describe('subscribe', () => {
  it('stops calling a listener once unsubscribed', async () => {
    const { core, executor } = fakeCoordinator({ pollInterval: 0 });
    const reg = core.register(fn, {});
    const heard: UpdateEvent[][] = [];
    const unsubscribe = core.subscribe(reg.listeners, (events) => heard.push(events));
    core.read(reg, [1]);
    executor.last.succeed(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(heard).toHaveLength(1);
    unsubscribe();
    core.refresh(reg, [1]);
    executor.last.succeed(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(heard).toHaveLength(1);
  });
});

describe('clear', () => {
  it('of arguments never called is a no-op', () => {
    const { core } = fakeCoordinator();
    const reg = core.register(fn, {});
    core.read(reg, [1]);
    expect(() => core.clear(reg, [2])).not.toThrow();
    expect(core.size).toBe(1);
  });

  it('fails waiters with CancelledError saying the entry was cleared', async () => {
    const { core } = fakeCoordinator();
    const reg = core.register(fn, {});
    const waiting = core.wait(reg, [1]);
    core.clear(reg, [1]);
    const error = await waiting.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CancelledError);
    expect((error as Error).message).toMatch(/cleared/);
  });

  it('of an entry with a key option that never settled forgets it cleanly', async () => {
    const { core, executor } = fakeCoordinator();
    const reg = core.register(fn, { key: 'k' });
    core.read(reg, [1]);
    expect(() => core.clear(reg, [1])).not.toThrow();
    expect(core.size).toBe(0);
    expect(core.get('k')).toBeUndefined();
    core.read(reg, [2]);
    executor.last.succeed('two');
    await vi.advanceTimersByTimeAsync(0);
    expect(core.get('k')).toBe('two');
  });

  it('does not announce the cancelled run of a cleared entry', async () => {
    const { core } = fakeCoordinator({ pollInterval: 0 });
    const reg = core.register(fn, {});
    const heard: UpdateEvent[][] = [];
    core.subscribe(reg.listeners, (events) => heard.push(events));
    core.read(reg, [1]);
    core.clear(reg, [1]);
    await vi.advanceTimersByTimeAsync(10);
    expect(heard).toEqual([]);
  });
});

describe('loader.get(key)', () => {
  it('is the value settled last, whichever entry was created first', async () => {
    const { core, executor } = fakeCoordinator();
    const reg = core.register(fn, { key: 'k' });
    core.read(reg, [1]);
    const first = executor.last;
    core.read(reg, [2]);
    const second = executor.last;
    first.succeed('one');
    await vi.advanceTimersByTimeAsync(0);
    second.succeed('two');
    await vi.advanceTimersByTimeAsync(0);
    expect(core.get('k')).toBe('two');
    core.refresh(reg, [1]);
    executor.last.succeed('one again');
    await vi.advanceTimersByTimeAsync(0);
    expect(core.get('k')).toBe('one again');
  });

  it('does not take the value of a run that finished after its entry expired', async () => {
    const { core, executor } = fakeCoordinator({ ttl: 100 });
    const reg = core.register(fn, { key: 'k' });
    core.read(reg, [1]);
    const run = executor.last;
    await vi.advanceTimersByTimeAsync(500);
    expect(core.size).toBe(0);
    run.succeed('late');
    await vi.advanceTimersByTimeAsync(0);
    expect(core.get('k')).toBeUndefined();
  });
});

describe('a channel', () => {
  it('lives while a wrapper does, even with no entries: a second wrapper shares its subscribers', async () => {
    const { core, executor } = fakeCoordinator({ pollInterval: 0 });
    const first = core.register(fn, { key: 'k' });
    const heard: unknown[] = [];
    core.subscribe(first.listeners, (events) => heard.push(...events.map((e) => e.value)));
    core.read(first, [1]);
    executor.last.succeed('a');
    await vi.advanceTimersByTimeAsync(1);
    core.clear(first, undefined);
    expect(core.size).toBe(0);
    const second = core.register(fn, { key: 'k' });
    expect(second.listeners).toBe(first.listeners);
    core.read(second, [2]);
    executor.last.succeed('b');
    await vi.advanceTimersByTimeAsync(1);
    expect(heard).toEqual(['a', 'b']);
  });
});

describe('arguments as posted', () => {
  it('posts plain arguments as they are, not encoded', () => {
    const { core, executor } = fakeCoordinator();
    const reg = core.register(fn, {});
    core.read(reg, [1, 'two', { three: [3] }]);
    expect(executor.last.request.encoded).toBe(false);
    expect(executor.last.request.args).toEqual([1, 'two', { three: [3] }]);
  });
});

describe('calls made while the hasher loads', () => {
  /** A coordinator from a fresh module graph, whose hasher has not loaded yet. */
  async function fresh(
    executor: Executor = new FakeExecutor(),
  ): Promise<{ core: Coordinator; errors: Error[]; loaded: () => Promise<void> }> {
    vi.resetModules();
    const { Coordinator: FreshCoordinator } = await import('../src/loader.js');
    const { resolveLoaderOptions } = await import('../src/options.js');
    const hash = await import('../src/hash.js');
    const errors: Error[] = [];
    const core = new FreshCoordinator(
      executor,
      resolveLoaderOptions({ threads: 1, onError: (e: Error) => errors.push(e) }),
    );
    expect(hash.hasherReady()).toBe(false);
    return { core, errors, loaded: () => hash.loadHasher() };
  }

  it('wait() resolves with the value once the hasher has loaded and the run settled', async () => {
    const executor = new FakeExecutor();
    const { core, loaded } = await fresh(executor);
    const reg = core.register(fn, {});
    const waiting = core.wait(reg, [new Uint8Array([1, 2])]);
    await loaded();
    await vi.advanceTimersByTimeAsync(0);
    expect(executor.runs).toHaveLength(1);
    executor.last.succeed('done');
    await expect(waiting).resolves.toBe('done');
  });
});
