/**
 * How the store dates reads for `ttl`: performance.now() is read once and reused for the reads
 * of the next millisecond, and reads made while the event loop was blocked are dated late
 * (when it runs again), never early. Real time: what is tested is a blocked event loop.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Entry } from '../src/entry.js';
import type { Registration } from '../src/registration.js';
import { Store } from '../src/store.js';

const registration = { options: {} } as unknown as Registration;
const entry = (text: string): Entry =>
  new Entry(registration, { text, single: undefined }, [text], undefined, [text], false);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

const stores: Store[] = [];
function store(ttl: number): { store: Store; expired: string[] } {
  const expired: string[] = [];
  const s = new Store(100, ttl, (e) => expired.push(e.text));
  stores.push(s);
  return { store: s, expired };
}

afterEach(() => {
  for (const s of stores.splice(0)) s.stop();
  vi.restoreAllMocks();
});

describe('the time of a read', () => {
  it('is read from the clock once for the reads of one moment', () => {
    const { store: s } = store(60_000);
    const a = entry('a');
    s.add(a);
    const now = vi.spyOn(performance, 'now');
    for (let i = 0; i < 1000; i++) s.touch(a);
    expect(now.mock.calls.length).toBeLessThanOrEqual(2);
  });

  it('is not read at all without ttl', () => {
    const { store: s } = store(Infinity);
    const a = entry('a');
    s.add(a);
    const now = vi.spyOn(performance, 'now');
    s.touch(a);
    expect(now).not.toHaveBeenCalled();
  });

  it('of a read made late in a blocked event loop is not its first read’s: the entry lives on', async () => {
    const { store: s, expired } = store(200);
    const a = entry('a');
    s.add(a);
    s.touch(a);
    // Longer than ttl without a turn of the event loop, then a read at its very end.
    block(300);
    s.touch(a);
    // The sweeps (every 50 ms, one due during the block) find it read just now, not 300 ms ago.
    await sleep(20);
    expect(expired).toEqual([]);
    expect(s.size).toBe(1);
    // Unread from here on, it goes.
    await sleep(400);
    expect(expired).toEqual(['a']);
  });

  it('keeps dating a blocked read late after many more late clocks (they are merged, never dropped)', async () => {
    const { store: s, expired } = store(1000);
    const a = entry('a');
    const x = entry('x');
    s.add(a);
    s.add(x);
    s.touch(x);
    block(1100);
    s.touch(a);
    // Eighty more blocked moments, each read at its end: more late clocks than are kept apart.
    for (let i = 0; i < 80; i++) {
      await sleep(0);
      s.touch(x);
      block(3);
      s.touch(x);
    }
    // a was read some 300-600 ms ago, though its clock says 1,400 ms and more.
    await sleep(300);
    expect(expired).toEqual([]);
    await sleep(1300);
    expect(expired.sort()).toEqual(['a', 'x']);
  });
});
