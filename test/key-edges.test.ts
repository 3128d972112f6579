/**
 * The key's rarer paths, which the generated argument lists of key-identity.test.ts do not
 * reach: arrays of 256 elements and more (packed numbers, holes, long runs of holes, extra
 * properties), the depth limit through every kind of container, the memo's reader (which calls
 * it serves without building a key, and what it lets go of), and how a refused walk is
 * explained. Each rule is checked against the same oracle as the identity properties
 * (test/support/equivalence.ts) where there is one.
 */
import { fc } from '@fast-check/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadHasher } from '../src/hash.js';
import { deriveKey, keyPrefix, sameBinaries } from '../src/key.js';
import { KeyMemo } from '../src/key-memo.js';
import { UnsendableValueError } from '../src/errors.js';
import { MAX_DEPTH } from '../src/kinds.js';
import { rebuildArgs } from '../src/rebuild-args.js';
import { equivalent } from './support/equivalence.js';
import { sameKey } from './support/key-properties.js';
import { gc } from './support/gc.js';

const P = keyPrefix(0, undefined);
const SEED = 20_261_126;

beforeAll(() => loadHasher());

/** One element of a big array, as generated: a hole, or a value of one of a few kinds. */
type Slot = { hole: true } | { value: unknown };
const slot: fc.Arbitrary<Slot> = fc.oneof(
  { weight: 6, arbitrary: fc.double().map((value) => ({ value })) },
  { weight: 2, arbitrary: fc.constant({ hole: true as const }) },
  { weight: 1, arbitrary: fc.constantFrom(undefined, null, 'x', '', true, 0n).map((value) => ({ value })) },
  { weight: 1, arbitrary: fc.constantFrom(0, -0, NaN, 1).map((value) => ({ value })) },
);

interface BigArray {
  /** Element i is `slots[i]` for i < slots.length, then the filler up to length. */
  slots: Slot[];
  length: number;
  filler: Slot;
  extra: { name: string; value: unknown } | undefined;
}

const bigArray: fc.Arbitrary<BigArray> = fc.record({
  slots: fc.array(slot, { minLength: 0, maxLength: 40 }),
  length: fc.integer({ min: 256, max: 700 }),
  filler: fc.oneof(
    fc.double().map((value) => ({ value })),
    fc.constant({ hole: true as const }),
  ),
  extra: fc.option(fc.record({ name: fc.constantFrom('foo', 'index', 'length2'), value: fc.integer() }), {
    nil: undefined,
  }),
});

function build(spec: BigArray): unknown[] {
  const arr: unknown[] = new Array(spec.length);
  for (let i = 0; i < spec.length; i++) {
    const s = i < spec.slots.length ? spec.slots[i]! : spec.filler;
    if ('value' in s) arr[i] = s.value;
  }
  if (spec.extra) (arr as unknown as Record<string, unknown>)[spec.extra.name] = spec.extra.value;
  return arr;
}

/** A small change to one array: one slot, the length, or the extra property. */
const tweak = fc.record({
  at: fc.nat(),
  to: slot,
  what: fc.constantFrom('slot', 'slot', 'slot', 'length', 'extra'),
});

function tweaked(spec: BigArray, t: { at: number; to: Slot; what: string }): BigArray {
  if (t.what === 'length') return { ...spec, length: spec.length + 1 + (t.at % 3) };
  if (t.what === 'extra') return { ...spec, extra: spec.extra ? undefined : { name: 'foo', value: t.at } };
  const slots = [...spec.slots];
  while (slots.length < spec.length && slots.length <= t.at % spec.length) slots.push(spec.filler);
  slots[t.at % spec.length] = t.to;
  return { ...spec, slots };
}

/** The arguments a run receives: rebuilt from the key's text (rebuild-args.ts). */
function rebuilt(args: unknown[]): unknown[] {
  const key = deriveKey(P, args);
  return rebuildArgs(key.text, P.length, key.binaries).args;
}

describe('arrays of 256 elements and more, against the oracle', () => {
  it('of numbers only, become one binary leaf verified byte for byte, not a text per element', () => {
    for (const length of [256, 100_000]) {
      const numbers = Array.from({ length }, (_, i) => i * 1.5);
      const key = deriveKey(P, [numbers]);
      expect(key.binaries).toHaveLength(1);
      expect(key.text.length).toBeLessThan(100);
    }
    // 255 numbers are written one by one; a string among 300 makes it element by element too.
    expect(deriveKey(P, [new Array(255).fill(1)]).binaries).toBeUndefined();
    expect(deriveKey(P, [[...new Array(299).fill(1), 'x']]).binaries).toBeUndefined();
  });

  it('share a key exactly when equivalent (generated pairs, both directions)', () => {
    let same = 0;
    let different = 0;
    fc.assert(
      fc.property(bigArray, tweak, fc.boolean(), (spec, t, nest) => {
        const wrap = (a: unknown[]): unknown[] => (nest ? [{ list: a }, 1] : [a]);
        const a = wrap(build(spec));
        const b = wrap(build(tweaked(spec, t)));
        const equal = equivalent(a, b);
        if (equal) same++;
        else different++;
        expect(sameKey(a, b)).toBe(equal);
        // A fresh copy of the same array always shares the key.
        expect(sameKey(a, wrap(build(spec)))).toBe(true);
        // The run's arguments are rebuilt from the key: they must be the caller's, holes and all.
        expect(equivalent(rebuilt(a), a)).toBe(true);
      }),
      { seed: SEED, numRuns: 600 },
    );
    expect(same).toBeGreaterThan(30);
    expect(different).toBeGreaterThan(300);
  });

  it('writes a run of 65,536 holes and more by the elements that follow it', () => {
    const make = (at: number[], length: number, value = 1): unknown[] => {
      const arr: unknown[] = new Array(length);
      arr[0] = 'head';
      for (const i of at) arr[i] = value;
      return arr;
    };
    const n = 200_000;
    const base = make([70_000, 150_000], n);
    expect(sameKey([base], [make([70_000, 150_000], n)])).toBe(true);
    expect(sameKey([base], [make([70_001, 150_000], n)])).toBe(false);
    expect(sameKey([base], [make([70_000, 150_001], n)])).toBe(false);
    expect(sameKey([base], [make([70_000, 150_000], n + 1)])).toBe(false);
    expect(sameKey([base], [make([70_000, 150_000], n, 2)])).toBe(false);
    expect(sameKey([base], [make([70_000], n)])).toBe(false);
    // Elements before the run of holes, and holes shorter than a run, count too.
    expect(sameKey([make([5, 70_000], n)], [make([6, 70_000], n)])).toBe(false);
    expect(sameKey([make([65_535, 131_072], n)], [make([65_536, 131_072], n)])).toBe(false);
    // And the run receives the same sparse arrays.
    for (const at of [[70_000, 150_000], [5, 70_000], [65_535, 131_072], [199_999], []]) {
      const args = [make(at, n), [make(at, 70_000)], 'after'];
      expect(equivalent(rebuilt(args), args)).toBe(true);
    }
    // A hole is not undefined, even far out.
    const hole = make([], n);
    const undef = make([], n);
    undef[150_000] = undefined;
    expect(sameKey([hole], [undef])).toBe(false);
    expect(equivalent([hole], [undef])).toBe(false);
  });
});

describe('the depth limit holds through every kind of container', () => {
  /** Nests `count` containers of one kind around an empty object (itself one more level). */
  const kinds: Record<string, (inner: unknown) => unknown> = {
    object: (inner) => ({ a: inner }),
    array: (inner) => [inner],
    'array with holes': (inner) => {
      const arr: unknown[] = new Array(3);
      arr[1] = inner;
      return arr;
    },
    'array with a property': (inner) => Object.assign([inner], { p: 1 }),
    'big array': (inner) => {
      const arr: unknown[] = new Array(300).fill(0);
      arr[299] = inner;
      return arr;
    },
    'big array with holes': (inner) => {
      const arr: unknown[] = new Array(300);
      arr[0] = 'x';
      arr[299] = inner;
      return arr;
    },
    'map key': (inner) => new Map([[inner, 1]]),
    'map value': (inner) => new Map([[1, inner]]),
    set: (inner) => new Set([inner]),
  };
  const nest = (wrap: (inner: unknown) => unknown, count: number): unknown => {
    let v: unknown = {};
    for (let i = 0; i < count; i++) v = wrap(v);
    return v;
  };
  const accepted = (v: unknown, memo?: KeyMemo): boolean => {
    try {
      deriveKey(P, [v], memo);
      return true;
    } catch (error) {
      expect(error).toBeInstanceOf(UnsendableValueError);
      return false;
    }
  };

  for (const [kind, wrap] of Object.entries(kinds)) {
    it(`${kind}: ${MAX_DEPTH} levels around a leaf object are accepted, one more is refused`, () => {
      expect(accepted(nest(wrap, MAX_DEPTH))).toBe(true);
      expect(accepted(nest(wrap, MAX_DEPTH + 1))).toBe(false);
      // The same through the memo's reader, which reads the outer levels for the walker.
      expect(accepted(nest(wrap, MAX_DEPTH), new KeyMemo())).toBe(true);
      expect(accepted(nest(wrap, MAX_DEPTH + 1), new KeyMemo())).toBe(false);
    });
  }

  it('a very sparse array (walked by its keys) counts one level, like any array', () => {
    // Only the outermost level is sparse: a run of 65,536 holes and more is walked by its keys.
    const sparse = (inner: unknown): unknown[] => {
      const arr: unknown[] = new Array(70_000);
      arr[0] = 'x';
      arr[69_999] = inner;
      return arr;
    };
    const plain = (inner: unknown): unknown => [inner];
    expect(accepted(sparse(nest(plain, MAX_DEPTH - 1)))).toBe(true);
    expect(accepted(sparse(nest(plain, MAX_DEPTH)))).toBe(false);
  });

  it('an error nests two levels deep for its cause and its errors, as the codec posts it', () => {
    const causes = (count: number): unknown => nest((inner) => new Error('e', { cause: inner }), count);
    expect(accepted(causes(MAX_DEPTH / 2))).toBe(true);
    expect(accepted(causes(MAX_DEPTH / 2 + 1))).toBe(false);
    // An AggregateError's errors are an array below it: three levels for each.
    const aggregate = (count: number): unknown => nest((inner) => new AggregateError([inner], 'a'), count);
    const most = Math.floor(MAX_DEPTH / 3);
    expect(accepted(aggregate(most))).toBe(true);
    expect(accepted(aggregate(most + 1))).toBe(false);
  });
});

describe('a call of one string or number', () => {
  it('is keyed by the value itself (the store finds it without building a text), except -0', () => {
    expect(deriveKey(P, [5]).single?.value).toBe(5);
    expect(deriveKey(P, ['five']).single?.value).toBe('five');
    expect(deriveKey(P, [-0]).single).toBeUndefined();
    expect(deriveKey(P, [5, 6]).single).toBeUndefined();
    expect(deriveKey(P, [true]).single).toBeUndefined();
    expect(sameKey([-0], [0])).toBe(false);
    expect(sameKey([5], ['5'])).toBe(false);
  });
});

describe("the memo's reader", () => {
  /** Whether the memo serves the call: the third call returns the second's key itself. */
  const served = (make: () => unknown[]): boolean => {
    const memo = new KeyMemo();
    const first = deriveKey(P, make(), memo);
    const second = deriveKey(P, make(), memo);
    const third = deriveKey(P, make(), memo);
    expect(second.text).toBe(first.text);
    expect(third.text).toBe(first.text);
    return third === second;
  };
  const deep = (levels: number): unknown => {
    let v: unknown = 1;
    for (let i = 0; i < levels; i++) v = { a: v };
    return v;
  };
  const keys = (n: number): Record<string, number> =>
    Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));

  it('serves plain objects, arrays and primitives, with the same key object on every hit', () => {
    expect(served(() => [{ a: 1, b: 'x', c: [1, 2, { d: null }] }, 2, 'three'])).toBe(true);
    expect(served(() => [[], {}, Object.create(null) as object])).toBe(true);
    expect(served(() => [-0, 0, undefined, true, 1n])).toBe(true);
  });

  it('serves up to its depth, token and array-length limits, and walks past them', () => {
    // An object is read at depth 0 to 5: six nested objects are, a seventh is not.
    expect(served(() => [deep(6)])).toBe(true);
    expect(served(() => [deep(7)])).toBe(false);
    const nested = (levels: number, wrap: (inner: unknown) => unknown): unknown => {
      let v: unknown = 1;
      for (let i = 0; i < levels; i++) v = wrap(v);
      return v;
    };
    expect(served(() => [nested(6, (v) => [v])])).toBe(true);
    expect(served(() => [nested(7, (v) => [v])])).toBe(false);
    // Objects of more than 64 keys are read by name, to the same depth: one below five
    // objects, holding an object (at depth 6), is not served; below four it is.
    const big = (): Record<string, unknown> => ({ ...keys(65), v: { x: 1 } });
    expect(served(() => [nested(4, (v) => ({ a: v === 1 ? big() : v }))])).toBe(true);
    expect(served(() => [nested(5, (v) => ({ a: v === 1 ? big() : v }))])).toBe(false);
    expect(served(() => [new Array(64).fill(1)])).toBe(true);
    expect(served(() => [new Array(65).fill(1)])).toBe(false);
    // 128 tokens: an object of more than 64 keys is served while the tokens before it and its
    // values fit (the list's length, then one per value; its layout is a token of its own)...
    expect(served(() => [keys(127)])).toBe(true);
    expect(served(() => [keys(128)])).toBe(false);
    expect(served(() => [[1, 2], keys(124)])).toBe(true);
    expect(served(() => [[1, 2], keys(125)])).toBe(false);
    // ...and any object is read while at most 128 tokens come before it.
    const filled = (n: number): number[] => new Array<number>(n).fill(1);
    expect(served(() => [filled(60), filled(60), filled(4), { a: 1 }])).toBe(true);
    expect(served(() => [filled(60), filled(60), filled(5), { a: 1 }])).toBe(false);
  });

  it('does not serve what it cannot tell apart by its tokens', () => {
    const shared = { a: 1 };
    expect(served(() => [shared, shared])).toBe(false);
    expect(() => deriveKey(P, [new Proxy({ a: 1 }, {})], new KeyMemo())).toThrow(UnsendableValueError);
    expect(served(() => [Object.assign(new Array(3), { 0: 1, 2: 3 })])).toBe(false);
    expect(served(() => [Object.assign([1, 2], { p: 1 })])).toBe(false);
    expect(served(() => [new Date(0)])).toBe(false);
    expect(served(() => [new Map([[1, 2]])])).toBe(false);
    expect(() => deriveKey(P, [() => 1], new KeyMemo())).toThrow(UnsendableValueError);
    expect(() => deriveKey(P, [{ a: Symbol('s') }], new KeyMemo())).toThrow(UnsendableValueError);
  });

  it('reads an object of more than 64 keys by name, and serves it while it fits the tokens', () => {
    const big = (): Record<string, number> => keys(100);
    expect(served(() => [big()])).toBe(true);
    const reversed = (): Record<string, number> => Object.fromEntries(Object.entries(keys(100)).reverse());
    const memo = new KeyMemo();
    expect(deriveKey(P, [reversed()], memo).text).toBe(deriveKey(P, [big()]).text);
    expect(deriveKey(P, [big()], memo).text).toBe(deriveKey(P, [reversed()]).text);
  });

  it('keys an object too big for the memo by its own names, after another such object', () => {
    const memo = new KeyMemo();
    const named = (prefix: string): Record<string, number> =>
      Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`${prefix}${i}`, i]));
    for (const prefix of ['a', 'b', 'a', 'c'])
      expect(deriveKey(P, [named(prefix)], memo).text).toBe(deriveKey(P, [named(prefix)]).text);
  });

  it('reads an object of more than 64 keys met at two places once at each', () => {
    let reads = 0;
    const big = Object.defineProperty(keys(80), 'k0', {
      get: () => ++reads,
      enumerable: true,
    });
    const text = deriveKey(P, [big, big], new KeyMemo()).text;
    expect(reads).toBe(2);
    expect(text).toBe(
      deriveKey(P, [
        { ...keys(80), k0: 1 },
        { ...keys(80), k0: 2 },
      ]).text,
    );
  });

  it("lets go of the caller's objects once a call is done, small readings and big ones", async () => {
    for (const size of [3, 5_000]) {
      const memo = new KeyMemo();
      let inner: object | undefined = { leaf: 'x' };
      const ref = new WeakRef(inner);
      // A big reading: thousands of arguments, each a token.
      let holder: unknown[] | undefined = [
        { inner, rest: new Array(Math.min(size, 60)).fill(1) },
        ...Array.from({ length: size }, (_, i) => i),
      ];
      deriveKey(P, holder, memo);
      inner = undefined;
      holder = undefined;
      // A WeakRef keeps its target for the rest of the job that made it.
      await new Promise((resolve) => setImmediate(resolve));
      gc();
      expect(ref.deref(), `a reading of ${size} values`).toBeUndefined();
    }
  });
});

describe('a refused walk is explained', () => {
  const refusal = (thrown: unknown): unknown => {
    try {
      deriveKey(P, [
        {
          get a(): never {
            throw thrown;
          },
        },
      ]);
    } catch (error) {
      return error;
    }
    throw new Error('not refused');
  };

  it("an engine's stack or string-length error becomes a refusal naming the arguments", () => {
    const stack = refusal(new RangeError('Maximum call stack size exceeded'));
    expect(stack).toBeInstanceOf(UnsendableValueError);
    expect(String((stack as Error).message)).toMatch(/^args\b.*nested too deeply.*Flatten it first\./);
    const long = refusal(new RangeError('Invalid string length'));
    expect(long).toBeInstanceOf(UnsendableValueError);
    expect(String((long as Error).message)).toMatch(/^args\b.*too large to describe.*typed array/);
  });

  it("another error, a RangeError or one that merely mentions the stack, is the caller's own", () => {
    for (const own of [
      new RangeError('out of range'),
      new Error('call stack'),
      new TypeError('string length'),
    ])
      expect(refusal(own)).toBe(own);
  });

  it('a value that reaches the same objects over and over is refused, not expanded', () => {
    const leaf = { a: 1 };
    const many = new Array(210_000).fill(leaf);
    let error: unknown;
    try {
      deriveKey(P, [many]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnsendableValueError);
    expect(String((error as Error).message)).toMatch(
      /^args\b.*same objects more than 100,000 times.*refer to them by index/,
    );
    // Below the threshold, sharing is written out as copies.
    expect(() => deriveKey(P, [new Array(150_000).fill(leaf)])).not.toThrow();
  });
});

describe('what a run receives is rebuilt from the key', () => {
  it('errors, causes, aggregates, Maps, Sets, Dates and array subclasses', () => {
    const cases: unknown[][] = [
      [new Error('plain')],
      [new Error('with a cause', { cause: { deep: [1, 2] } }), 'next'],
      [new TypeError('no cause'), new Error('cause undefined', { cause: undefined })],
      [new AggregateError([new Error('a'), 2], 'many', { cause: 'c' }), [3]],
      [Object.assign(new Error('props'), { code: 'E_X', errors: [1] })],
      [
        new Map<unknown, unknown>([
          [{ k: 1 }, new Set([1, 'a'])],
          ['x', new Date(5)],
        ]),
      ],
    ];
    for (const args of cases) expect(equivalent(rebuilt(args), args), String(args[0])).toBe(true);
    expect(sameKey([new Date(0)], [new Date(1)])).toBe(false);
  });

  it('an error whose name or message cannot be read arrives as an Error with an empty message', () => {
    const unreadable = new Error('hidden');
    Object.defineProperty(unreadable, 'name', {
      get(): never {
        throw new Error('no name');
      },
    });
    Object.defineProperty(unreadable, 'message', {
      get(): never {
        throw new Error('no message');
      },
    });
    const [error] = rebuilt([unreadable]) as [Error];
    expect(error.name).toBe('Error');
    expect(error.message).toBe('');
    expect(sameKey([unreadable], [new Error('')])).toBe(true);
  });

  it('refuses an array subclass, through the memo or not', () => {
    class Listing extends Array<number> {}
    const memo = new KeyMemo();
    deriveKey(P, [[1, 2]], memo);
    deriveKey(P, [[1, 2]], memo);
    expect(() => deriveKey(P, [Listing.from([1, 2])], memo)).toThrow(UnsendableValueError);
    expect(() => deriveKey(P, [Listing.from([1, 2])])).toThrow(UnsendableValueError);
  });

  it('compares binary leaves by count and bytes', () => {
    const a = new Uint8Array([1, 2]);
    expect(sameBinaries(undefined, [a])).toBe(false);
    expect(sameBinaries([a], undefined)).toBe(false);
    expect(sameBinaries([a], [a, a])).toBe(false);
    expect(sameBinaries([a], [new Uint8Array([1, 2])])).toBe(true);
    expect(sameBinaries([a], [new Uint8Array([1, 3])])).toBe(false);
  });

  it('accepts a quarter of a million distinct objects (only repeats are limited)', () => {
    expect(() => deriveKey(P, [Array.from({ length: 250_000 }, (_, i) => ({ i }))])).not.toThrow();
  });
});

describe('order that is not identity', () => {
  const shuffled = <T>(items: T[], order: number[]): T[] =>
    items
      .map((item, i) => ({ item, rank: order[i % order.length]! + i / items.length }))
      .sort((a, b) => a.rank - b.rank)
      .map((x) => x.item);

  it('Maps, Sets and objects of up to 40 entries share a key in any insertion order', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.oneof(fc.integer(), fc.string({ maxLength: 3 })), { minLength: 2, maxLength: 40 }),
        fc.array(fc.nat(100), { minLength: 1, maxLength: 40 }),
        (items, order) => {
          const other = shuffled(items, order);
          expect(sameKey([new Set(items)], [new Set(other)])).toBe(true);
          expect(
            sameKey(
              [new Map(items.map((k, i) => [k, i % 3] as const))],
              [new Map(items.map((k, i) => [k, i % 3] as const).reverse())],
            ),
          ).toBe(true);
          const names = items.map(String);
          const object = (list: string[]): object => Object.fromEntries(list.map((k) => [`k${k}`, k.length]));
          expect(sameKey([object(names)], [object(shuffled(names, order))])).toBe(true);
          // And a different entry is a different key.
          expect(sameKey([new Set(items)], [new Set([...other.slice(1), 'other!'])])).toBe(false);
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });
});
