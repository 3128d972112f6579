/**
 * An entry's identity: (function, key, arguments) rendered as one canonical string. Two calls
 * get the same text exactly when the function would receive indistinguishable arguments:
 * object key order and Map/Set insertion order do not count; types, holes, non-index array
 * properties, an Error's own properties, `cause` and `errors` do (see README "Identity").
 *
 * The walk reads every property of the arguments once and writes everything the run will
 * receive into the text, so the text is also the payload's only source: on a miss the
 * arguments are rebuilt from it (rebuild-args.ts), never read from the caller's objects a
 * second time. A getter that answers differently on each read therefore cannot make the key
 * and the run disagree. Binary data is the one thing not spelled out: a typed array stands in
 * the text as its kind, length and 64-bit xxHash, and the store verifies its bytes on every
 * match.
 *
 * Values are walked as trees: an object reached twice is written twice (the run receives a
 * tree copy, so sharing is not part of identity); only a cycle is written as a reference to
 * the enclosing object it returns to (`^depth;`).
 */

import { inspect, types } from 'node:util';
import { hashBytes, hasherReady } from './hash.js';
import { errorPropertyKeys, needsEncoding, safeString } from './codec.js';
import { UnsendableValueError } from './errors.js';
import type { KeyMemo, Layout, TrieNode } from './key-memo.js';
import { binaryKind, bytesOf, classify, ERROR_NESTING, Kind, MAX_DEPTH } from './kinds.js';

export interface DerivedKey {
  /** The canonical identity text; the store's key. */
  readonly text: string;
  /** The caller's binary leaves in walk order: verified byte for byte on a match, copied on a miss. */
  readonly binaries: (ArrayBufferView | ArrayBuffer)[] | undefined;
  /**
   * Set for a call of one string or number (not -0): the store finds such entries by the value
   * itself, so a hit never builds the text (for a long string, that is a copy and a compare
   * saved: the Map compares the caller's string with the stored one directly).
   */
  readonly single?: { readonly prefix: string; readonly value: string | number };
  /** Binary leaves written without their hash, the hasher still loading (see Walker#hash). */
  readonly provisional?: boolean;
}

/** The key of a single string or number argument; its text is built only when an entry is made. */
class SingleKey implements DerivedKey {
  readonly binaries = undefined;
  /** Itself: one allocation on the hit path, not two. */
  readonly single = this;
  readonly prefix: string;
  readonly value: string | number;
  #text: string | undefined;

  constructor(prefix: string, value: string | number) {
    this.prefix = prefix;
    this.value = value;
  }

  get text(): string {
    const { prefix, value } = this;
    this.#text ??= typeof value === 'string' ? `${prefix}"${value}` : `${prefix}#${value}`;
    return this.#text;
  }
}

/**
 * The part of the identity that is the same for every call of one wrapped function. Both
 * parts are length-prefixed or numeric, so no function id and key option can run into each
 * other or into the arguments.
 */
export function keyPrefix(functionId: number, key: string | undefined): string {
  return key === undefined ? `${functionId}|` : `${functionId}k${key.length}:${key}|`;
}

/**
 * Arguments are refused past this many objects: a value that shares objects heavily (each
 * level of `[x, x]` doubles the tree) would otherwise expand until memory runs out.
 */
export const MAX_OBJECTS = 8_000_000;

/**
 * Derives the key of one call (provisional when it holds binary data and the hasher has not
 * loaded yet). Throws UnsendableValueError naming the argument path of anything that cannot
 * be carried.
 */
export function deriveKey(prefix: string, args: readonly unknown[], memo?: KeyMemo): DerivedKey {
  if (args.length === 1) {
    // The most common shapes, without a walker. `"` and `#` never start a walker's text.
    const only = args[0];
    if (typeof only === 'string' || (typeof only === 'number' && !Object.is(only, -0)))
      return new SingleKey(prefix, only);
  }
  let reads: Map<object, Read> | undefined;
  let tokens: unknown[] | undefined;
  if (memo) {
    // One reader per loader, reused: a hit allocates nothing here. A derivation nested in
    // this one (a getter calling the loader) finds it taken and makes its own.
    const reading = memo.borrow(newReading);
    try {
      const found = reading.read(prefix, args);
      if (found) return found;
      reads = reading.reads();
      // Stryker disable next-line ConditionalExpression: tokens are self-delimiting (a length or layout token announces its values), so no complete reading ends where an incomplete one stopped
      if (reading.complete) tokens = reading.tokens.slice(0, reading.tokenCount);
      // Stryker disable next-line BlockStatement: a reader not given back is dropped whole; the next derivation makes a new one
    } finally {
      reading.release();
      memo.giveBack(reading);
    }
  }
  const walker = new Walker(reads);
  try {
    for (let i = 0; i < args.length; i++) walker.value(args[i], 0);
  } catch (error) {
    throw explainRefusal(error, args);
  }
  const key = finish(prefix, walker, args);
  if (tokens && !key.provisional) memo!.remember(prefix, tokens, key.text);
  return key;
}

function finish(prefix: string, walker: Walker, args: readonly unknown[]): DerivedKey {
  let text: string;
  try {
    text = prefix + walker.out;
  } catch (error) {
    throw explainRefusal(error, args);
  }
  return walker.provisional
    ? { text, binaries: walker.binaries, provisional: true }
    : { text, binaries: walker.binaries };
}

/** What a call read of one plain object (labels set) or dense array (labels undefined). */
interface Read {
  labels: readonly string[] | undefined;
  values: unknown[];
}

/** Deeper than this, or more tokens than this, a call is not worth memoizing. */
const MEMO_DEPTH = 6;
const MEMO_TOKENS = 128;
const MEMO_ARRAY = 64;
/** Stands for -0, which Map keys cannot tell from 0. */
// Stryker disable next-line ObjectLiteral,BooleanLiteral: a token compared by identity; its content is never read
const NEGATIVE_ZERO = Object.freeze({ negativeZero: true });

const newReading = (memo: KeyMemo): Reading => new Reading(memo);

/**
 * Reads a call's arguments once, walking the memo's trie token by token as it goes (an
 * object's layout, an array's length, each primitive leaf), and records what it read of each
 * object so that the walker, on a miss, writes the text from those reads rather than reading
 * the caller's objects again. Stops (incomplete) at the first thing the memo does not cover:
 * a Date, a Map, a long array, ... The walker takes over from there.
 *
 * A reading is reused call after call (its arrays keep their capacity), so a hit allocates
 * nothing but Object.keys' arrays; release() drops every reference to the caller's values.
 */
class Reading {
  readonly #memo: KeyMemo;
  /** The trie node reached so far; undefined once the path left what the memo knows. */
  #level: TrieNode | undefined;
  // Stryker disable next-line BooleanLiteral: read() sets it before every reading
  complete = true;
  /** The tokens read, in order (the first `tokenCount`): the memo's path on a miss. */
  // Stryker disable next-line ArrayDeclaration: written from index 0 before any read
  tokens: unknown[] = [];
  tokenCount = 0;
  /** Objects read, and for each its layout (undefined: an array) and where its values start (in the layout's key order). */
  // Stryker disable next-line ArrayDeclaration: written from index 0 before any read
  #objects: (object | undefined)[] = [];
  // Stryker disable next-line ArrayDeclaration: written from index 0 before any read
  #layouts: (Layout | undefined)[] = [];
  // Stryker disable next-line ArrayDeclaration: written from index 0 before any read
  #starts: number[] = [];
  #objectCount = 0;
  /** Every object's values, one after another (the first `#valueCount`). */
  // Stryker disable next-line ArrayDeclaration: written from index 0 before any read
  #values: unknown[] = [];
  #valueCount = 0;
  /** Objects of more than FOR_IN_KEYS keys, each with its own read (see #bigObject). */
  #big: Map<object, Read> | undefined;

  constructor(memo: KeyMemo) {
    this.#memo = memo;
  }

  /** Reads the arguments; the memo's key when it knows them, else undefined (see reads()). */
  read(prefix: string, args: readonly unknown[]): DerivedKey | undefined {
    this.complete = true;
    this.#level = this.#memo.root(prefix);
    this.#list(args, 0);
    // Stryker disable next-line ConditionalExpression: tokens are self-delimiting, so the node where a reading stopped holds no key
    if (!this.complete) return undefined;
    return this.#level?.key;
  }

  /** What was read of each object, for the walker (built only when the memo misses). */
  reads(): Map<object, Read> {
    const map = new Map<object, Read>(this.#big);
    const starts = this.#starts;
    // Stryker disable next-line EqualityOperator: one past the end reads undefined, the same for every call of a shape: the keys stay apart alike
    for (let i = 0; i < this.#objectCount; i++) {
      const start = starts[i]!;
      const layout = this.#layouts[i];
      const end = i + 1 < this.#objectCount ? starts[i + 1]! : this.#valueCount;
      // The walker writes an object's values in sorted key order.
      const values = layout
        ? layout.sortedAt.map((at) => this.#values[start + at])
        : this.#values.slice(start, end);
      map.set(this.#objects[i]!, { labels: layout?.labels, values });
    }
    return map;
  }

  /**
   * Whether `obj` was met before in this call. Each meeting is read afresh (a getter may answer
   * differently), which the memo's path cannot tell from plain objects holding those values:
   * such a call is neither looked up nor stored; the reading stops there, and the walker reads
   * the object at its other places.
   */
  #metBefore(obj: object): boolean {
    const objects = this.#objects;
    // Stryker disable next-line EqualityOperator: the slot past the last object is always empty
    for (let i = 0; i < this.#objectCount; i++) if (objects[i] === obj) return true;
    return this.#big?.has(obj) === true;
  }

  /** Forgets the caller's values; a reading that read a big object gives its arrays up. */
  release(): void {
    // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator: decides only whether the arrays keep their capacity; both branches drop every reference
    if (this.#valueCount > RELEASE_ABOVE || this.tokenCount > RELEASE_ABOVE) {
      this.tokens = [];
      this.#values = [];
    } else {
      // Plain loops: Array#fill over a range costs more than the whole of a small reading.
      const { tokens } = this;
      // Stryker disable next-line ConditionalExpression,EqualityOperator: tokens hold primitives and the memo's own layouts, never a caller's object
      for (let i = 0; i < this.tokenCount; i++) tokens[i] = undefined;
      const values = this.#values;
      // Stryker disable next-line EqualityOperator: clearing one slot more
      for (let i = 0; i < this.#valueCount; i++) values[i] = undefined;
    }
    // Layouts are the memo's own (and hold only key names): left for the next reading to overwrite.
    const objects = this.#objects;
    // Stryker disable next-line EqualityOperator: clearing one slot more
    for (let i = 0; i < this.#objectCount; i++) objects[i] = undefined;
    this.tokenCount = 0;
    this.#objectCount = 0;
    this.#valueCount = 0;
    this.#level = undefined;
    this.#big = undefined;
  }

  #token(token: unknown): void {
    this.tokens[this.tokenCount++] = token;
    const level = this.#level;
    if (level) this.#level = level.next(token);
  }

  /** Notes an object and makes room for its `count` values; returns where they start. */
  #object(obj: object, layout: Layout | undefined, count: number): number {
    const at = this.#objectCount++;
    this.#objects[at] = obj;
    this.#layouts[at] = layout;
    const start = this.#valueCount;
    this.#starts[at] = start;
    this.#valueCount = start + count;
    return start;
  }

  /**
   * An object of many keys, read by name in sorted order into an array of its own, as the
   * walker writes it: for-in would list a big (dictionary-mode) object's keys a second time,
   * and the shared arrays would grow to its size.
   */
  #bigObject(obj: Record<string, unknown>, layout: Layout, depth: number): void {
    const { sorted } = layout;
    const count = sorted.length;
    // Stryker disable next-line ArrayDeclaration: a size hint; every index is written below
    const values: unknown[] = new Array(count);
    // Stryker disable next-line EqualityOperator: one past the end reads undefined, the same for every call of a shape: the keys stay apart alike
    for (let i = 0; i < count; i++) values[i] = obj[sorted[i]!];
    (this.#big ??= new Map()).set(obj, { labels: layout.labels, values });
    // Too big to memoize (a 100,000-key object): the walker writes it from these reads, rather
    // than the memo taking 100,000 tokens on every call.
    if (this.tokenCount + count > MEMO_TOKENS) {
      this.complete = false;
      return;
    }
    this.#token(layout);
    // Stryker disable next-line EqualityOperator: one past the end reads undefined, the same for every call of a shape: the keys stay apart alike
    for (let i = 0; this.complete && i < count; i++) this.#value(values[i], depth + 1);
  }

  #list(values: readonly unknown[], depth: number): void {
    const length = values.length;
    this.#token(this.#memo.lengthToken(length));
    // Stryker disable next-line EqualityOperator: one past the end reads undefined, the same for every call of a shape: the keys stay apart alike
    for (let i = 0; this.complete && i < length; i++) this.#value(values[i], depth);
  }

  #value(v: unknown, depth: number): void {
    if (typeof v !== 'object' || v === null) {
      // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator,StringLiteral,BooleanLiteral: a function or symbol token is in no trie path, and the walker refuses it anyway
      if (typeof v === 'function' || typeof v === 'symbol') this.complete = false;
      else {
        // -0 without a call to Object.is: only 0 and -0 are === 0, and 1 / -0 is -Infinity.
        // Stryker disable next-line EqualityOperator: 1 / ±0 is ±Infinity, never 0; swapping which zero gets the token still keeps them apart
        this.#token(v === 0 && 1 / v < 0 ? NEGATIVE_ZERO : v);
      }
      return;
    }
    if (depth >= MEMO_DEPTH || this.tokenCount > MEMO_TOKENS || types.isProxy(v)) {
      this.complete = false;
      return;
    }
    if (this.#metBefore(v)) {
      this.complete = false;
      return;
    }
    const proto: unknown = Object.getPrototypeOf(v);
    const values = this.#values;
    if (proto === Object.prototype || proto === null) {
      const layout = this.#memo.layoutOf(Object.keys(v), sortKeys, labelText);
      const { order } = layout;
      const count = order.length;
      // Stryker disable next-line EqualityOperator: an object of exactly 64 keys read by name instead of by for-in reads the same values
      if (count > FOR_IN_KEYS) {
        this.#bigObject(v as Record<string, unknown>, layout, depth);
        return;
      }
      const start = this.#object(v, layout, count);
      // Values in the keys' own order, by for-in: V8 reads each from the object's layout
      // directly, where `v[name]` with a name from a list is a generic lookup per property.
      // Inherited enumerable properties (a patched Object.prototype) come after the own ones
      // and are not read; a property a getter deleted meanwhile is read by name, as undefined.
      let i = 0;
      // Stryker disable next-line BlockStatement: for-in only speeds the reads up; the loop after it reads every value it left by name
      for (const name in v) {
        // Stryker disable next-line ConditionalExpression,EqualityOperator: for-in lists a plain object's own keys in the order of Object.keys; the loop after it reads by name whatever this one left
        if (i === count || name !== order[i]) break;
        values[start + i++] = (v as Record<string, unknown>)[name];
      }
      // Stryker disable next-line EqualityOperator: the slot past an object's values belongs to an object read later, which writes it
      for (; i < count; i++) values[start + i] = (v as Record<string, unknown>)[order[i]!];
      this.#token(layout);
      for (let j = 0; this.complete && j < count; j++) this.#value(values[start + j], depth + 1);
      return;
    }
    if (proto === Array.prototype && Array.isArray(v)) {
      const arr = v as unknown[];
      const length = arr.length;
      const keys = length <= MEMO_ARRAY ? Object.keys(arr) : undefined;
      // As many own keys as elements, the last one the last index: no holes, no other properties.
      if (!keys || keys.length !== length || (length > 0 && keys[length - 1] !== String(length - 1))) {
        this.complete = false;
        return;
      }
      const start = this.#object(v, undefined, length);
      // Stryker disable next-line EqualityOperator: the slot past an array's values belongs to an object read later, which writes it
      for (let i = 0; i < length; i++) values[start + i] = arr[i];
      this.#token(this.#memo.lengthToken(length));
      for (let i = 0; this.complete && i < length; i++) this.#value(values[start + i], depth + 1);
      return;
    }
    this.complete = false;
  }
}

/** Objects of more keys are read as big ones (see Reading#bigObject). */
const FOR_IN_KEYS = 64;
/** A reading that held more values than this lets its arrays go rather than keep them. */
const RELEASE_ABOVE = 4096;

/** How the walker writes a primitive (the flat-object path writes the same). */
function primitiveText(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return 's' + v.length + ':' + v;
    case 'number':
      return Object.is(v, -0) ? 'n-0;' : 'n' + v + ';';
    case 'boolean':
      return v ? 'T' : 'F';
    case 'bigint':
      return 'b' + v + ';';
    default:
      return v === undefined ? 'U' : 'N';
  }
}

function labelText(key: string): string {
  return key.length + ':' + key;
}

/** Turns what stopped the walk into the error the caller sees; a user's getter's error passes through. */
function explainRefusal(error: unknown, args: readonly unknown[]): unknown {
  if (error === TOO_MANY) {
    return new UnsendableValueError(
      'args',
      `a value of more than ${MAX_OBJECTS.toLocaleString('en-US')} objects (an object reached twice counts twice)`,
      'Pass the data in a flatter form.',
    );
  }
  if (error === TOO_SHARED) {
    return new UnsendableValueError(
      'args',
      `a value that reaches the same objects more than ${MAX_REPEATS.toLocaleString('en-US')} times over`,
      'Shared objects are sent as separate copies; pass the shared parts once and refer to them by index.',
    );
  }
  if (error instanceof RangeError && /call stack/i.test(error.message)) {
    // Deep values in a thread with a small stack: refuse rather than fail with the engine's error.
    return new UnsendableValueError(
      'args',
      "nested too deeply to walk on this thread's stack",
      'Flatten it first.',
    );
  }
  if (error instanceof RangeError && /string length/i.test(error.message)) {
    return new UnsendableValueError(
      'args',
      'too large to describe as a cache key',
      'Pass it in binary form (a typed array).',
    );
  }
  if (error !== REFUSED && !(error instanceof UnsendableValueError)) return error;
  // The walk does not track where it is (that costs on every call); find the path now. This
  // reads the arguments again, but only on the way to refusing the call.
  needsEncoding(args, 'args');
  return error instanceof UnsendableValueError
    ? error
    : new UnsendableValueError('args', 'a value the cache key cannot describe');
}

/** Byte-for-byte comparison of two calls' binary leaves. */
export function sameBinaries(
  a: readonly (ArrayBufferView | ArrayBuffer)[] | undefined,
  b: readonly (ArrayBufferView | ArrayBuffer)[] | undefined,
): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = bytesOf(a[i]!);
    const y = bytesOf(b[i]!);
    if (!Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(y)) return false;
  }
  return true;
}

/**
 * Sorts property names in place. Objects have few keys, and insertion sort with `<` beats
 * Array#sort's generic comparison there (it is on the cache-hit path for object arguments).
 */
function sortKeys(keys: string[]): string[] {
  // Stryker disable next-line ConditionalExpression,EqualityOperator: the insertion sort below and Array#sort give the same (UTF-16) order; the threshold is only speed
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: keys[-1] is undefined, which no key is below; keys are distinct, so >= and > agree
    while (j >= 0 && keys[j]! > key) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}

/** Thrown inside the walk for anything it does not write; deriveKey then names the path. */
// Stryker disable next-line StringLiteral: sentinel compared by identity, its message never shown
const REFUSED = new Error('refused');
// Stryker disable next-line StringLiteral: sentinel compared by identity, its message never shown
const TOO_MANY = new Error('too many objects');
// Stryker disable next-line StringLiteral: sentinel compared by identity, its message never shown
const TOO_SHARED = new Error('too much sharing');
/** After this many objects, a walk notes which it has met; more than MAX_REPEATS met again: refused. */
const SHARING_CHECK_AFTER = 100_000;
const MAX_REPEATS = 100_000;

// Stryker disable next-line ArrowFunction,StringLiteral: classify()'s path is used only in its error, which explainRefusal() replaces with one that names the real path
const noPath = (): string => '';
/* eslint-disable @typescript-eslint/unbound-method -- built-ins captured once, always invoked with .call on the value */
const dateTime = Date.prototype.getTime;
const regExpProto = RegExp.prototype as unknown as Record<string, unknown>;
const regExpSource = Object.getOwnPropertyDescriptor(RegExp.prototype, 'source')!.get!;
/** Flag getters in the order `RegExp.prototype.flags` lists them; each reads the internal slot. */
const REGEXP_FLAGS = (
  [
    ['hasIndices', 'd'],
    ['global', 'g'],
    ['ignoreCase', 'i'],
    ['multiline', 'm'],
    ['dotAll', 's'],
    ['unicode', 'u'],
    ['unicodeSets', 'v'],
    ['sticky', 'y'],
  ] as const
)
  .filter(([name]) => name in regExpProto)
  .map(([name, letter]) => [Object.getOwnPropertyDescriptor(RegExp.prototype, name)!.get!, letter] as const);
const urlHref = Object.getOwnPropertyDescriptor(URL.prototype, 'href')!.get!;
const mapEntries = Map.prototype.entries;
const setValues = Set.prototype.values;
/* eslint-enable @typescript-eslint/unbound-method */

function regExpFlags(re: RegExp): string {
  let flags = '';
  for (const [get, letter] of REGEXP_FLAGS) if (get.call(re)) flags += letter;
  return flags;
}

/** Arrays this long are checked for non-index properties without listing their keys. */
const BIG_ARRAY = 256;
/** This many holes in a row: the array is sparse, and listing its keys is the cheap way on. */
const HOLE_RUN = 65_536;

const ELEMENTS_ONLY = {
  maxArrayLength: 0,
  depth: 0,
  customInspect: false,
  getters: false,
  showHidden: false,
  breakLength: Infinity,
} as const;

/**
 * True when the array has no own enumerable properties besides its elements. util.inspect
 * finds such properties without listing the indexes (and without calling getters or custom
 * inspectors); any output other than the bare summary, including a future format change,
 * answers false, and the caller then lists the keys: slower, never wrong.
 */
function onlyElements(arr: unknown[], length: number): boolean {
  // Stryker disable next-line ConditionalExpression,StringLiteral: called for 256 elements and more, never one
  return inspect(arr, ELEMENTS_ONLY) === `[ ... ${length} more item${length === 1 ? '' : 's'} ]`;
}

/** Whether `key`, an own key of an array of this length, is one of its elements. */
function isIndex(key: string, length: number): boolean {
  const n = Number(key);
  // Stryker disable next-line EqualityOperator: an array has no own index key equal to its length
  return n < length && Number.isInteger(n) && n >= 0 && String(n) === key;
}

export class Walker {
  out = '';
  /**
   * What the memo's reading already read of some objects: written from there, not read again.
   * Each read is used once: an object met at a second place is read there (the run receives a
   * tree, with a copy of it at each place).
   */
  readonly #reads: Map<object, Read> | undefined;
  binaries: (ArrayBufferView | ArrayBuffer)[] | undefined;
  /** True when a binary leaf was written without its hash (the hasher still loading). */
  provisional = false;
  #objects = 0;
  #seen: Set<object> | undefined;
  #repeats = 0;
  /** Objects being written, outermost first: meeting one again is a cycle, written `^i;`. */
  readonly #open: object[] = [];

  constructor(reads?: Map<object, Read>) {
    this.#reads = reads;
  }

  /**
   * A binary leaf's hash, or `*` while the hasher loads: the key is then provisional, its
   * entry found by the bytes alone (every match is verified byte for byte anyway) until the
   * loader re-keys it with the hash. The call itself never waits and never reads again.
   */
  #hash(data: ArrayBufferView | ArrayBuffer): string {
    if (hasherReady()) return hashBytes(data);
    this.provisional = true;
    return '*';
  }

  value(v: unknown, depth: number): void {
    const type = typeof v;
    if (type === 'function' || type === 'symbol') throw REFUSED;
    if (v === null || type !== 'object') {
      this.out += primitiveText(v);
      return;
    }
    const obj = v as object;
    const open = this.#open;
    const cycle = open.indexOf(obj);
    if (cycle !== -1) {
      this.out += `^${cycle};`;
      return;
    }
    if (depth > MAX_DEPTH) throw REFUSED;
    // Stryker disable next-line EqualityOperator: one object at a limit of eight million
    if (++this.#objects > MAX_OBJECTS) throw TOO_MANY;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: watching from the first object, or one later, finds the same repeats (there cannot be more repeats than objects)
    if (this.#objects > SHARING_CHECK_AFTER) {
      // Past this size, watch for objects met again: sharing expands into copies, and a value
      // like x = [x, x] nested 30 deep would otherwise take seconds and gigabytes to refuse.
      const seen = (this.#seen ??= new Set());
      if (!seen.has(obj)) seen.add(obj);
      else {
        // Stryker disable next-line EqualityOperator: one repeat at a limit of a hundred thousand
        if (++this.#repeats > MAX_REPEATS) throw TOO_SHARED;
      }
    }
    open.push(obj);
    const read = this.#reads?.get(obj);
    if (read) {
      this.#reads!.delete(obj);
      this.#fromRead(read, depth);
      open.pop();
      return;
    }
    // Plain objects and arrays first, one call deep: nesting to MAX_DEPTH must fit the stack.
    if (types.isProxy(obj)) throw REFUSED;
    const proto: unknown = Object.getPrototypeOf(obj);
    if (proto === Object.prototype || proto === null)
      this.#fields(obj as Record<string, unknown>, sortKeys(Object.keys(obj)), depth);
    else if (proto === Array.prototype && Array.isArray(obj)) this.#array(obj as unknown[], depth);
    else this.#object(obj, depth);
    open.pop();
  }

  #object(obj: object, depth: number): void {
    switch (classify(obj, noPath)) {
      case Kind.Date:
        this.out += `D${dateTime.call(obj)};`;
        return;
      case Kind.RegExp: {
        const source = regExpSource.call(obj) as string;
        this.out += `R${source.length}:${source}${regExpFlags(obj as RegExp)};`;
        return;
      }
      case Kind.Url: {
        const href = urlHref.call(obj) as string;
        this.out += `L${href.length}:${href}`;
        return;
      }
      case Kind.Error:
        this.#error(obj as Error, depth);
        return;
      case Kind.Map:
        this.#sorted(obj as Map<unknown, unknown>, 'M', depth);
        return;
      case Kind.Set:
        this.#sorted(obj as Set<unknown>, 'S', depth);
        return;
      case Kind.Binary:
      case Kind.ArrayBuffer: {
        const data = obj as ArrayBufferView | ArrayBuffer;
        (this.binaries ??= []).push(data);
        const kind = binaryKind(data);
        this.out += `A${kind.length}:${kind}${bytesOf(data).byteLength}:${this.#hash(data)};`;
        return;
      }
      default:
        throw REFUSED;
    }
  }

  /** An object or array the memo's reading has read: the same text #fields or #array would write. */
  #fromRead(read: Read, depth: number): void {
    const { labels, values } = read;
    if (labels) {
      this.out += '{';
      for (let i = 0; i < labels.length; i++) {
        this.out += labels[i]!;
        this.value(values[i], depth + 1);
      }
      this.out += '}';
    } else {
      this.out += '[' + values.length + ';';
      for (let i = 0; i < values.length; i++) this.value(values[i], depth + 1);
      this.out += ']';
    }
  }

  #fields(obj: Record<string, unknown>, keys: string[], depth: number): void {
    this.out += '{';
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      this.out += k.length + ':' + k;
      this.value(obj[k], depth + 1);
    }
    this.out += '}';
  }

  /**
   * `[length;` elements `]`, a run of holes written `H<count>;`, and own non-index properties
   * (a RegExp match's `index` and `input`, say) as `{...}` before the `]`: structured clone
   * carries all three.
   */
  #array(arr: unknown[], depth: number): void {
    const length = arr.length;
    if (length >= BIG_ARRAY && onlyElements(arr, length)) {
      this.#elements(arr, length, depth);
      return;
    }
    const keys = Object.keys(arr);
    // Own keys list the elements first, in index order: find where they end.
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (isIndex(keys[mid]!, length)) lo = mid + 1;
      else hi = mid;
    }
    const present = lo;
    this.out += '[' + length + ';';
    // Stryker disable next-line ConditionalExpression: the branch below writes a hole-free array the same way, only slower
    if (present === length) {
      for (let i = 0; i < length; i++) this.value(arr[i], depth + 1);
    } else {
      let next = 0;
      for (let p = 0; p < present; p++) {
        const index = Number(keys[p]);
        // Stryker disable next-line ConditionalExpression,EqualityOperator: an `H0;` between adjacent elements would be written for every array alike
        if (index > next) this.out += 'H' + (index - next) + ';';
        this.value(arr[index], depth + 1);
        next = index + 1;
      }
      // Stryker disable next-line ArithmeticOperator: the count of trailing holes is implied by the length written first
      if (next < length) this.out += 'H' + (length - next) + ';';
    }
    if (present < keys.length)
      this.#fields(arr as unknown as Record<string, unknown>, sortKeys(keys.slice(present)), depth);
    this.out += ']';
  }

  /**
   * A big array with no own non-index properties, without listing its keys (10 million index
   * strings cost seconds). All numbers, the common case: packed into a Float64Array and written
   * as `P<length>:<hash>;`, verified byte for byte like any binary leaf (their decimal text
   * costs seconds too). Otherwise element by element, each read once; a long run of holes
   * switches to listing the keys, which is cheap for exactly such sparse arrays.
   */
  #elements(arr: unknown[], length: number, depth: number): void {
    const packed = packedFor(arr, length);
    let i = 0;
    let v: unknown = packed ? undefined : arr[0];
    if (packed)
      // Stryker disable next-line EqualityOperator: element `length` is undefined, not a number: the loop stops there either way
      for (; i < length; i++) {
        v = arr[i];
        if (typeof v !== 'number') break;
        packed[i] = v;
      }
    if (packed && i === length) {
      // Every NaN as the one NaN: the bytes are hashed and compared, and NaN is NaN to the key.
      // Looked for natively first (a test per element in the loop above cost a third of it).
      // Stryker disable next-line ConditionalExpression,EqualityOperator: normalising without a NaN present, or one index past the end, changes nothing
      if (packed.includes(NaN)) for (let j = 0; j < length; j++) if (packed[j] !== packed[j]) packed[j] = NaN;
      (this.binaries ??= []).push(packed);
      this.out += `P${length}:${this.#hash(packed)};`;
      return;
    }
    this.out += '[' + length + ';';
    // Stryker disable next-line ArithmeticOperator: these elements are numbers, which no depth limits
    for (let j = 0; j < i; j++) this.value(packed![j], depth + 1);
    let holes = 0;
    const stop = i;
    for (; i < length; i++) {
      // The element where the packing loop stopped has been read already: never read twice.
      // Stryker disable next-line ConditionalExpression: reading that element again gives the same (an array whose elements have getters is not walked here)
      const item = i === stop ? v : arr[i];
      // Stryker disable next-line ConditionalExpression: only a pre-filter: the `in` test alone finds the holes
      if (item === undefined && !(i in arr)) {
        // Stryker disable next-line EqualityOperator: switching to the key listing a hole earlier or later writes the same runs
        if (++holes < HOLE_RUN) continue;
        this.#sparseRest(arr, i + 1 - holes, length, depth);
        this.out += ']';
        return;
      }
      // Stryker disable next-line ConditionalExpression,EqualityOperator: an `H0;` before every element would be written for every array alike
      if (holes > 0) this.out += 'H' + holes + ';';
      holes = 0;
      this.value(item, depth + 1);
    }
    if (holes > 0) this.out += 'H' + holes + ';';
    this.out += ']';
  }

  /** The elements from `from` on, by their keys: the holes between them as runs. */
  #sparseRest(arr: unknown[], from: number, length: number, depth: number): void {
    const keys = Object.keys(arr);
    let next = from;
    for (const key of keys) {
      // A getter read earlier may have added a property since: only elements count here.
      // Stryker disable next-line ConditionalExpression: the array was checked to have only elements (onlyElements) before its walk
      if (!isIndex(key, length)) break;
      const index = Number(key);
      // Stryker disable next-line EqualityOperator: the key at `from` is the first hole of the run, never an own key
      if (index < from) continue;
      // Stryker disable next-line ConditionalExpression,EqualityOperator: an `H0;` between adjacent elements would be written for every array alike
      if (index > next) this.out += 'H' + (index - next) + ';';
      this.value(arr[index], depth + 1);
      next = index + 1;
    }
    // Stryker disable next-line ArithmeticOperator: the count of trailing holes is implied by the length written first
    if (next < length) this.out += 'H' + (length - next) + ';';
  }

  /**
   * `E` name, message, own properties, then `C` and the cause or `-` for none, then for an
   * AggregateError `a` and its errors, then `;`. The stack is not part of identity: it
   * differs at every place an error is made.
   */
  #error(error: Error, depth: number): void {
    const name = safeString(() => error.name, 'Error');
    const message = safeString(() => error.message, '');
    this.out += `E${name.length}:${name}${message.length}:${message}`;
    // Counted as deep as the codec's form nests them, so the depth limit holds for what is posted.
    const below = depth + ERROR_NESTING;
    this.#fields(error as unknown as Record<string, unknown>, sortKeys(errorPropertyKeys(error)), below);
    if ('cause' in error) {
      this.out += 'C';
      this.value(error.cause, below);
    } else {
      this.out += '-';
    }
    // Stryker disable next-line ConditionalExpression: another error's own `errors` array is already written among its properties; writing it once more keeps keys apart alike
    if (error instanceof AggregateError) {
      const errors: unknown = error.errors;
      if (Array.isArray(errors)) {
        this.out += 'a';
        this.value(errors, below);
      }
    }
    this.out += ';';
  }

  /**
   * Maps and Sets are written in sorted order of their entries' text: insertion order is not
   * identity. Each entry's binary leaves move with it, so the list of leaves follows the text.
   */
  #sorted(collection: Map<unknown, unknown> | Set<unknown>, tag: string, depth: number): void {
    const parts: { text: string; binaries: (ArrayBufferView | ArrayBuffer)[] | undefined }[] = [];
    const outer = this.out;
    const outerBinaries = this.binaries;
    const entry = (write: () => void): void => {
      this.out = '';
      this.binaries = undefined;
      write();
      parts.push({ text: this.out, binaries: this.binaries });
    };
    if (tag === 'M') {
      for (const [k, val] of mapEntries.call(collection as Map<unknown, unknown>)) {
        entry(() => {
          this.value(k, depth + 1);
          this.value(val, depth + 1);
        });
      }
    } else {
      for (const item of setValues.call(collection as Set<unknown>)) entry(() => this.value(item, depth + 1));
    }
    // Stryker disable next-line EqualityOperator,ConditionalExpression: V8's sort asks only whether a comparison is below 0, and equal texts are the same entry
    parts.sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
    this.binaries = outerBinaries;
    let text = '';
    for (const part of parts) {
      text += part.text;
      if (part.binaries) (this.binaries ??= []).push(...part.binaries);
    }
    this.out = `${outer}${tag}${parts.length}(${text})`;
  }
}

/**
 * Room to pack an array that starts with a number; none for one that does not (it is not all
 * numbers), nor when its length alone is more than can be allocated: a sparse array's length
 * can ask for 32 GiB (2^32 − 2 elements), which failed with a bare RangeError. Such an array is
 * walked element by element instead, with its holes as runs.
 */
function packedFor(arr: unknown[], length: number): Float64Array | undefined {
  if (typeof arr[0] !== 'number') return undefined;
  try {
    return new Float64Array(length);
  } catch {
    return undefined;
  }
}
