/**
 * The entries of one loader: found by identity text, bounded by `maxEntries` and by `ttl`.
 * Both bounds go by reads only (calls, state(), wait()): a run settling or refreshing is not
 * a read, so an entry that refreshes on its own and that nobody reads ages like any other.
 */

import { Entry } from './entry.js';
import { sameBinaries, type DerivedKey } from './key.js';
import { after, type Timer } from './timers.js';

/**
 * A clock timer this late means the event loop was blocked: the reads dated by that clock may
 * have happened any time until it fired.
 */
const LATE_CLOCK_MS = 2;
/** Late clocks remembered at most (more are merged, dating their reads later). */
const MAX_LATE = 64;

/** Why the store let an entry go. */
export type Removal = 'evicted' | 'expired';

export class Store {
  /** Identity text -> entry (a chain, when different binary data hashed alike). */
  readonly #entries = new Map<string, Entry>();
  /** Calls of one string or number: prefix -> value -> entry (see DerivedKey.single). */
  readonly #singles = new Map<string, Map<string | number, Entry>>();
  /** Every entry. Read order is kept by `readSeq` (for eviction) and `lastRead` (for ttl). */
  readonly #all = new Set<Entry>();
  readonly #maxEntries: number;
  readonly #ttl: number;
  readonly #release: (entry: Entry, why: Removal) => void;
  #sweepTimer: Timer | undefined;
  /**
   * Entries that may be evicted (settled), least recently read first: a min-heap on each
   * entry's read sequence as it was when it went in, corrected lazily. A read only bumps the
   * entry's `readSeq`; an entry whose key is out of date is sifted to its place when it
   * surfaces. Each entry is in it at most once and leaves it when it leaves the store, so it
   * keeps nothing alive. Scanning the read order for the first entry not running instead cost
   * quadratic time with thousands of runs in flight past `maxEntries` (dispatch fell to a
   * fifth of raw Piscina's rate).
   */
  readonly #evictable = new EntryHeap();
  #readSeq = 0;
  /** The time reads are dated at now, or -1 (see #readTime); `#clockSeq` is #readSeq when it was read. */
  #clock = -1;
  #clockSeq = 0;
  #clockTimer: Timer | undefined;
  /**
   * Reads dated by a clock whose timer fired late: those after `afterSeq` up to `upToSeq` may
   * have happened as late as `at`. Oldest first; kept until no sweep can need them.
   */
  #late: { afterSeq: number; upToSeq: number; at: number }[] = [];

  /** `release` is told of every entry the bounds remove (it is already out of the store). */
  constructor(maxEntries: number, ttl: number, release: (entry: Entry, why: Removal) => void) {
    this.#maxEntries = maxEntries;
    this.#ttl = ttl;
    this.#release = release;
  }

  get size(): number {
    return this.#all.size;
  }

  find(key: DerivedKey): Entry | undefined {
    if (key.single) return this.#singles.get(key.single.prefix)?.get(key.single.value);
    let entry = this.#entries.get(key.text);
    if (!key.binaries) return entry;
    // Binary data stands in the text only by its hash: verify the bytes themselves.
    while (entry && !sameBinaries(entry.binaries, key.binaries)) entry = entry.next;
    return entry;
  }

  /** Adds a new entry (its creation counts as its first read), then enforces `maxEntries`. */
  add(entry: Entry): void {
    this.#link(entry);
    this.#all.add(entry);
    entry.readSeq = ++this.#readSeq;
    this.#enforce();
    if (this.#ttl !== Infinity && !this.#sweepTimer) this.#scheduleSweep();
  }

  /** Moves an entry to another key text (a provisional key made final), keeping its place. */
  rekey(entry: Entry, text: string): void {
    if (!this.#all.has(entry) || entry.single) return;
    this.#unlink(entry);
    entry.text = text;
    this.#link(entry);
  }

  #link(entry: Entry): void {
    const { single } = entry;
    if (single) {
      let values = this.#singles.get(single.prefix);
      if (!values) this.#singles.set(single.prefix, (values = new Map()));
      values.set(single.value, entry);
      return;
    }
    const head = this.#entries.get(entry.text);
    if (head) {
      entry.next = head.next;
      head.next = entry;
    } else {
      this.#entries.set(entry.text, entry);
    }
  }

  #unlink(entry: Entry): void {
    const { single } = entry;
    if (single) {
      const values = this.#singles.get(single.prefix)!;
      values.delete(single.value);
      if (values.size === 0) this.#singles.delete(single.prefix);
      return;
    }
    const head = this.#entries.get(entry.text);
    if (head === entry) {
      if (entry.next) this.#entries.set(entry.text, entry.next);
      else this.#entries.delete(entry.text);
    } else {
      let at = head;
      while (at && at.next !== entry) at = at.next;
      if (at) at.next = entry.next;
    }
    entry.next = undefined;
  }

  /**
   * Marks a read: the entry becomes the most recently used. Two numbers, nothing moved: this is
   * on every cache hit (reordering a Set here cost a fifth of a hit, measured).
   */
  touch(entry: Entry, at: number = this.#readTime()): void {
    entry.lastRead = at;
    entry.readSeq = ++this.#readSeq;
  }

  /**
   * The time of a read, for `ttl` (0 without one). performance.now() costs a tenth of a cache
   * hit, so a read reuses the time the read before it took until a timer forgets it 1 ms later
   * (as lru-cache does). When the event loop was blocked, that timer fires late, and the reads
   * made meanwhile may have happened any time until then: #forgetClock notes how late, and the
   * sweep counts such reads as made then. A read is thus dated at most LATE_CLOCK_MS early,
   * however long the event loop was blocked.
   */
  #readTime(): number {
    if (this.#ttl === Infinity) return 0;
    if (this.#clock >= 0) return this.#clock;
    this.#clock = performance.now();
    this.#clockSeq = this.#readSeq;
    this.#clockTimer = after(1, this.#forgetClock);
    return this.#clock;
  }

  readonly #forgetClock = (): void => {
    this.#clockTimer?.cancel();
    this.#clockTimer = undefined;
    const now = performance.now();
    if (now - this.#clock > LATE_CLOCK_MS && this.#readSeq > this.#clockSeq) {
      const late = this.#late;
      if (late.length >= MAX_LATE) {
        // Merged with the one before: its reads are dated later, never earlier.
        const last = late.pop()!;
        late[late.length - 1]!.upToSeq = last.upToSeq;
        late[late.length - 1]!.at = last.at;
      }
      late.push({ afterSeq: this.#clockSeq, upToSeq: this.#readSeq, at: now });
    }
    this.#clock = -1;
  };

  /** The latest an entry's last read may have happened, by the late clocks; -1 if none dated it. */
  #lateRead(entry: Entry): number {
    const seq = entry.readSeq;
    for (const span of this.#late) if (seq > span.afterSeq && seq <= span.upToSeq) return span.at;
    return -1;
  }

  /**
   * A run settled (and has been announced): the entry may now be evicted, so the bound is
   * enforced. Its place in the read order does not change.
   */
  settled(entry: Entry): void {
    if (this.#maxEntries === Infinity) return;
    this.#evictable.insert(entry);
    this.#enforce();
  }

  /** Past `maxEntries`, the least recently read entries that are not running go first. */
  #enforce(): void {
    while (this.#all.size > this.#maxEntries) {
      const entry = this.#evictable.peek();
      if (!entry) return;
      if (entry.heapKey !== entry.readSeq) {
        // Read since it went in: to its place by its latest read, and look again.
        this.#evictable.rekey(entry);
        continue;
      }
      this.#evictable.delete(entry);
      // Running again: it goes back in when that run settles.
      if (entry.run) continue;
      this.remove(entry);
      this.#release(entry, 'evicted');
    }
  }

  remove(entry: Entry): void {
    if (!this.#all.delete(entry)) return;
    this.#evictable.delete(entry);
    this.#unlink(entry);
  }

  *all(): IterableIterator<Entry> {
    yield* this.#all;
  }

  /**
   * Entries unread for `ttl`, running or not, are dropped within a quarter of `ttl` of
   * expiring: one timer for the whole store rather than one per entry, looking at every entry
   * (reads keep no order, so that a hit stays two assignments).
   */
  #scheduleSweep(): void {
    this.#sweepTimer = after(Math.min(Math.max(this.#ttl / 4, 5), 60_000), () => {
      this.#sweepTimer = undefined;
      // Reads dated by a clock whose timer has not fired yet (it may be as late as this one).
      if (this.#clock >= 0) this.#forgetClock();
      const cutoff = performance.now() - this.#ttl;
      for (const entry of [...this.#all]) {
        if (entry.lastRead > cutoff || (this.#late.length > 0 && this.#lateRead(entry) > cutoff)) continue;
        this.remove(entry);
        this.#release(entry, 'expired');
      }
      // A late clock older than the cutoff can no longer keep anything.
      if (this.#late.length > 0) this.#late = this.#late.filter((span) => span.at > cutoff);
      if (this.#all.size > 0) this.#scheduleSweep();
    });
  }

  stop(): void {
    this.#sweepTimer?.cancel();
    this.#sweepTimer = undefined;
    this.#clockTimer?.cancel();
    this.#clockTimer = undefined;
    this.#clock = -1;
    this.#late = [];
  }
}

/** A min-heap of entries on `heapKey`, each entry knowing its index (so it can leave in O(log n)). */
class EntryHeap {
  readonly #items: Entry[] = [];

  peek(): Entry | undefined {
    return this.#items[0];
  }

  insert(entry: Entry): void {
    if (entry.heapIndex >= 0) return;
    entry.heapKey = entry.readSeq;
    entry.heapIndex = this.#items.length;
    this.#items.push(entry);
    this.#up(entry.heapIndex);
  }

  /** Takes the entry's current read sequence as its key (keys only grow: it sinks). */
  rekey(entry: Entry): void {
    entry.heapKey = entry.readSeq;
    this.#down(entry.heapIndex);
  }

  delete(entry: Entry): void {
    const i = entry.heapIndex;
    if (i < 0) return;
    entry.heapIndex = -1;
    const last = this.#items.pop()!;
    if (last === entry) return;
    this.#items[i] = last;
    last.heapIndex = i;
    this.#up(i);
    this.#down(last.heapIndex);
  }

  #swap(i: number, j: number): void {
    const items = this.#items;
    const a = items[i]!;
    const b = items[j]!;
    items[i] = b;
    items[j] = a;
    a.heapIndex = j;
    b.heapIndex = i;
  }

  #up(i: number): void {
    const items = this.#items;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]!.heapKey <= items[i]!.heapKey) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const items = this.#items;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) return;
      const right = left + 1;
      const child = right < items.length && items[right]!.heapKey < items[left]!.heapKey ? right : left;
      if (items[i]!.heapKey <= items[child]!.heapKey) return;
      this.#swap(i, child);
      i = child;
    }
  }
}
