/**
 * Generators for the key-identity property test and the fuzz script (scripts/fuzz-keys.ts).
 *
 * fast-check generates a *description* of an argument list (a `Spec` tree), not the values
 * themselves; `build` turns a description into fresh values, making every choice that must not
 * matter to identity from a seeded random source: object key order, Map/Set insertion order,
 * null or Object prototype, Buffer or Uint8Array, where the bytes sit in a bigger buffer, how an
 * Error got its name/message/cause, whether equal subtrees are one shared object. So:
 * - two builds of one Spec are equivalent arguments (the "equivalent ⇒ same key" direction);
 * - `mutate` makes a small change to a Spec, usually (not always: a Set may swallow the change)
 *   a different argument list, judged by the oracle (the "different ⇒ different key" direction).
 * Specs are immutable and shrink as fast-check trees; the pairs print with `show`, which spells
 * out what a generic printer would hide (holes, array properties, prototypes, byte offsets).
 */
import fc from 'fast-check';

export type Prim = string | number | bigint | boolean | null | undefined;
type Entry = readonly [string, Spec];

export type BinKind =
  | 'Int8Array'
  | 'Uint8Array'
  | 'Uint8ClampedArray'
  | 'Int16Array'
  | 'Uint16Array'
  | 'Int32Array'
  | 'Uint32Array'
  | 'Float32Array'
  | 'Float64Array'
  | 'BigInt64Array'
  | 'BigUint64Array'
  | 'DataView'
  | 'ArrayBuffer';

export type Spec =
  | { readonly t: 'prim'; readonly v: Prim }
  | { readonly t: 'obj'; readonly nullProto: boolean; readonly entries: readonly Entry[] }
  /** `null` in `items` is a hole. `extra` are own non-index properties. */
  | { readonly t: 'arr'; readonly items: readonly (Spec | null)[]; readonly extra: readonly Entry[] }
  /** A RegExp match array: elements plus `index`, `input`, `groups` (and `indices` with the d flag). */
  | { readonly t: 'match'; readonly pattern: number; readonly flags: number; readonly input: string }
  | { readonly t: 'date'; readonly time: number }
  | { readonly t: 'regexp'; readonly source: string; readonly flags: string }
  | { readonly t: 'url'; readonly href: string }
  | {
      readonly t: 'error';
      readonly name: ErrorName;
      readonly message: string;
      /** undefined: no cause at all (a cause whose value is undefined is a prim Spec). */
      readonly cause: Spec | undefined;
      readonly props: readonly Entry[];
      /** AggregateError#errors; only for name 'AggregateError'. */
      readonly errors: readonly Spec[] | undefined;
    }
  | { readonly t: 'map'; readonly entries: readonly (readonly [Spec, Spec])[] }
  | { readonly t: 'set'; readonly items: readonly Spec[] }
  | { readonly t: 'bin'; readonly kind: BinKind; readonly bytes: readonly number[] }
  /** A back-reference to an enclosing container (`up` levels out, modulo the depth); null at top level. */
  | { readonly t: 'ref'; readonly up: number };

export type Args = readonly Spec[];

// ---------------------------------------------------------------------------------------------
// Building values

export const BIN_KINDS: readonly BinKind[] = [
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
  'DataView',
  'ArrayBuffer',
];

type TypedCtor = new (buffer: ArrayBuffer, byteOffset?: number, length?: number) => ArrayBufferView;

/** Every typed array kind, by name (shared with the tests that go through each kind). */
export const TYPED: Record<Exclude<BinKind, 'DataView' | 'ArrayBuffer'>, TypedCtor> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
};

export function elementSize(kind: BinKind): number {
  return kind === 'DataView' || kind === 'ArrayBuffer'
    ? 1
    : (TYPED[kind] as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
}

/** A user-defined class named on its prototype (name not an own property). */
class CustomError extends Error {}
Object.defineProperty(CustomError.prototype, 'name', {
  value: 'CustomError',
  writable: true,
  configurable: true,
});

/** The common pattern: the constructor assigns `this.name`, an own enumerable property. */
class HttpError extends Error {
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'HttpError';
  }
}

export const ERROR_NAMES = [
  'Error',
  'TypeError',
  'RangeError',
  'SyntaxError',
  'ReferenceError',
  'EvalError',
  'URIError',
  'AggregateError',
  'CustomError',
  'HttpError',
] as const;
export type ErrorName = (typeof ERROR_NAMES)[number];

const BUILTIN_ERRORS: Record<
  Exclude<ErrorName, 'AggregateError'>,
  new (m?: string, o?: ErrorOptions) => Error
> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
  CustomError,
  HttpError,
};

export const MATCH_PATTERNS = ['a', '(a)(b)?', '(?<x>a)|(?<y>b)', 'b+'] as const;
export const MATCH_FLAGS = ['', 'd', 'g'] as const;

export function execMatch(spec: { pattern: number; flags: number; input: string }): RegExpExecArray | null {
  const re = new RegExp(
    MATCH_PATTERNS[spec.pattern % MATCH_PATTERNS.length]!,
    MATCH_FLAGS[spec.flags % MATCH_FLAGS.length],
  );
  return re.exec(spec.input);
}

/** mulberry32: small, seeded, good enough to pick orders and layouts. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Builds the argument list a Spec describes; `seed` picks every identity-neutral choice. */
export function build(args: Args, seed: number): unknown[] {
  return new Builder(rng(seed)).args(args);
}

const ids = new WeakMap<object, string | null>();

/** A canonical text of a Spec without back-references (null if it has any): equal texts build equal values. */
function specId(spec: Spec): string | null {
  const known = ids.get(spec);
  if (known !== undefined) return known;
  let id: string | null;
  try {
    id = JSON.stringify(spec, (_k, v: unknown) => {
      if (typeof v === 'bigint') return `${v}n`;
      if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
      if (v === undefined) return '<undefined>';
      if (typeof v === 'object' && v !== null && (v as { t?: string }).t === 'ref') throw REF;
      return v;
    });
  } catch (e) {
    if (e !== REF) throw e;
    id = null;
  }
  ids.set(spec, id);
  return id;
}
const REF = new Error('has a back-reference');

class Builder {
  readonly #random: () => number;
  /** Containers being built, outermost first: what a `ref` points into. */
  readonly #open: object[] = [];
  /** Finished values by specId, to reuse (share) instead of copying. */
  readonly #done = new Map<string, unknown>();

  constructor(random: () => number) {
    this.#random = random;
  }

  args(args: Args): unknown[] {
    return args.map((s) => this.value(s, true));
  }

  #chance(p: number): boolean {
    return this.#random() < p;
  }

  #int(n: number): number {
    return Math.floor(this.#random() * n);
  }

  /** `shareable` is false for Map keys and Set items, where one object twice would merge two entries. */
  value(spec: Spec, shareable: boolean): unknown {
    if (spec.t === 'prim') return spec.v;
    if (spec.t === 'ref') {
      const open = this.#open;
      return open.length === 0 ? null : open[open.length - 1 - (spec.up % open.length)];
    }
    const id = shareable ? specId(spec) : null;
    if (id !== null) {
      const earlier = this.#done.get(id);
      if (earlier !== undefined && this.#chance(0.5)) return earlier;
    }
    const built = this.#object(spec);
    if (id !== null && !this.#done.has(id)) this.#done.set(id, built);
    return built;
  }

  #object(spec: Exclude<Spec, { t: 'prim' | 'ref' }>): unknown {
    switch (spec.t) {
      case 'obj': {
        const nullProto = this.#chance(0.25) ? !spec.nullProto : spec.nullProto;
        const out = (nullProto ? Object.create(null) : {}) as Record<string, unknown>;
        this.#open.push(out);
        for (const [k, v] of shuffled(spec.entries, this.#random)) this.#define(out, k, this.value(v, true));
        this.#open.pop();
        return out;
      }
      case 'arr': {
        const out = new Array<unknown>(spec.items.length);
        this.#open.push(out);
        const order = shuffled(
          spec.items.map((_, i) => i),
          this.#random,
        );
        for (const i of order) {
          const item = spec.items[i];
          if (item) out[i] = this.value(item, true);
        }
        for (const [k, v] of shuffled(spec.extra, this.#random)) this.#define(out, k, this.value(v, true));
        this.#open.pop();
        return out;
      }
      case 'match':
        return execMatch(spec);
      case 'date':
        return new Date(spec.time);
      case 'regexp': {
        const re = new RegExp(spec.source, spec.flags);
        re.lastIndex = this.#int(3);
        return re;
      }
      case 'url':
        return new URL(spec.href);
      case 'error':
        return this.#error(spec);
      case 'map': {
        const out = new Map<unknown, unknown>();
        this.#open.push(out);
        // Equal keys (SameValueZero) keep the last value in spec order, whatever the insertion order.
        const built = new Map(
          spec.entries.map(([k, v]) => [this.value(k, false), this.value(v, true)] as const),
        );
        for (const [k, v] of shuffled([...built], this.#random)) out.set(k, v);
        this.#open.pop();
        return out;
      }
      case 'set': {
        const out = new Set<unknown>();
        this.#open.push(out);
        const built = spec.items.map((s) => this.value(s, false));
        for (const item of shuffled(built, this.#random)) out.add(item);
        this.#open.pop();
        return out;
      }
      case 'bin':
        return this.#binary(spec.kind, spec.bytes);
    }
  }

  /** Own enumerable data property; `__proto__` too (an assignment would set the prototype). */
  #define(target: object, key: string, value: unknown): void {
    if (key === '__proto__' || this.#chance(0.3)) {
      Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
    } else {
      (target as Record<string, unknown>)[key] = value;
    }
  }

  #error(spec: Extract<Spec, { t: 'error' }>): Error {
    const viaAssignment = this.#chance(0.25);
    // A cause or errors list that refers back to the error can only be set after it exists.
    const late =
      this.#chance(0.3) ||
      (spec.cause && specId(spec.cause) === null) ||
      spec.errors?.some((e) => specId(e) === null);
    let error: Error;
    let causeSet = false;
    let errorsSet = false;
    const message = viaAssignment ? undefined : spec.message;
    if (spec.name === 'AggregateError') {
      if (!late) {
        const errors = (spec.errors ?? []).map((e) => this.value(e, true));
        error =
          spec.cause === undefined
            ? new AggregateError(errors, message)
            : new AggregateError(errors, message, { cause: this.value(spec.cause, true) });
        causeSet = errorsSet = true;
      } else {
        error = new AggregateError([], message);
      }
    } else {
      let Ctor = BUILTIN_ERRORS[spec.name];
      let ownName = false;
      // Custom names: a class named on its prototype, or an own `name` set by the constructor
      // or afterwards; all arrive as an Error with that name.
      if (spec.name === 'CustomError' || spec.name === 'HttpError') {
        const how = this.#int(3);
        if (how === 1) Ctor = spec.name === 'CustomError' ? HttpError : CustomError;
        if (how === 2) Ctor = Error;
        ownName = how !== 0;
      }
      if (!late && spec.cause !== undefined) {
        error = new Ctor(message, { cause: this.value(spec.cause, true) });
        causeSet = true;
      } else {
        error = new Ctor(message);
      }
      if (ownName) {
        if (this.#chance(0.5)) error.name = spec.name;
        else Object.defineProperty(error, 'name', { value: spec.name, writable: true, configurable: true });
      }
    }
    if (viaAssignment && spec.message !== '') error.message = spec.message;
    this.#open.push(error);
    if (!causeSet && spec.cause !== undefined) {
      const cause = this.value(spec.cause, true);
      if (this.#chance(0.5)) error.cause = cause;
      else Object.defineProperty(error, 'cause', { value: cause, writable: true, configurable: true });
    }
    if (!errorsSet && spec.errors) {
      const errors = spec.errors.map((e) => this.value(e, true));
      Object.defineProperty(error, 'errors', { value: errors, writable: true, configurable: true });
    }
    for (const [k, v] of shuffled(spec.props, this.#random)) this.#define(error, k, this.value(v, true));
    this.#open.pop();
    return error;
  }

  #binary(kind: BinKind, bytes: readonly number[]): ArrayBufferView | ArrayBuffer {
    const size = elementSize(kind);
    const length = bytes.length;
    // Somewhere inside a bigger buffer, aligned for the element size, with other bytes around.
    const before = this.#chance(0.5) ? size * this.#int(5) : 0;
    const after = this.#chance(0.5) ? this.#int(9) : 0;
    const whole = new Uint8Array(before + length + after);
    for (let i = 0; i < whole.length; i++) whole[i] = this.#int(256);
    whole.set(bytes, before);
    const buffer = whole.buffer;
    switch (kind) {
      case 'ArrayBuffer':
        return buffer.slice(before, before + length);
      case 'DataView':
        return new DataView(buffer, before, length);
      case 'Uint8Array': {
        const how = this.#int(4);
        // Buffer.from(array) of a few bytes is carved out of Node's shared 8 KiB pool.
        if (how === 0) return Buffer.from(bytes);
        if (how === 1) return Buffer.from(buffer, before, length);
        if (how === 2) return new Uint8Array(buffer).subarray(before, before + length);
        return new Uint8Array(buffer, before, length);
      }
      default:
        return new TYPED[kind](buffer, before, length / size);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Generating specs

/** Characters a key text might use as delimiters or type tags, and a few awkward code units. */
const DELIMITERS = [
  ...'{}[]():;,^"#|\\0123456789snbTFUNHELRDAMS-.ex',
  '\u0000',
  '\ud800',
  '\udfff',
  '\u{1f600}',
];

const delimiterString = fc.array(fc.constantFrom(...DELIMITERS), { maxLength: 8 }).map((cs) => cs.join(''));
const longString = fc
  .tuple(fc.constantFrom(...DELIMITERS), fc.integer({ min: 100, max: 5000 }), delimiterString)
  .map(([c, n, tail]) => c.repeat(n) + tail);

const stringArb = fc.oneof(
  { withCrossShrink: true },
  { arbitrary: delimiterString, weight: 6 },
  {
    arbitrary: fc.constantFrom(
      '',
      'a',
      '1',
      'true',
      'undefined',
      'null',
      'NaN',
      '-0',
      's1:a',
      'n1;',
      'U',
      '1:a',
    ),
    weight: 3,
  },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 6 }), weight: 2 },
  { arbitrary: longString, weight: 1 },
);

const numberArb = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    NaN,
    Infinity,
    -Infinity,
    1,
    -1,
    0.1,
    1e21,
    1e-7,
    2 ** 53,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
  ),
  fc.integer({ min: -3, max: 3 }),
  fc.double(),
);

const bigintArb = fc.oneof(fc.constantFrom(0n, 1n, -1n), fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }));

const primArb: fc.Arbitrary<Prim> = fc.oneof(
  { withCrossShrink: true },
  { arbitrary: stringArb, weight: 4 },
  { arbitrary: numberArb, weight: 4 },
  { arbitrary: bigintArb, weight: 1 },
  { arbitrary: fc.boolean(), weight: 1 },
  { arbitrary: fc.constantFrom(null, undefined), weight: 2 },
);

const INTERESTING_KEYS = [
  'a',
  'b',
  'c',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'index',
  'input',
  'groups',
  'code',
  '0',
  '1',
  '10',
  '-1',
  '01',
  '1.5',
  '4294967295',
  '',
];
const keyArb = fc.oneof(
  { arbitrary: fc.constantFrom(...INTERESTING_KEYS), weight: 3 },
  { arbitrary: delimiterString, weight: 1 },
);

export function isIndex(key: string): boolean {
  const n = Number(key);
  return Number.isInteger(n) && n >= 0 && n < 2 ** 32 - 1 && String(n) === key;
}
const arrayExtraKey = (keys: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  keys.filter((k) => !isIndex(k) && k !== 'length');
const errorPropKey = (keys: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  keys.filter((k) => !['name', 'message', 'stack', 'cause', 'errors'].includes(k));

/** The sources of generated RegExps must compile: escape everything special. */
function regexpSource(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

const URL_BASES = [
  'http://x/',
  'https://example.com/a?b=1#c',
  'file:///tmp/',
  'http://[::1]:8080/',
  'data:,',
];

function urlHref(base: string, suffix: string): string {
  try {
    return new URL(base + suffix).href;
  } catch {
    return new URL(base).href;
  }
}

export interface Domain {
  prim: fc.Arbitrary<Prim>;
  key: fc.Arbitrary<string>;
  string: fc.Arbitrary<string>;
  bytes: fc.Arbitrary<number[]>;
  binKinds: readonly BinKind[];
  maxDepth: number;
  maxLength: number;
  maxArgs: number;
}

/** Everything, at small sizes. */
export const WIDE: Domain = {
  prim: primArb,
  key: keyArb,
  string: stringArb,
  bytes: fc.oneof(
    fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 24 }),
    fc.array(fc.integer({ min: 0, max: 1 }), { maxLength: 8 }),
  ),
  binKinds: BIN_KINDS,
  maxDepth: 4,
  maxLength: 4,
  maxArgs: 4,
};

/**
 * Few distinct leaves and shallow shapes, so that two independently generated argument lists are
 * often equal or nearly equal: where a key that drops some detail would collide.
 */
export const NARROW: Domain = {
  prim: fc.constantFrom<Prim>(undefined, null, 0, -0, NaN, '', '0', 0n),
  key: fc.constantFrom('a', '0', '__proto__', 'index'),
  string: fc.constantFrom('', 'a'),
  bytes: fc.array(fc.integer({ min: 0, max: 1 }), { maxLength: 4 }),
  binKinds: ['Int8Array', 'Uint8Array', 'Int16Array', 'DataView', 'ArrayBuffer'],
  maxDepth: 2,
  maxLength: 2,
  maxArgs: 2,
};

export function specArb(d: Domain): fc.Arbitrary<Spec> {
  const depth = { depthIdentifier: 'spec', maxLength: d.maxLength } as const;
  const { value } = fc.letrec<{ value: Spec; child: Spec; leaf: Spec; container: Spec }>((tie) => ({
    value: fc.oneof(
      { maxDepth: d.maxDepth, depthIdentifier: 'spec', withCrossShrink: true },
      { arbitrary: tie('leaf'), weight: 3 },
      { arbitrary: tie('container'), weight: 2 },
    ),
    // Inside a container a value may also point back to an enclosing one.
    child: fc.oneof(
      { arbitrary: tie('value'), weight: 12 },
      { arbitrary: fc.nat(3).map((up): Spec => ({ t: 'ref', up })), weight: 1 },
    ),
    leaf: fc.oneof(
      { arbitrary: d.prim.map((v): Spec => ({ t: 'prim', v })), weight: 12 },
      {
        arbitrary: fc
          .oneof(fc.constant(NaN), fc.integer({ min: -8.64e15, max: 8.64e15 }), fc.constantFrom(0, -1, 1))
          .map((time): Spec => ({ t: 'date', time })),
        weight: 1,
      },
      {
        arbitrary: fc
          .tuple(d.string, fc.subarray([...'dgimsuy']))
          .map(([s, flags]): Spec => ({ t: 'regexp', source: regexpSource(s), flags: flags.join('') })),
        weight: 1,
      },
      {
        arbitrary: fc
          .tuple(fc.constantFrom(...URL_BASES), d.string)
          .map(([b, s]): Spec => ({ t: 'url', href: urlHref(b, s) })),
        weight: 1,
      },
      {
        arbitrary: fc.tuple(fc.constantFrom(...d.binKinds), d.bytes).map(([kind, bytes]): Spec => ({
          t: 'bin',
          kind,
          bytes: bytes.slice(0, bytes.length - (bytes.length % elementSize(kind))),
        })),
        weight: 3,
      },
      {
        arbitrary: fc
          .record({
            pattern: fc.nat(MATCH_PATTERNS.length - 1),
            flags: fc.nat(MATCH_FLAGS.length - 1),
            input: fc.stringMatching(/^[ab]{0,3}$/),
          })
          .map((m): Spec => ({ t: 'match', ...m })),
        weight: 1,
      },
    ),
    container: fc.oneof(
      {
        arbitrary: fc
          .tuple(
            fc.boolean(),
            fc.uniqueArray(fc.tuple(d.key, tie('child')), { ...depth, selector: (e) => e[0] }),
          )
          .map(([nullProto, entries]): Spec => ({ t: 'obj', nullProto, entries })),
        weight: 4,
      },
      {
        arbitrary: fc
          .tuple(
            fc.array(fc.option(tie('child'), { nil: null, freq: 4 }), depth),
            fc.oneof(
              { arbitrary: fc.constant([]), weight: 3 },
              {
                arbitrary: fc.uniqueArray(fc.tuple(arrayExtraKey(d.key), tie('child')), {
                  ...depth,
                  maxLength: 2,
                  selector: (e) => e[0],
                }),
                weight: 1,
              },
            ),
          )
          .map(([items, extra]): Spec => ({ t: 'arr', items, extra })),
        weight: 4,
      },
      {
        arbitrary: fc
          .record({
            name: fc.constantFrom(...ERROR_NAMES),
            message: d.string,
            cause: fc.option(tie('child'), { nil: undefined }),
            props: fc.oneof(
              fc.constant([]),
              fc.uniqueArray(fc.tuple(errorPropKey(d.key), tie('child')), {
                ...depth,
                maxLength: 2,
                selector: (e) => e[0],
              }),
            ),
            errors: fc.array(tie('child'), { ...depth, maxLength: 3 }),
          })
          .map((e): Spec => ({
            t: 'error',
            ...e,
            errors: e.name === 'AggregateError' ? e.errors : undefined,
          })),
        weight: 2,
      },
      {
        arbitrary: fc
          .array(fc.tuple(tie('child'), tie('child')), depth)
          .map((entries): Spec => ({ t: 'map', entries })),
        weight: 1,
      },
      { arbitrary: fc.array(tie('child'), depth).map((items): Spec => ({ t: 'set', items })), weight: 1 },
    ),
  }));
  return value;
}

/** An argument list; now and then one argument repeated, so that builds can share it. */
export function argsArb(d: Domain): fc.Arbitrary<Args> {
  return fc
    .tuple(fc.array(specArb(d), { maxLength: d.maxArgs }), fc.nat(7))
    .map(([args, dup]) => (dup < args.length && dup < 2 ? [...args, args[dup]!] : args));
}

// ---------------------------------------------------------------------------------------------
// Mutations: small changes that usually make a different argument list

type Mutation = (spec: Spec, r: number) => Spec | undefined;

const SMALL: readonly Spec[] = [
  { t: 'prim', v: undefined },
  { t: 'prim', v: null },
  { t: 'prim', v: 0 },
  { t: 'prim', v: '' },
  { t: 'obj', nullProto: false, entries: [] },
  { t: 'arr', items: [], extra: [] },
];
const NEW_KEYS = ['a', 'z', '__proto__', 'index', '0', 'x:y', ''];

function removeAt<T>(xs: readonly T[], i: number): T[] {
  return xs.filter((_, j) => j !== i);
}
function replaceAt<T>(xs: readonly T[], i: number, x: T): T[] {
  return xs.map((y, j) => (j === i ? x : y));
}
function insertAt<T>(xs: readonly T[], i: number, ...x: T[]): T[] {
  return [...xs.slice(0, i), ...x, ...xs.slice(i)];
}
function addEntry(
  entries: readonly Entry[],
  r: number,
  keep: (k: string) => boolean = () => true,
): Entry[] | undefined {
  const key = NEW_KEYS.find((k, i) => i >= r % NEW_KEYS.length && keep(k) && !entries.some(([e]) => e === k));
  return key === undefined ? undefined : [...entries, [key, SMALL[r % SMALL.length]!]];
}

function nudge(v: Prim, r: number): Prim {
  switch (typeof v) {
    case 'number':
      return [
        Object.is(v, 0) ? -0 : Object.is(v, -0) ? 0 : v + 1,
        -v,
        String(v),
        Number.isNaN(v) ? 0 : NaN,
        Number.isInteger(v) ? BigInt(v) : 0n,
      ][r % 5];
    case 'string':
      return [v + 'a', v.slice(0, -1) || 'a', Number(v), v + '\u0000', v === '' ? undefined : v.slice(1)][
        r % 5
      ];
    case 'bigint':
      return [v + 1n, Number(v), String(v)][r % 3];
    case 'boolean':
      return [!v, Number(v), String(v)][r % 3];
    default:
      return [v === undefined ? null : undefined, 0, '', false][r % 4];
  }
}

const PRIM_MUTATIONS: Record<string, Mutation> = {
  nudge: (s, r) => (s.t === 'prim' ? { t: 'prim', v: nudge(s.v, r) } : undefined),
};

const ANY_MUTATIONS: Record<string, Mutation> = {
  replaceWithSmall: (s, r) => SMALL[r % SMALL.length],
  wrapInArray: (s) => ({ t: 'arr', items: [s], extra: [] }),
};

/** `[new Error('m', {cause: x})]` against `[new Error('m'), x]`. */
const causeToNextElement: Mutation = (s, r) => {
  if (s.t !== 'arr') return undefined;
  const at = s.items
    .map((x, i) => (x?.t === 'error' && x.cause !== undefined ? i : -1))
    .filter((i) => i >= 0);
  if (!at.length) return undefined;
  const i = at[r % at.length]!;
  const e = s.items[i] as Extract<Spec, { t: 'error' }>;
  return { ...s, items: insertAt(replaceAt(s.items, i, { ...e, cause: undefined }), i + 1, e.cause!) };
};

const KIND_MUTATIONS: { [K in Spec['t']]?: Record<string, Mutation> } = {
  obj: {
    addKey: (s, r) => {
      if (s.t !== 'obj') return undefined;
      const entries = addEntry(s.entries, r);
      return entries && { ...s, entries };
    },
    removeKey: (s, r) =>
      s.t === 'obj' && s.entries.length > 0
        ? { ...s, entries: removeAt(s.entries, r % s.entries.length) }
        : undefined,
    renameKey: (s, r) => {
      if (s.t !== 'obj' || s.entries.length === 0) return undefined;
      const i = r % s.entries.length;
      const [k, v] = s.entries[i]!;
      const renamed = k + '_';
      return s.entries.some(([e]) => e === renamed)
        ? undefined
        : { ...s, entries: replaceAt(s.entries, i, [renamed, v] as const) };
    },
    toArray: (s) => (s.t === 'obj' ? { t: 'arr', items: s.entries.map(([, v]) => v), extra: [] } : undefined),
    toMap: (s) =>
      s.t === 'obj'
        ? { t: 'map', entries: s.entries.map(([k, v]) => [{ t: 'prim', v: k }, v] as const) }
        : undefined,
  },
  arr: {
    push: (s, r) =>
      s.t === 'arr' ? { ...s, items: [...s.items, r % 2 ? null : { t: 'prim', v: undefined }] } : undefined,
    pop: (s) => (s.t === 'arr' && s.items.length > 0 ? { ...s, items: s.items.slice(0, -1) } : undefined),
    undefinedToHole: (s, r) => {
      if (s.t !== 'arr') return undefined;
      const at = s.items.map((x, i) => (x?.t === 'prim' && x.v === undefined ? i : -1)).filter((i) => i >= 0);
      return at.length ? { ...s, items: replaceAt(s.items, at[r % at.length]!, null) } : undefined;
    },
    holeToUndefined: (s, r) => {
      if (s.t !== 'arr') return undefined;
      const at = s.items.map((x, i) => (x === null ? i : -1)).filter((i) => i >= 0);
      return at.length
        ? { ...s, items: replaceAt(s.items, at[r % at.length]!, { t: 'prim', v: undefined }) }
        : undefined;
    },
    addProperty: (s, r) => {
      if (s.t !== 'arr') return undefined;
      const extra = addEntry(s.extra, r, (k) => !isIndex(k));
      return extra && { ...s, extra };
    },
    dropProperties: (s) => (s.t === 'arr' && s.extra.length > 0 ? { ...s, extra: [] } : undefined),
    swap: (s, r) => {
      if (s.t !== 'arr' || s.items.length < 2) return undefined;
      const i = r % (s.items.length - 1);
      const items = [...s.items];
      [items[i], items[i + 1]] = [items[i + 1]!, items[i]!];
      return { ...s, items };
    },
    toObject: (s) =>
      s.t === 'arr'
        ? {
            t: 'obj',
            nullProto: false,
            entries: s.items.flatMap((x, i) => (x ? [[String(i), x] as const] : [])),
          }
        : undefined,
  },
  match: {
    changeInput: (s) => (s.t === 'match' ? { ...s, input: s.input + 'a' } : undefined),
    changeFlags: (s) => (s.t === 'match' ? { ...s, flags: s.flags + 1 } : undefined),
    // The same elements without `index`, `input`, `groups`.
    toPlainArray: (s) => {
      if (s.t !== 'match') return undefined;
      const m = execMatch(s);
      return m ? { t: 'arr', items: [...m].map((v) => ({ t: 'prim', v })), extra: [] } : undefined;
    },
  },
  date: {
    shift: (s, r) =>
      s.t === 'date'
        ? { t: 'date', time: r % 2 && !Number.isNaN(s.time) ? s.time + 1 : Number.isNaN(s.time) ? 0 : NaN }
        : undefined,
    toIsoString: (s) =>
      s.t === 'date' && !Number.isNaN(s.time) ? { t: 'prim', v: new Date(s.time).toISOString() } : undefined,
  },
  regexp: {
    toggleFlag: (s, r) => {
      if (s.t !== 'regexp') return undefined;
      const f = 'gimsy'[r % 5]!;
      return { ...s, flags: s.flags.includes(f) ? s.flags.replace(f, '') : s.flags + f };
    },
    extendSource: (s) => (s.t === 'regexp' ? { ...s, source: s.source + 'a' } : undefined),
  },
  url: {
    extend: (s) =>
      s.t === 'url'
        ? { t: 'url', href: urlHref(s.href, 'z') === s.href ? s.href + 'z' : urlHref(s.href, 'z') }
        : undefined,
    toHref: (s) => (s.t === 'url' ? { t: 'prim', v: s.href } : undefined),
  },
  error: {
    rename: (s, r) => {
      if (s.t !== 'error') return undefined;
      const name = ERROR_NAMES.filter((n) => n !== s.name)[r % (ERROR_NAMES.length - 1)]!;
      return { ...s, name, errors: name === 'AggregateError' ? (s.errors ?? []) : undefined };
    },
    changeMessage: (s) => (s.t === 'error' ? { ...s, message: s.message + 'm' } : undefined),
    dropCause: (s) => (s.t === 'error' && s.cause !== undefined ? { ...s, cause: undefined } : undefined),
    addUndefinedCause: (s) =>
      s.t === 'error' && s.cause === undefined ? { ...s, cause: { t: 'prim', v: undefined } } : undefined,
    causeToProperty: (s) =>
      s.t === 'error' && s.cause !== undefined && !s.props.some(([k]) => k === 'a')
        ? { ...s, cause: undefined, props: [...s.props, ['a', s.cause] as const] }
        : undefined,
    addProperty: (s, r) => {
      if (s.t !== 'error') return undefined;
      const props = addEntry(s.props, r);
      return props && { ...s, props };
    },
    removeProperty: (s, r) =>
      s.t === 'error' && s.props.length > 0
        ? { ...s, props: removeAt(s.props, r % s.props.length) }
        : undefined,
    changeErrors: (s, r) => {
      if (s.t !== 'error' || !s.errors) return undefined;
      return {
        ...s,
        errors: s.errors.length > 0 && r % 2 ? s.errors.slice(1) : [...s.errors, { t: 'prim', v: undefined }],
      };
    },
    // An AggregateError against an Error with the same message and no `errors`.
    plainError: (s) =>
      s.t === 'error' && s.name === 'AggregateError' ? { ...s, name: 'Error', errors: undefined } : undefined,
  },
  map: {
    removeEntry: (s, r) =>
      s.t === 'map' && s.entries.length > 0
        ? { ...s, entries: removeAt(s.entries, r % s.entries.length) }
        : undefined,
    addEntry: (s, r) =>
      s.t === 'map'
        ? { ...s, entries: [...s.entries, [SMALL[r % SMALL.length]!, { t: 'prim', v: 1 }] as const] }
        : undefined,
    swapKeyValue: (s, r) => {
      if (s.t !== 'map' || s.entries.length === 0) return undefined;
      const i = r % s.entries.length;
      const [k, v] = s.entries[i]!;
      return { ...s, entries: replaceAt(s.entries, i, [v, k] as const) };
    },
    toSet: (s) => (s.t === 'map' ? { t: 'set', items: s.entries.map(([k]) => k) } : undefined),
  },
  set: {
    removeItem: (s, r) =>
      s.t === 'set' && s.items.length > 0
        ? { ...s, items: removeAt(s.items, r % s.items.length) }
        : undefined,
    addItem: (s, r) => (s.t === 'set' ? { ...s, items: [...s.items, SMALL[r % SMALL.length]!] } : undefined),
    toArray: (s) => (s.t === 'set' ? { t: 'arr', items: s.items, extra: [] } : undefined),
  },
  bin: {
    flipByte: (s, r) =>
      s.t === 'bin' && s.bytes.length > 0
        ? { ...s, bytes: replaceAt(s.bytes, r % s.bytes.length, s.bytes[r % s.bytes.length]! ^ 1) }
        : undefined,
    lengthen: (s) =>
      s.t === 'bin'
        ? { ...s, bytes: [...s.bytes, ...new Array<number>(elementSize(s.kind)).fill(0)] }
        : undefined,
    shorten: (s) =>
      s.t === 'bin' && s.bytes.length > 0
        ? { ...s, bytes: s.bytes.slice(0, -elementSize(s.kind)) }
        : undefined,
    // Same bytes, another kind (trimmed to whole elements of the new kind).
    changeKind: (s, r) => {
      if (s.t !== 'bin') return undefined;
      const kind = BIN_KINDS.filter((k) => k !== s.kind)[r % (BIN_KINDS.length - 1)]!;
      return {
        t: 'bin',
        kind,
        bytes: s.bytes.slice(0, s.bytes.length - (s.bytes.length % elementSize(kind))),
      };
    },
  },
  ref: {
    moveUp: (s) => (s.t === 'ref' ? { t: 'ref', up: s.up + 1 } : undefined),
  },
};

const ARGS_MUTATIONS: Record<string, (args: Args, r: number) => Args | undefined> = {
  dropLast: (args) => (args.length > 0 ? args.slice(0, -1) : undefined),
  addUndefined: (args) => [...args, { t: 'prim', v: undefined }],
  swapArgs: (args, r) => {
    if (args.length < 2) return undefined;
    const i = r % (args.length - 1);
    const out = [...args];
    [out[i], out[i + 1]] = [out[i + 1]!, out[i]!];
    return out;
  },
  // `f(new Error('m', {cause: x}))` against `f(new Error('m'), x)`.
  causeToNextArgument: (args, r) => {
    const at = args.map((x, i) => (x.t === 'error' && x.cause !== undefined ? i : -1)).filter((i) => i >= 0);
    if (!at.length) return undefined;
    const i = at[r % at.length]!;
    const e = args[i] as Extract<Spec, { t: 'error' }>;
    return insertAt(replaceAt(args, i, { ...e, cause: undefined }), i + 1, e.cause!);
  },
  // `f([x, y])` against `f([x], y)`.
  lastElementToNextArgument: (args, r) => {
    const at = args
      .map((x, i) => (x.t === 'arr' && x.items.length > 0 && x.items.at(-1) !== null ? i : -1))
      .filter((i) => i >= 0);
    if (!at.length) return undefined;
    const i = at[r % at.length]!;
    const a = args[i] as Extract<Spec, { t: 'arr' }>;
    return insertAt(replaceAt(args, i, { ...a, items: a.items.slice(0, -1) }), i + 1, a.items.at(-1)!);
  },
  // `f('ab')` against `f('a', 'b')`.
  splitString: (args, r) => {
    const at = args
      .map((x, i) => (x.t === 'prim' && typeof x.v === 'string' && x.v.length > 0 ? i : -1))
      .filter((i) => i >= 0);
    if (!at.length) return undefined;
    const i = at[r % at.length]!;
    const s = (args[i] as { v: string }).v;
    const cut = r % (s.length + 1);
    return insertAt(replaceAt(args, i, { t: 'prim', v: s.slice(0, cut) }), i + 1, {
      t: 'prim',
      v: s.slice(cut),
    });
  },
  argsIntoArray: (args) => [{ t: 'arr', items: args, extra: [] }],
  // `f({x: [new Error('m', {cause: c})]})` against `f({x: [new Error('m'), c]})`, at any depth.
  nestedCauseToNextElement: (args, r) => {
    const sites: [number, number][] = [];
    args.forEach((arg, i) => {
      for (let n = 0, total = countNodes(arg); n < total; n++) {
        let node: Spec | undefined;
        rewriteAt(arg, { n }, (s) => (node = s));
        if (node && causeToNextElement(node, 0)) sites.push([i, n]);
      }
    });
    if (!sites.length) return undefined;
    const [i, n] = sites[r % sites.length]!;
    return replaceAt(
      args,
      i,
      rewriteAt(args[i]!, { n }, (s) => causeToNextElement(s, r)!),
    );
  },
};

export const MUTATION_NAMES: readonly string[] = [
  ...Object.keys(ARGS_MUTATIONS).map((n) => `args.${n}`),
  ...Object.keys(PRIM_MUTATIONS).map((n) => `prim.${n}`),
  ...Object.keys(ANY_MUTATIONS).map((n) => `any.${n}`),
  ...Object.entries(KIND_MUTATIONS).flatMap(([t, ms]) => Object.keys(ms).map((n) => `${t}.${n}`)),
];

function childrenOf(s: Spec): Spec[] {
  switch (s.t) {
    case 'obj':
      return s.entries.map((e) => e[1]);
    case 'arr':
      return [...s.items.filter((x): x is Spec => x !== null), ...s.extra.map((e) => e[1])];
    case 'error':
      return [...(s.cause ? [s.cause] : []), ...s.props.map((e) => e[1]), ...(s.errors ?? [])];
    case 'map':
      return s.entries.flat();
    case 'set':
      return [...s.items];
    default:
      return [];
  }
}

function countNodes(s: Spec): number {
  return 1 + childrenOf(s).reduce((n, c) => n + countNodes(c), 0);
}

/** Rebuilds `s` with the node numbered `target` (pre-order) replaced by `fn(node)`. */
function rewriteAt(s: Spec, at: { n: number }, fn: (node: Spec) => Spec): Spec {
  if (at.n-- === 0) return fn(s);
  const r = (c: Spec): Spec => (at.n < 0 ? c : rewriteAt(c, at, fn));
  const re = (entries: readonly Entry[]): Entry[] => entries.map(([k, v]) => [k, r(v)] as const);
  switch (s.t) {
    case 'obj':
      return { ...s, entries: re(s.entries) };
    case 'arr':
      return { ...s, items: s.items.map((x) => (x === null ? null : r(x))), extra: re(s.extra) };
    case 'error': {
      const cause = s.cause && r(s.cause);
      const props = re(s.props);
      return { ...s, cause, props, errors: s.errors?.map(r) };
    }
    case 'map':
      return { ...s, entries: s.entries.map(([k, v]) => [r(k), r(v)] as const) };
    case 'set':
      return { ...s, items: s.items.map(r) };
    default:
      return s;
  }
}

export interface Mutated {
  args: Args;
  mutation: string;
}

/**
 * Applies one small change: `site` picks the node (0 is the argument list itself), `op` the
 * change among those that apply to it, `r` any detail. Returns undefined if nothing applies.
 */
export function mutate(args: Args, site: number, op: number, r: number): Mutated | undefined {
  const sizes = args.map(countNodes);
  const total = 1 + sizes.reduce((a, b) => a + b, 0);
  let pick = site % total;
  if (pick === 0) {
    const names = Object.keys(ARGS_MUTATIONS);
    for (let k = 0; k < names.length; k++) {
      const name = names[(op + k) % names.length]!;
      const out = ARGS_MUTATIONS[name]!(args, r);
      if (out) return { args: out, mutation: `args.${name}` };
    }
    return undefined;
  }
  pick--;
  let arg = 0;
  while (pick >= sizes[arg]!) pick -= sizes[arg++]!;
  let node: Spec | undefined;
  rewriteAt(args[arg]!, { n: pick }, (s) => (node = s));
  const target = node!;
  const candidates: [string, Mutation][] = [
    ...Object.entries(KIND_MUTATIONS[target.t] ?? {}).map(([n, m]): [string, Mutation] => [
      `${target.t}.${n}`,
      m,
    ]),
    ...(target.t === 'prim'
      ? Object.entries(PRIM_MUTATIONS).map(([n, m]): [string, Mutation] => [`prim.${n}`, m])
      : []),
    ...Object.entries(ANY_MUTATIONS).map(([n, m]): [string, Mutation] => [`any.${n}`, m]),
  ];
  for (let k = 0; k < candidates.length; k++) {
    const [name, m] = candidates[(op + k) % candidates.length]!;
    const changed = m(target, r);
    if (changed)
      return {
        args: replaceAt(
          args,
          arg,
          rewriteAt(args[arg]!, { n: pick }, () => changed),
        ),
        mutation: name,
      };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Pairs

/** Two argument lists to compare, printed in full when fast-check reports one. */
export class Pair {
  constructor(
    readonly a: unknown[],
    readonly b: unknown[],
    readonly how: string,
  ) {}

  [fc.toStringMethod](): string {
    return `${this.how}\n    a = ${showArgs(this.a)}\n    b = ${showArgs(this.b)}`;
  }
}

const seedArb = fc.integer({ min: 0, max: 0x7fffffff });

/** `a` and `b` built from one Spec with independent choices: equivalent by construction. */
export function equivalentPairArb(d: Domain = WIDE): fc.Arbitrary<Pair> {
  return fc
    .tuple(argsArb(d), seedArb, seedArb)
    .map(([args, s1, s2]) => new Pair(build(args, s1), build(args, s2), `rebuilt (seeds ${s1}, ${s2})`));
}

/** `b` is `a` with one small change (which may happen to change nothing the function sees). */
export function mutatedPairArb(d: Domain = WIDE): fc.Arbitrary<Pair> {
  return fc
    .tuple(argsArb(d), fc.nat(), fc.nat(), fc.nat(), seedArb, seedArb)
    .map(([args, site, op, r, s1, s2]) => {
      // Some mutation always applies (args.addUndefined does to any list).
      const m = mutate(args, site, op, r)!;
      return new Pair(build(args, s1), build(m.args, s2), `mutation ${m.mutation}`);
    });
}

/** Two argument lists generated independently. */
export function independentPairArb(d: Domain = NARROW): fc.Arbitrary<Pair> {
  return fc
    .tuple(argsArb(d), argsArb(d), seedArb, seedArb)
    .map(([x, y, s1, s2]) => new Pair(build(x, s1), build(y, s2), 'independent'));
}

// ---------------------------------------------------------------------------------------------
// Printing

export function showArgs(args: readonly unknown[]): string {
  return `f(${args.map((v) => show(v, [])).join(', ')})`;
}

function showString(s: string): string {
  if (s.length <= 60) return JSON.stringify(s);
  return `${JSON.stringify(s.slice(0, 40))} + … (${s.length} chars)`;
}

function showKey(k: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(k) && k !== '__proto__' ? k : JSON.stringify(k);
}

function showEntries(o: object, keys: readonly string[], path: object[]): string {
  return keys.map((k) => `${showKey(k)}: ${show((o as Record<string, unknown>)[k], path)}`).join(', ');
}

/** Source-like text of a value, with what identity depends on spelled out. */
export function show(v: unknown, path: object[]): string {
  switch (typeof v) {
    case 'string':
      return showString(v);
    case 'number':
      return Object.is(v, -0) ? '-0' : String(v);
    case 'bigint':
      return `${v}n`;
    case 'undefined':
      return 'undefined';
    case 'boolean':
      return String(v);
    case 'object':
      break;
    default:
      return `<${typeof v}>`;
  }
  if (v === null) return 'null';
  const back = path.indexOf(v);
  if (back !== -1) return `<cycle to enclosing #${back}>`;
  path.push(v);
  try {
    return showObject(v, path);
  } finally {
    path.pop();
  }
}

function showObject(v: object, path: object[]): string {
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto === null || proto === Object.prototype) {
    return `${proto === null ? '[null-proto]' : ''}{${showEntries(v, Object.keys(v), path)}}`;
  }
  if (Array.isArray(v)) {
    const items: string[] = [];
    for (let i = 0; i < v.length; i++) items.push(Object.hasOwn(v, i) ? show(v[i], path) : '<hole>');
    const extra = Object.keys(v).filter((k) => !isIndex(k));
    return `[${items.join(', ')}]${extra.length ? ` & {${showEntries(v, extra, path)}}` : ''}`;
  }
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  if (v instanceof RegExp) return String(v);
  if (v instanceof URL) return `new URL(${JSON.stringify(v.href)})`;
  if (v instanceof Map)
    return `Map{${[...v].map(([k, x]) => `${show(k, path)} => ${show(x, path)}`).join(', ')}}`;
  if (v instanceof Set) return `Set{${[...v].map((x) => show(x, path)).join(', ')}}`;
  if (v instanceof Error) {
    const parts = [
      `message: ${showString(v.message)}${Object.hasOwn(v, 'message') && Object.keys(v).includes('message') ? ' (enumerable)' : ''}`,
    ];
    if ('cause' in v)
      parts.push(`cause: ${show(v.cause, path)}${Object.keys(v).includes('cause') ? ' (enumerable)' : ''}`);
    if (v instanceof AggregateError) parts.push(`errors: ${show(v.errors, path)}`);
    const own = Object.keys(v).filter((k) => !['name', 'message', 'stack', 'cause'].includes(k));
    if (own.length) parts.push(`own: {${showEntries(v, own, path)}}`);
    const name = `${v.constructor.name}${v.name !== v.constructor.name ? ` named ${JSON.stringify(v.name)}` : ''}${Object.keys(v).includes('name') ? ' (own name)' : ''}`;
    return `${name}{${parts.join(', ')}}`;
  }
  if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
    const bytes = ArrayBuffer.isView(v)
      ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength)
      : new Uint8Array(v);
    const where =
      ArrayBuffer.isView(v) && (v.byteOffset !== 0 || v.buffer.byteLength !== v.byteLength)
        ? ` at byte ${v.byteOffset} of ${v.buffer.byteLength}`
        : '';
    const shown =
      bytes.length > 32
        ? `${[...bytes.subarray(0, 32)].join(',')},… (${bytes.length} bytes)`
        : [...bytes].join(',');
    return `${v.constructor.name}<bytes ${shown}>${where}`;
  }
  return `<${Object.prototype.toString.call(v)}>`;
}
