/**
 * One loader's memo of key texts already made for the commonest calls: a single string or
 * number, or a single flat object (an options bag, a query). A Map keyed by a freshly built
 * string must flatten and hash it on every lookup (about half the cost of a cached call,
 * measured); primitive keys and the memo's own strings (hash computed once) are cheap.
 *
 * It belongs to one loader, holds only values the key walk has already read (never the
 * caller's objects), is bounded in bytes, and is emptied by clear() and dropped by close().
 */

/** A flat object's keys in the order it listed them, sorted, and as the walker labels them. */
export interface Layout {
  order: string[];
  sorted: string[];
  labels: string[];
}

/** Rough heap cost of a string of this length plus its Map slot (UTF-16, headers). */
const bytesOf = (length: number): number => length * 2 + 48;

const LEAF = Symbol('text');

export class KeyMemo {
  /** Prefix (the channel) -> single value -> text, or layout -> value -> ... -> LEAF -> text. */
  #roots = new Map<string, Map<unknown, unknown>>();
  #bytes = 0;
  readonly #budget: number;
  /** Calls with objects of one shape list the same keys in the same order: reuse its sort. */
  #lastLayout: Layout | undefined;

  /** `budget`: bytes of text (and the values in it) kept before the memo starts again. */
  constructor(budget = 1 << 20) {
    this.#budget = budget;
  }

  /** The text made before for this single string or number argument. */
  single(prefix: string, value: string | number): string | undefined {
    return this.#roots.get(prefix)?.get(value) as string | undefined;
  }

  rememberSingle(prefix: string, value: string | number, text: string): void {
    const cost = bytesOf(text.length) + (typeof value === 'string' ? bytesOf(value.length) : 0);
    if (!this.#admit(cost)) return;
    this.#root(prefix).set(value, text);
  }

  /** The text made before for a flat object with this layout and these values (in sorted key order). */
  flat(prefix: string, layout: Layout, values: readonly unknown[]): string | undefined {
    let level = this.#roots.get(prefix)?.get(layout) as Map<unknown, unknown> | undefined;
    for (let i = 0; level && i < values.length; i++)
      level = level.get(values[i]) as Map<unknown, unknown> | undefined;
    return level?.get(LEAF) as string | undefined;
  }

  rememberFlat(prefix: string, layout: Layout, values: readonly unknown[], text: string): void {
    // The text spells out every value, so twice its size bounds the text plus the values kept.
    if (!this.#admit(2 * bytesOf(text.length) + values.length * 48)) return;
    let level = child(this.#root(prefix), layout);
    for (const value of values) level = child(level, value);
    level.set(LEAF, text);
  }

  layoutOf(order: string[], sortKeys: (keys: string[]) => string[], label: (key: string) => string): Layout {
    const last = this.#lastLayout;
    if (last && last.order.length === order.length) {
      let same = true;
      // Stryker disable next-line EqualityOperator: lengths are equal here, so the extra step compares undefined with undefined
      for (let i = 0; i < order.length; i++) {
        // Property names are interned strings: this comparison is pointer-cheap.
        if (last.order[i] !== order[i]) {
          same = false;
          break;
        }
      }
      if (same) return last;
    }
    const sorted = sortKeys([...order]);
    this.#lastLayout = { order, sorted, labels: sorted.map(label) };
    return this.#lastLayout;
  }

  clear(): void {
    this.#roots = new Map();
    this.#bytes = 0;
    this.#lastLayout = undefined;
  }

  /** Counts `cost` in, starting again when the budget would be passed; false if it never fits. */
  #admit(cost: number): boolean {
    if (cost > this.#budget / 4) return false;
    this.#bytes += cost;
    if (this.#bytes > this.#budget) {
      this.clear();
      this.#bytes = cost;
    }
    return true;
  }

  #root(prefix: string): Map<unknown, unknown> {
    let root = this.#roots.get(prefix);
    if (!root) this.#roots.set(prefix, (root = new Map()));
    return root;
  }
}

function child(level: Map<unknown, unknown>, key: unknown): Map<unknown, unknown> {
  let next = level.get(key) as Map<unknown, unknown> | undefined;
  if (!next) level.set(key, (next = new Map()));
  return next;
}
