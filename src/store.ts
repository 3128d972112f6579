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
  /** Every entry, least recently read first (a Set iterates in insertion order). */
  readonly #byRead = new Set<Entry>();
  #size = 0;
  readonly #maxEntries: number;
  readonly #ttl: number;
  readonly #release: (entry: Entry, why: Removal) => void;
  #sweepTimer: Timer | undefined;
  /** The most recently read entry: reading it again (a hot key) needs no reordering. */
  #lastTouched: Entry | undefined;

  /** `release` is told of every entry the bounds remove (it is already out of the store). */
  constructor(maxEntries: number, ttl: number, release: (entry: Entry, why: Removal) => void) {
    this.#maxEntries = maxEntries;
    this.#ttl = ttl;
    this.#release = release;
  }

  get size(): number {
    return this.#size;
  }

  find(key: DerivedKey): Entry | undefined {
    let entry = this.#entries.get(key.text);
    if (!key.binaries) return entry;
    // Binary data stands in the text only by its hash: verify the bytes themselves.
    while (entry && !sameBinaries(entry.binaries, key.binaries)) entry = entry.next;
    return entry;
  }

  /** Adds a new entry (its creation counts as its first read), then enforces `maxEntries`. */
  add(entry: Entry): void {
    const head = this.#entries.get(entry.text);
    if (head) {
      entry.next = head.next;
      head.next = entry;
    } else {
      this.#entries.set(entry.text, entry);
    }
    this.#size++;
    this.#byRead.add(entry);
    this.#lastTouched = entry;
    this.#enforce();
    if (this.#ttl !== Infinity && !this.#sweepTimer) this.#scheduleSweep();
  }

  /** Marks a read: the entry becomes the most recently used. */
  touch(entry: Entry, at: number): void {
    entry.lastRead = at;
    // Stryker disable next-line ConditionalExpression: a speed-up only: moving the most recent entry to the end leaves the order as it was
    if (this.#lastTouched === entry) return;
    this.#lastTouched = entry;
    if (this.#byRead.delete(entry)) this.#byRead.add(entry);
  }

  /**
   * A run settled (and has been announced): the entry may now be evicted, so the bound is
   * enforced. Its place in the read order does not change.
   */
  settled(): void {
    this.#enforce();
  }

  /** Past `maxEntries`, the least recently read entries that are not running go first. */
  #enforce(): void {
    if (this.#size <= this.#maxEntries) return;
    for (const entry of this.#byRead) {
      if (this.#size <= this.#maxEntries) return;
      if (entry.run) continue;
      this.remove(entry);
      this.#release(entry, 'evicted');
    }
  }

  remove(entry: Entry): void {
    if (!this.#byRead.delete(entry)) return;
    // Stryker disable next-line ConditionalExpression: a removed entry is never touched again, so a stale #lastTouched changes nothing
    if (this.#lastTouched === entry) this.#lastTouched = undefined;
    const head = this.#entries.get(entry.text);
    if (head === entry) {
      if (entry.next) this.#entries.set(entry.text, entry.next);
      else this.#entries.delete(entry.text);
    } else {
      let at = head;
      while (at && at.next !== entry) at = at.next;
      // Stryker disable next-line ConditionalExpression: defensive: an entry in #byRead is always in its chain
      if (at) at.next = entry.next;
    }
    entry.next = undefined;
    this.#size--;
  }

  *all(): IterableIterator<Entry> {
    for (const head of this.#entries.values()) {
      for (let e: Entry | undefined = head; e; e = e.next) yield e;
    }
  }

  /**
   * Entries unread for `ttl`, running or not, are dropped within a quarter of `ttl` of
   * expiring: one timer for the whole store rather than one per entry. The read order is
   * also the order of `lastRead`, so the sweep stops at the first entry still fresh.
   */
  #scheduleSweep(): void {
    this.#sweepTimer = after(Math.min(Math.max(this.#ttl / 4, 5), 60_000), () => {
      this.#sweepTimer = undefined;
      const cutoff = performance.now() - this.#ttl;
      for (const entry of this.#byRead) {
        if (entry.lastRead > cutoff) break;
        this.remove(entry);
        this.#release(entry, 'expired');
      }
      if (this.#size > 0) this.#scheduleSweep();
    });
  }

  stop(): void {
    this.#sweepTimer?.cancel();
    this.#sweepTimer = undefined;
  }
}
