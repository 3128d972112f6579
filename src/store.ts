/**
 * The entries of one loader: found by identity text, bounded by `maxEntries` and by `ttl`.
 * Both bounds go by reads only (calls, state(), wait()): a run settling or refreshing is not
 * a read, so an entry that refreshes on its own and that nobody reads ages like any other.
 */

import { Entry } from './entry.js';
import { sameBinaries, type DerivedKey } from './key.js';
import { after, type Timer } from './timers.js';

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
    // Stryker disable next-line ConditionalExpression: without binaries on either side, sameBinaries() is true for the first entry, which is returned
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
    // Stryker disable next-line ConditionalExpression,LogicalOperator: defensive: only provisional entries (binary, never single) still in the store are re-keyed
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
      // Stryker disable next-line ConditionalExpression: defensive: an entry being unlinked is always in its chain
      if (at) at.next = entry.next;
    }
    entry.next = undefined;
  }

  /**
   * Marks a read: the entry becomes the most recently used. Two numbers, nothing moved: this is
   * on every cache hit (reordering a Set here cost a fifth of a hit, measured).
   */
  touch(entry: Entry, at: number): void {
    entry.lastRead = at;
    entry.readSeq = ++this.#readSeq;
  }

  /**
   * A run settled (and has been announced): the entry may now be evicted, so the bound is
   * enforced. Its place in the read order does not change.
   */
  settled(entry: Entry): void {
    // Stryker disable next-line ConditionalExpression: without a bound nothing is evicted; the heap would only cost memory and time
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
      const cutoff = performance.now() - this.#ttl;
      for (const entry of [...this.#all]) {
        if (entry.lastRead > cutoff) continue;
        this.remove(entry);
        this.#release(entry, 'expired');
      }
      if (this.#all.size > 0) this.#scheduleSweep();
    });
  }

  stop(): void {
    this.#sweepTimer?.cancel();
    this.#sweepTimer = undefined;
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
      // Stryker disable next-line EqualityOperator: read numbers are unique: no two keys are equal
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
      // Stryker disable next-line EqualityOperator: read numbers are unique: no two keys are equal
      const child = right < items.length && items[right]!.heapKey < items[left]!.heapKey ? right : left;
      // Stryker disable next-line EqualityOperator: read numbers are unique: no two keys are equal
      if (items[i]!.heapKey <= items[child]!.heapKey) return;
      this.#swap(i, child);
      i = child;
    }
  }
}
