/**
 * One loader's memo of key texts already made, for the calls a server repeats: arguments
 * made of primitives, plain objects and short dense arrays, a few levels deep (a number, a
 * string, an options bag, a query with a nested filter, a few mixed arguments).
 *
 * Building the canonical text and then finding it in a Map costs a string build, a flatten and
 * a hash on every call. Instead, a call is read once into a sequence of tokens (an object's
 * layout, an array's length, each primitive leaf), and the tokens walk a trie (TrieNode) to the
 * key made before. Layouts and length markers are objects, so they can never be mistaken for
 * a leaf value; primitive keys and the memo's own strings (hash computed once) are cheap.
 *
 * It belongs to one loader, holds only values the key walk has already read (never the
 * caller's objects), is bounded in bytes, and is emptied by clear() and dropped by close().
 */

import type { DerivedKey } from './key.js';

/** A plain object's keys in the order it listed them, sorted, and as the key text labels them. */
export interface Layout {
  readonly order: readonly string[];
  readonly sorted: readonly string[];
  /** For each key in sorted order, its place in `order`. */
  readonly sortedAt: readonly number[];
  readonly labels: readonly string[];
}

/** Rough heap cost of a string of this length plus its Map slot (UTF-16, headers). */
const stringBytes = (length: number): number => length * 2 + 48;
/** Rough heap cost of one trie node (a Map with one entry). */
const NODE_BYTES = 160;

/** Where a layout trie node keeps its layout. */
const LEAF = Symbol('layout');
/** What no token is: the token slot of a node that leads nowhere yet. */
const NO_TOKEN = Symbol('none');

/**
 * A node of the key trie. Most nodes have one child (calls of one shape differ in a few
 * leaves), so the first child is kept beside its token and found by comparing with it: a
 * fresh string from the caller is compared, not hashed, and no Map is probed. A second child
 * moves them into a Map. Tokens match as Map keys do (SameValueZero: NaN is NaN; -0 never
 * arrives, the reader gives it a token of its own).
 */
export class TrieNode {
  #token: unknown = NO_TOKEN;
  #child: TrieNode | undefined;
  #children: Map<unknown, TrieNode> | undefined;
  /** The key this path leads to (frozen, shared by every hit). */
  key: DerivedKey | undefined;

  next(token: unknown): TrieNode | undefined {
    const children = this.#children;
    if (children !== undefined) return children.get(token);
    const own = this.#token;
    return own === token || (own !== own && token !== token) ? this.#child : undefined;
  }

  /** The child for `token`, made if there is none. */
  at(token: unknown): TrieNode {
    const found = this.next(token);
    if (found) return found;
    const made = new TrieNode();
    // Stryker disable next-line ConditionalExpression: a node that always used a Map finds the same children, only slower
    if (this.#token === NO_TOKEN) {
      this.#token = token;
      this.#child = made;
    } else {
      if (!this.#children) {
        this.#children = new Map([[this.#token, this.#child!]]);
        this.#token = undefined;
        this.#child = undefined;
      }
      this.#children.set(token, made);
    }
    return made;
  }
}

export class KeyMemo {
  /** Prefix (the channel) -> a trie of tokens, ending at the key. */
  #roots = new Map<string, TrieNode>();
  /** Key names in listed order -> ... -> LEAF -> Layout. */
  #layouts = new Map<unknown, unknown>();
  /** The layout last seen with each first key: most calls repeat a shape, and this skips the trie. */
  #byFirstKey = new Map<string, Layout>();
  /** The last layout too big for the budget (see layoutOf); one at most. */
  #bigLayout: Layout | undefined;
  /** Array length -> its marker token. */
  #lengths = new Map<number, object>();
  #bytes = 0;
  readonly #budget: number;
  /**
   * The reader key derivation reuses, so that a hit allocates none (see key.ts); taken while in
   * use, so a derivation nested in another (a getter calling the loader) makes its own.
   */
  #spare: object | undefined;

  /** `budget`: bytes of texts, tokens and values kept before the memo starts again. */
  constructor(budget = 1 << 20) {
    this.#budget = budget;
  }

  /** The token for an array (or argument list) of this length. */
  lengthToken(length: number): object {
    let token = this.#lengths.get(length);
    // Stryker disable next-line ObjectLiteral: a length marker is compared by identity only; its contents are never read
    if (!token) this.#lengths.set(length, (token = { length }));
    return token;
  }

  /** The layout of an object whose own keys are `order`; `sortKeys` sorts a copy, `label` writes a key. */
  layoutOf(order: string[], sortKeys: (keys: string[]) => string[], label: (key: string) => string): Layout {
    // Stryker disable next-line ConditionalExpression,EqualityOperator,StringLiteral: the recent-layout cache's index: another choice changes only how often it hits, and a hit is checked with sameKeys()
    const first = order.length === 0 ? '' : order[0]!;
    const recent = this.#byFirstKey.get(first);
    // Stryker disable next-line ConditionalExpression: a miss of this cache falls through to the trie, which returns the same layout
    if (recent && sameKeys(recent.order, order)) return recent;
    const big = this.#bigLayout;
    // Stryker disable next-line ConditionalExpression: a miss of this cache makes the same layout again (the big layout only spares the sort)
    if (big && sameKeys(big.order, order)) return big;
    const make = (): Layout => {
      const sorted = sortKeys([...order]);
      const place = new Map(order.map((key, i) => [key, i]));
      return { order, sorted, sortedAt: sorted.map((key) => place.get(key)!), labels: sorted.map(label) };
    };
    if (!this.#admit(order.length * NODE_BYTES)) {
      // More keys than the budget allows (an object of 100,000 keys): not kept with the others
      // (that trie grew by 100,000 nodes outside the budget), but as the one last big layout,
      // so a caller repeating it is spared the sort.
      this.#bigLayout = make();
      return this.#bigLayout;
    }
    let level = this.#layouts;
    for (const key of order) level = child(level, key);
    let layout = level.get(LEAF) as Layout | undefined;
    if (!layout) level.set(LEAF, (layout = make()));
    this.#byFirstKey.set(first, layout);
    return layout;
  }

  /** The trie of a prefix's token sequences, for a reader to walk token by token. */
  root(prefix: string): TrieNode | undefined {
    return this.#roots.get(prefix);
  }

  /** The reader left by the last derivation, or a new one made by `make`. Give it back after. */
  borrow<T extends object>(make: (memo: KeyMemo) => T): T {
    const spare = this.#spare as T | undefined;
    // Stryker disable next-line ConditionalExpression: a new reader each time reads the same; reuse only spares the allocation
    if (!spare) return make(this);
    this.#spare = undefined;
    return spare;
  }

  // Stryker disable next-line BlockStatement: without the reader back, the next derivation makes a new one that reads the same
  giveBack(reader: object): void {
    this.#spare = reader;
  }

  /** The text made before for this token sequence, if the memo still has it. */
  text(prefix: string, tokens: readonly unknown[]): string | undefined {
    let node = this.#roots.get(prefix);
    for (let i = 0; node && i < tokens.length; i++) node = node.next(tokens[i]);
    return node?.key?.text;
  }

  remember(prefix: string, tokens: readonly unknown[], text: string): void {
    let cost = stringBytes(text.length) + tokens.length * NODE_BYTES;
    for (const token of tokens) if (typeof token === 'string') cost += stringBytes(token.length);
    if (!this.#admit(cost)) return;
    let node = this.#roots.get(prefix);
    if (!node) this.#roots.set(prefix, (node = new TrieNode()));
    for (const token of tokens) node = node.at(token);
    node.key = Object.freeze({ text, binaries: undefined });
  }

  /** Bytes counted in now (for tests of the bound). */
  get bytes(): number {
    return this.#bytes;
  }

  clear(): void {
    this.#roots = new Map();
    this.#layouts = new Map();
    this.#byFirstKey = new Map();
    this.#lengths = new Map();
    this.#bigLayout = undefined;
    this.#bytes = 0;
  }

  /** Counts `cost` in, starting again when the budget would be passed; false if it never fits. */
  #admit(cost: number): boolean {
    // Stryker disable next-line EqualityOperator: one byte at the boundary of a rough estimate
    if (cost > this.#budget / 4) return false;
    this.#bytes += cost;
    // Stryker disable next-line EqualityOperator: one byte at the boundary of a rough estimate
    if (this.#bytes > this.#budget) {
      this.clear();
      this.#bytes = cost;
    }
    return true;
  }
}

/** Property names are interned strings: comparing them is pointer-cheap. */
// Stryker disable next-line BlockStatement: sameKeys() only guards the two layout caches: a miss falls through to the trie, which gives the same layout
function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  // Stryker disable next-line ConditionalExpression: sameKeys() only guards the two layout caches: a miss falls through to the trie, which gives the same layout
  if (a.length !== b.length) return false;
  // Stryker disable next-line ConditionalExpression: sameKeys() only guards the two layout caches: a miss falls through to the trie, which gives the same layout
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  // Stryker disable next-line BooleanLiteral: sameKeys() only guards the two layout caches: a miss falls through to the trie, which gives the same layout
  return true;
}

function child(level: Map<unknown, unknown>, key: unknown): Map<unknown, unknown> {
  let next = level.get(key) as Map<unknown, unknown> | undefined;
  if (!next) level.set(key, (next = new Map()));
  return next;
}
