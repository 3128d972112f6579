/**
 * The store on its own, with fake time: `maxEntries` evicts the least recently *read* entry
 * (not the oldest), skips running ones until they settle, `ttl` drops entries unread for that
 * long with one sweep timer per store, and entries whose binary data hashed alike live side by
 * side.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Entry } from '../src/entry.js';
import type { RunHandle } from '../src/executor.js';
import type { Registration } from '../src/registration.js';
import { Store, type Removal } from '../src/store.js';

const registration = { options: {} } as unknown as Registration;

function entry(text: string, binaries?: Uint8Array[]): Entry {
  return new Entry(registration, { text, single: undefined }, [text], binaries, [text], false);
}

const running: RunHandle = { startedAt: () => undefined, cancel: () => undefined };

/** A store that records what its bounds removed, in order. */
function store(maxEntries: number, ttl = Infinity): { store: Store; removed: [string, Removal][] } {
  const removed: [string, Removal][] = [];
  return { store: new Store(maxEntries, ttl, (e, why) => removed.push([e.text, why])), removed };
}

/** An entry whose run has settled, as the coordinator adds them: added, then settled. */
function addIdle(s: Store, e: Entry): void {
  s.add(e);
  s.settled(e);
}

function texts(s: Store): string[] {
  return [...s.all()].map((e) => e.text).sort();
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('maxEntries', () => {
  it('evicts the least recently read entry, not the oldest', () => {
    const { store: s, removed } = store(2);
    const a = entry('a');
    const b = entry('b');
    addIdle(s, a);
    addIdle(s, b);
    s.touch(a, performance.now());
    addIdle(s, entry('c'));
    expect(removed).toEqual([['b', 'evicted']]);
    expect(texts(s)).toEqual(['a', 'c']);
    expect(s.size).toBe(2);
  });

  it('keeps a hot key (read again and again) in front of entries read once', () => {
    const { store: s, removed } = store(3);
    const [a, b, c] = [entry('a'), entry('b'), entry('c')];
    addIdle(s, a);
    addIdle(s, b);
    addIdle(s, c);
    s.touch(b, 1);
    s.touch(a, 2);
    s.touch(a, 3);
    s.touch(a, 4);
    addIdle(s, entry('d'));
    addIdle(s, entry('e'));
    expect(removed).toEqual([
      ['c', 'evicted'],
      ['b', 'evicted'],
    ]);
    expect(texts(s)).toEqual(['a', 'd', 'e']);
  });

  it('skips running entries and evicts them once their run has settled', () => {
    const { store: s, removed } = store(1);
    const a = entry('a');
    a.run = running;
    s.add(a);
    addIdle(s, entry('b'));
    expect(removed).toEqual([['b', 'evicted']]);
    const c = entry('c');
    c.run = running;
    s.add(c);
    // Both remaining entries run: the bound waits for them.
    expect(s.size).toBe(2);
    expect(removed).toHaveLength(1);
    a.run = undefined;
    s.settled(a);
    expect(removed).toEqual([
      ['b', 'evicted'],
      ['a', 'evicted'],
    ]);
    expect(texts(s)).toEqual(['c']);
    expect(s.size).toBe(1);
  });

  it('removes an entry once: removing it again changes nothing', () => {
    const { store: s } = store(10);
    const a = entry('a');
    s.add(a);
    s.add(entry('b'));
    s.remove(a);
    s.remove(a);
    expect(s.size).toBe(1);
    expect(texts(s)).toEqual(['b']);
    expect(s.find({ text: 'a', binaries: undefined })).toBeUndefined();
  });

  it('does not resurrect a removed entry that was the last one read', () => {
    const { store: s, removed } = store(2);
    const a = entry('a');
    const b = entry('b');
    addIdle(s, a);
    addIdle(s, b);
    s.touch(a, 1);
    s.remove(a);
    s.touch(b, 2);
    addIdle(s, entry('c'));
    addIdle(s, entry('d'));
    expect(removed).toEqual([['b', 'evicted']]);
    expect(texts(s)).toEqual(['c', 'd']);
  });
});

describe('entries whose binary data hashed alike', () => {
  const bytes = (n: number): Uint8Array => new Uint8Array([n, n, n]);

  it('are found by their bytes, each in its own entry', () => {
    const { store: s } = store(10);
    const [x, y, z] = [entry('h', [bytes(1)]), entry('h', [bytes(2)]), entry('h', [bytes(3)])];
    s.add(x);
    s.add(y);
    s.add(z);
    expect(s.size).toBe(3);
    expect(s.find({ text: 'h', binaries: [bytes(1)] })).toBe(x);
    expect(s.find({ text: 'h', binaries: [bytes(2)] })).toBe(y);
    expect(s.find({ text: 'h', binaries: [bytes(3)] })).toBe(z);
    expect(s.find({ text: 'h', binaries: [bytes(4)] })).toBeUndefined();
    expect([...s.all()]).toHaveLength(3);
  });

  it('stay findable when one of them leaves, whether first, middle or last of the chain', () => {
    for (const leaving of [1, 2, 3]) {
      const { store: s } = store(10);
      const all = [1, 2, 3].map((n) => entry('h', [bytes(n)]));
      for (const e of all) s.add(e);
      s.remove(all[leaving - 1]!);
      for (const n of [1, 2, 3]) {
        const found = s.find({ text: 'h', binaries: [bytes(n)] });
        if (n === leaving) expect(found, `${n} after removing ${leaving}`).toBeUndefined();
        else expect(found, `${n} after removing ${leaving}`).toBe(all[n - 1]);
      }
      expect([...s.all()]).toHaveLength(2);
      expect(s.size).toBe(2);
    }
  });

  it('all go when each is removed', () => {
    const { store: s } = store(10);
    const all = [1, 2].map((n) => entry('h', [bytes(n)]));
    for (const e of all) s.add(e);
    s.remove(all[1]!);
    s.remove(all[0]!);
    expect([...s.all()]).toEqual([]);
    expect(s.find({ text: 'h', binaries: [bytes(1)] })).toBeUndefined();
  });
});

describe('ttl', () => {
  it('drops entries unread for ttl, keeps those read since, and sweeps again until empty', async () => {
    const { store: s, removed } = store(100, 1000);
    const a = entry('a');
    const b = entry('b');
    s.add(a);
    s.touch(a, performance.now());
    s.add(b);
    s.touch(b, performance.now());
    await vi.advanceTimersByTimeAsync(600);
    s.touch(b, performance.now());
    await vi.advanceTimersByTimeAsync(650);
    expect(removed).toEqual([['a', 'expired']]);
    expect(texts(s)).toEqual(['b']);
    // b was read at 600: it expires by 1600 + a quarter of ttl.
    await vi.advanceTimersByTimeAsync(600);
    expect(removed).toEqual([
      ['a', 'expired'],
      ['b', 'expired'],
    ]);
    expect(s.size).toBe(0);
    // An empty store holds no timer.
    expect(vi.getTimerCount()).toBe(0);
  });

  it('drops an entry unread for exactly ttl', async () => {
    const { store: s, removed } = store(100, 1000);
    const a = entry('a');
    s.add(a);
    s.touch(a, performance.now());
    // Sweeps every 250 ms: the one at 1000 ms finds it unread for exactly ttl.
    await vi.advanceTimersByTimeAsync(1000);
    expect(removed).toEqual([['a', 'expired']]);
  });

  it('keeps one sweep timer for the whole store, and none without ttl', () => {
    const { store: s } = store(100, 1000);
    for (const t of ['a', 'b', 'c']) s.add(entry(t));
    expect(vi.getTimerCount()).toBe(1);
    s.stop();
    expect(vi.getTimerCount()).toBe(0);
    const { store: forever } = store(100);
    forever.add(entry('a'));
    expect(vi.getTimerCount()).toBe(0);
  });

  it('sweeps at least every 60 s however long ttl is, and at most every 5 ms however short', async () => {
    const hour = 3_600_000;
    const { store: long, removed } = store(100, hour);
    const a = entry('a');
    await vi.advanceTimersByTimeAsync(1);
    long.add(a);
    long.touch(a, performance.now());
    await vi.advanceTimersByTimeAsync(hour + 60_000);
    expect(removed).toEqual([['a', 'expired']]);
    long.stop();

    const { store: short } = store(100, 8);
    const b = entry('b');
    short.add(b);
    expect(vi.getTimerCount()).toBe(1);
    // Read b all along so it never expires, and count the sweeps over 50 ms.
    let sweeps = 0;
    const start = performance.now();
    while (performance.now() - start < 50) {
      short.touch(b, performance.now());
      vi.advanceTimersToNextTimer();
      sweeps++;
    }
    expect(short.size).toBe(1);
    expect(sweeps).toBeLessThanOrEqual(10);
    short.stop();
  });
});
