/**
 * Bounds that hold: eviction never hides a settled run from subscribers, recency counts reads
 * only, `ttl` reaches running entries too, `loader.get(key)` keeps nothing past its entries,
 * wrappers of one (function, key) share news, and calls made while the hasher loads keep
 * their order with clear(). Hand-driven executor, fake time.
 */
import { describe, expect, it, vi } from 'vitest';
import type { UpdateEvent } from '../src/entry.js';
import { functionIdentity } from '../src/task-function.js';
import { coordinatorBeforeHasher, useFakeClock, fakeCoordinator } from './fixtures/fake-executor.js';

const fn = { kind: 'inline', source: '(a) => a' } as const;

useFakeClock();

describe('maxEntries', () => {
  it('announces every settled run, even when more runs are in flight than maxEntries', async () => {
    const { core, executor } = fakeCoordinator({ maxEntries: 2, pollInterval: 0 });
    const reg = core.register(fn, {});
    const heard: unknown[] = [];
    core.subscribe(reg.listeners, (events) => heard.push(...events.map((e) => e.value)));
    for (let i = 0; i < 5; i++) core.read(reg, [i]);
    executor.runs.forEach((run, i) => run.succeed(`v${i}`));
    await vi.advanceTimersByTimeAsync(0);
    expect(heard.sort()).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
    expect(core.size).toBe(2);
  });

  it('counts reads only: a settle or a refresh does not make an entry recent', async () => {
    const { core, executor } = fakeCoordinator({ maxEntries: 2 });
    const refreshing = core.register(fn, { refreshEvery: 100 });
    const plain = core.register({ kind: 'inline', source: '(b) => b' }, {});
    core.read(refreshing, ['nobody reads me']);
    executor.last.succeed(1);
    core.read(plain, ['read every time']);
    executor.last.succeed(2);
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 5; i++) {
      // The refreshing entry settles again and again; the plain one is read between.
      expect(core.read(plain, ['read every time'])).toBe(2);
      await vi.advanceTimersByTimeAsync(100);
      executor.last.succeed(1);
      await vi.advanceTimersByTimeAsync(0);
    }
    // A third entry pushes out the least recently *read*: the refreshing one.
    core.read(plain, ['new']);
    executor.last.succeed(3);
    await vi.advanceTimersByTimeAsync(0);
    expect(core.state(plain, ['read every time']).status).toBe('complete');
    expect(core.state(refreshing, ['nobody reads me']).status).toBe('idle');
    // And its refresh stopped with it.
    const runs = executor.runs.length;
    await vi.advanceTimersByTimeAsync(1000);
    expect(executor.runs.length).toBe(runs);
  });
});

describe('ttl', () => {
  it('removes an unread entry even while it is running, and its refresh stops', async () => {
    const { core, executor } = fakeCoordinator({ ttl: 1000 });
    const reg = core.register(fn, { refreshEvery: 200 });
    const waiting = (async () => {
      core.read(reg, [1]);
      return core.wait(reg, [1]);
    })();
    // The run is still in flight when the entry expires.
    await vi.advanceTimersByTimeAsync(1300);
    expect(core.size).toBe(0);
    // A run in flight may finish, and its waiter gets the value...
    executor.last.succeed('late');
    await expect(waiting).resolves.toBe('late');
    // ...but nothing is scheduled after it.
    const runs = executor.runs.length;
    await vi.advanceTimersByTimeAsync(5000);
    expect(executor.runs.length).toBe(runs);
  });

  it('keeps an entry that is read, and expires it within a quarter of ttl after the last read', async () => {
    const { core, executor } = fakeCoordinator({ ttl: 1000 });
    const reg = core.register(fn, {});
    core.read(reg, [1]);
    executor.last.succeed(1);
    for (let i = 0; i < 5; i++) {
      await vi.advanceTimersByTimeAsync(600);
      expect(core.read(reg, [1])).toBe(1);
    }
    await vi.advanceTimersByTimeAsync(999);
    expect(core.size).toBe(1);
    await vi.advanceTimersByTimeAsync(251);
    expect(core.size).toBe(0);
  });
});

describe('loader.get(key)', () => {
  it('lives exactly as long as an entry settled under the key', async () => {
    const { core, executor } = fakeCoordinator({ maxEntries: 1 });
    const reg = core.register(fn, { key: 'report' });
    core.read(reg, [1]);
    executor.last.succeed('one');
    await vi.advanceTimersByTimeAsync(0);
    expect(core.get('report')).toBe('one');
    core.read(reg, [2]);
    executor.last.succeed('two');
    await vi.advanceTimersByTimeAsync(0);
    expect(core.get('report')).toBe('two');
    core.clear(reg, undefined);
    expect(core.get('report')).toBeUndefined();
  });

  it('falls back to the newest remaining entry when the newest is cleared', async () => {
    const { core, executor } = fakeCoordinator();
    const reg = core.register(fn, { key: 'k' });
    core.read(reg, [1]);
    executor.last.succeed('old');
    core.read(reg, [2]);
    executor.last.succeed('new');
    await vi.advanceTimersByTimeAsync(0);
    core.clear(reg, [2]);
    expect(core.get('k')).toBe('old');
  });

  it('is released by ttl and by close()', async () => {
    const { core, executor } = fakeCoordinator({ ttl: 100 });
    const reg = core.register(fn, { key: 'k' });
    core.read(reg, [1]);
    executor.last.succeed('v');
    await vi.advanceTimersByTimeAsync(0);
    expect(core.get('k')).toBe('v');
    await vi.advanceTimersByTimeAsync(200);
    expect(core.get('k')).toBeUndefined();
    core.read(reg, [1]);
    executor.last.succeed('v2');
    await vi.advanceTimersByTimeAsync(0);
    await core.close();
    expect(core.get('k')).toBeUndefined();
  });
});

describe('shared entries, shared news', () => {
  it('every wrapper of the same (function, key) hears runs the other started', async () => {
    const { core, executor } = fakeCoordinator({ pollInterval: 0 });
    const first = core.register(fn, { key: 'k' });
    const second = core.register(fn, { key: 'k' });
    const other = core.register(fn, { key: 'other' });
    const heard: string[] = [];
    core.subscribe(second.listeners, (events: UpdateEvent[]) =>
      heard.push(...events.map((e) => `second:${String(e.value)}`)),
    );
    core.subscribe(other.listeners, (events: UpdateEvent[]) =>
      heard.push(...events.map((e) => `other:${String(e.value)}`)),
    );
    core.read(first, [1]);
    executor.last.succeed('from first');
    await vi.advanceTimersByTimeAsync(0);
    expect(heard).toEqual(['second:from first']);
  });
});

describe('shared entries, one batch', () => {
  it('a listener of two wrappers of one (function, key) is called once per batch, with both runs', async () => {
    const { core, executor } = fakeCoordinator({ pollInterval: 0 });
    const first = core.register(fn, { key: 'k' });
    const second = core.register(fn, { key: 'k' });
    const calls: unknown[][] = [];
    core.subscribe(first.listeners, (events: UpdateEvent[]) => calls.push(events.map((e) => e.value)));
    core.read(first, [1]);
    core.read(second, [2]);
    executor.runs[0]!.succeed('one');
    executor.runs[1]!.succeed('two');
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual([['one', 'two']]);
  });
});

describe('calls made while the hasher loads', () => {
  const fresh = coordinatorBeforeHasher;

  it('a call runs at once, with the values it was made with, and is found again once the hasher is in', async () => {
    const { core, executor, loaded } = await fresh();
    const reg = core.register(fn, {});
    const bytes = new Uint8Array([1, 2, 3]);
    let reads = 0;
    const options = {
      get scale() {
        reads++;
        return 2;
      },
    };
    expect(core.read(reg, [bytes, options])).toBeUndefined();
    bytes[0] = 99; // after the call: changes nothing for it
    expect(executor.runs).toHaveLength(1);
    expect(reads).toBe(1);
    const sent = executor.last.request.args as [Uint8Array, { scale: number }];
    expect([...sent[0]]).toEqual([1, 2, 3]);
    expect(sent[1].scale).toBe(2);
    await loaded();
    await vi.advanceTimersByTimeAsync(0);
    // Re-keyed with its hash: an equal call after the hasher loaded shares the entry.
    expect(core.read(reg, [new Uint8Array([1, 2, 3]), { scale: 2 }])).toBeUndefined();
    expect(executor.runs).toHaveLength(1);
    expect(core.size).toBe(1);
  });

  it('clear() while the hasher loads cancels the run before it starts', async () => {
    const { core, executor, loaded } = await fresh();
    const reg = core.register(fn, {});
    core.read(reg, [new Uint8Array([1])]);
    core.read(reg, [new Uint8Array([2])]);
    core.clear(reg, [new Uint8Array([1])]);
    expect(core.size).toBe(1);
    core.clear(reg, undefined);
    await loaded();
    await vi.advanceTimersByTimeAsync(0);
    expect(core.size).toBe(0);
    expect(executor.runs.every((r) => r.cancelledWith)).toBe(true);
  });
});

describe('function identity', () => {
  it('tells apart module tasks whose URL and export name split differently', () => {
    const url = 'file:///tasks.js';
    expect(functionIdentity({ kind: 'module', url: `${url}#x`, exportName: 'y' })).not.toBe(
      functionIdentity({ kind: 'module', url, exportName: 'x#y' }),
    );
  });
});

describe('calls of one string or number, found by the value itself', () => {
  it('NaN shares an entry with NaN; 0 and -0, 1 and "1" do not share', () => {
    const { core, executor } = fakeCoordinator();
    const reg = core.register(fn, {});
    for (const value of [NaN, NaN, 0, -0, 1, '1', '', 'NaN']) core.read(reg, [value]);
    expect(core.size).toBe(7);
    expect(executor.runs.map((r) => r.request.args[0])).toEqual([NaN, 0, -0, 1, '1', '', 'NaN']);
  });
});
