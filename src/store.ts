/**
 * The entries of one loader: found by identity text, bounded by `maxEntries` (least recently
 * read settled entry goes first; running entries are never evicted) and by `ttl`.
 */

import { Entry } from './entry.js';
import { sameBinaries, type DerivedKey } from './key.js';
import { after, type Timer } from './timers.js';

export class Store {
  /** Identity text -> entry (a chain, when different binary data hashed alike). */
  readonly #entries = new Map<string, Entry>();
  /** Settled entries in read order, oldest first: the only ones eviction may take. */
  readonly #settled = new Set<Entry>();
  #size = 0;
  readonly #maxEntries: number;
  readonly #ttl: number;
  readonly #evict: (entry: Entry) => void;
  #sweepTimer: Timer | undefined;
  #lastTouched: Entry | undefined;

  /** `evict` is told of every entry the bounds remove (it is already out of the store). */
  constructor(maxEntries: number, ttl: number, evict: (entry: Entry) => void) {
    this.#maxEntries = maxEntries;
    this.#ttl = ttl;
    this.#evict = evict;
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

  add(entry: Entry): void {
    const head = this.#entries.get(entry.text);
    if (head) {
      entry.next = head.next;
      head.next = entry;
    } else {
      this.#entries.set(entry.text, entry);
    }
    this.#size++;
  }

  /** Marks a read: the entry becomes the most recently used. */
  touch(entry: Entry, at: number): void {
    entry.lastRead = at;
    // Re-reading the most recent entry (a hot key) needs no reordering.
    if (this.#lastTouched === entry) return;
    this.#lastTouched = entry;
    if (this.#settled.delete(entry)) this.#settled.add(entry);
  }

  running(entry: Entry): void {
    this.#settled.delete(entry);
  }

  /** A run settled: the entry becomes evictable, and the bounds are enforced. */
  settled(entry: Entry): void {
    this.#settled.delete(entry);
    this.#settled.add(entry);
    this.#lastTouched = entry;
    while (this.#size > this.#maxEntries) {
      const oldest = this.#settled.values().next().value;
      if (!oldest) break;
      this.remove(oldest);
      this.#evict(oldest);
    }
    if (this.#ttl !== Infinity && !this.#sweepTimer) this.#scheduleSweep();
  }

  remove(entry: Entry): void {
    this.#settled.delete(entry);
    if (this.#lastTouched === entry) this.#lastTouched = undefined;
    const head = this.#entries.get(entry.text);
    if (head === entry) {
      if (entry.next) this.#entries.set(entry.text, entry.next);
      else this.#entries.delete(entry.text);
    } else {
      let at = head;
      while (at && at.next !== entry) at = at.next;
      if (!at) return;
      at.next = entry.next;
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
   * Entries unread for `ttl` are dropped within a quarter of `ttl` of expiring: one timer for
   * the whole store rather than one per entry.
   */
  #scheduleSweep(): void {
    this.#sweepTimer = after(Math.min(Math.max(this.#ttl / 4, 5), 60_000), () => {
      this.#sweepTimer = undefined;
      const cutoff = performance.now() - this.#ttl;
      for (const entry of [...this.#settled]) {
        if (entry.lastRead <= cutoff) {
          this.remove(entry);
          this.#evict(entry);
        }
      }
      if (this.#settled.size > 0) this.#scheduleSweep();
    });
  }

  stop(): void {
    this.#sweepTimer?.cancel();
    this.#sweepTimer = undefined;
  }
}
