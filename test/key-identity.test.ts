/**
 * Issue 8, item 1: two calls share an entry exactly when the function would receive
 * indistinguishable arguments. The rule is written once, in test/support/equivalence.ts; the
 * key (deriveKey + sameBinaries, the store's match) is checked against it in both directions
 * on generated argument lists, with a fixed seed. `npm run fuzz:keys` runs the same properties
 * a million times with a random seed.
 */
import { fc } from '@fast-check/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadHasher } from '../src/hash.js';
import { MUTATION_NAMES, build, showArgs, type Pair } from './support/arbitraries.js';
import { equivalent } from './support/equivalence.js';
import {
  FEATURES,
  equivalentProperty,
  independentProperty,
  mutatedProperty,
  newTally,
  sameKey,
  type Tally,
} from './support/key-properties.js';

const SEED = 20_261_126;
/** Mutation runs (npm run mutate), where every mutant of the key that survives runs these again. */
const MUTATION_RUN = process.env.ASYNC_LOAD_MUTATION_RUN === '1';
/** 30,000 pairs in all: about 5 s of tests on two cores when the key is right; 3,000 in mutation runs. */
const RUNS = MUTATION_RUN
  ? { equivalent: 1_000, mutated: 1_000, independent: 1_000 }
  : { equivalent: 10_000, mutated: 10_000, independent: 10_000 };

beforeAll(() => loadHasher());

/** Every feature of FEATURES and (for mutations) every mutation was generated at least once. */
function expectCovered(seen: Set<string>, wanted: readonly string[]): void {
  // What the generators reach depends on the test code and the seed alone, which no mutant of
  // src/ changes; `npm test` checks it with the full number of pairs.
  if (MUTATION_RUN) return;
  expect(wanted.filter((w) => !seen.has(w))).toEqual([]);
}

function expectSameEntry(a: unknown[], b: unknown[]): void {
  expect(equivalent(a, b), `oracle: ${showArgs(a)} ≡ ${showArgs(b)}`).toBe(true);
  expect(sameKey(a, b), `key: ${showArgs(a)} and ${showArgs(b)} should share an entry`).toBe(true);
}

function expectDistinctEntries(a: unknown[], b: unknown[]): void {
  expect(equivalent(a, b), `oracle: ${showArgs(a)} ≢ ${showArgs(b)}`).toBe(false);
  expect(sameKey(a, b), `key: ${showArgs(a)} and ${showArgs(b)} must not share an entry`).toBe(false);
}

describe('key identity (property, fixed seed)', () => {
  const run = (property: (t: Tally) => fc.IPropertyWithHooks<[Pair]>, numRuns: number): Tally => {
    const tally = newTally();
    fc.assert(property(tally), { seed: SEED, numRuns });
    return tally;
  };

  it(`equivalent ⇒ same key (${RUNS.equivalent} rebuilt pairs)`, () => {
    const tally = run(equivalentProperty, RUNS.equivalent);
    expect(tally.equivalentPairs).toBe(RUNS.equivalent);
    expectCovered(tally.seen, FEATURES);
  });

  it(`a small mutation: same key exactly when equivalent (${RUNS.mutated} pairs)`, () => {
    const tally = run(mutatedProperty, RUNS.mutated);
    // Mutations almost always change what the function sees; a run of no-ops would prove nothing.
    expect(tally.differentPairs).toBeGreaterThan(RUNS.mutated * 0.9);
    expectCovered(tally.seen, FEATURES);
    expectCovered(
      tally.seen,
      MUTATION_NAMES.map((m) => `mutation ${m}`),
    );
  });

  it(`independent lists over few leaves: same key exactly when equivalent (${RUNS.independent} pairs)`, () => {
    const tally = run(independentProperty, RUNS.independent);
    // About one pair in nine is equivalent: enough to test both answers of the key.
    expect(tally.equivalentPairs).toBeGreaterThan(RUNS.independent * 0.05);
    expect(tally.differentPairs).toBeGreaterThan(RUNS.independent * 0.5);
  });
});

describe('key identity: the cases issue 8 reported', () => {
  it('a RegExp match array carries index and input', () => {
    expectDistinctEntries([/a/.exec('ab')], [/a/.exec('ba')]);
    expectDistinctEntries([/a/.exec('a')], [['a']]);
    expectSameEntry([/a/.exec('xa')], [/a/.exec('xa')]);
  });

  it('a hole is not undefined', () => {
    // eslint-disable-next-line no-sparse-arrays
    expectDistinctEntries([[,]], [[undefined]]);
    // eslint-disable-next-line no-sparse-arrays
    expectDistinctEntries([{ list: [1, , 3] }], [{ list: [1, undefined, 3] }]);
  });

  it('AggregateError#errors is part of identity', () => {
    expectDistinctEntries([new AggregateError([1], 'm')], [new AggregateError([2], 'm')]);
    expectDistinctEntries([new AggregateError([], 'm')], [new Error('m')]);
    expectSameEntry([new AggregateError([new Error('x')], 'm')], [new AggregateError([new Error('x')], 'm')]);
  });

  it("an Error's cause is not the next argument", () => {
    expectDistinctEntries([new Error('m', { cause: 'x' })], [new Error('m'), 'x']);
    expectDistinctEntries([new Error('m', { cause: undefined })], [new Error('m')]);
  });

  it("an Error's cause is not the next element of an enclosing array", () => {
    expectDistinctEntries([[new Error('m', { cause: 'x' })]], [[new Error('m'), 'x']]);
  });

  it('a Buffer is the Uint8Array it arrives as, wherever its bytes sit', () => {
    const pooled = Buffer.from('hi');
    expect(pooled.byteOffset > 0 || pooled.buffer.byteLength > pooled.byteLength).toBe(true);
    expectSameEntry([pooled], [new Uint8Array([0x68, 0x69])]);
    const big = new Uint8Array([9, 9, 0x68, 0x69, 9]);
    expectSameEntry([big.subarray(2, 4)], [pooled]);
    expectDistinctEntries([pooled], [new Int8Array([0x68, 0x69])]);
  });

  it('a Set or Map of binary values is the same whatever the insertion order', () => {
    const one = (): Uint8Array => new Uint8Array([1]);
    const two = (): Uint8Array => new Uint8Array([2]);
    expectSameEntry([new Set([one(), two()])], [new Set([two(), one()])]);
    expectSameEntry(
      [
        new Map([
          ['a', one()],
          ['b', two()],
        ]),
      ],
      [
        new Map([
          ['b', two()],
          ['a', one()],
        ]),
      ],
    );
    expectDistinctEntries([new Set([one(), two()])], [new Set([one(), one()])]);
  });

  it('an own __proto__ key is ordinary data', () => {
    const parsed = JSON.parse('{"__proto__": 1}') as object;
    expectDistinctEntries([parsed], [{}]);
    const defined = Object.defineProperty({}, '__proto__', {
      value: 1,
      enumerable: true,
      writable: true,
      configurable: true,
    });
    expectSameEntry([parsed], [defined]);
  });

  it('how an error got its name, message or cause does not matter, only their values', () => {
    class HttpError extends Error {
      constructor(message: string) {
        super(message);
        this.name = 'HttpError';
      }
    }
    const named = new Error('m');
    Object.defineProperty(named, 'name', { value: 'HttpError', writable: true, configurable: true });
    expectSameEntry([new HttpError('m')], [named]);

    const assigned = new Error('m');
    assigned.cause = 'x';
    expectSameEntry([assigned], [new Error('m', { cause: 'x' })]);

    const late = new Error();
    late.message = 'm';
    expectSameEntry([late], [new Error('m')]);
  });
});

describe('the oracle (test/support/equivalence.ts) on hand-written cases', () => {
  const eq = (a: unknown, b: unknown): boolean => equivalent([a], [b]);

  it('primitives: type and value; -0 is not 0, NaN is NaN', () => {
    expect(eq(-0, 0)).toBe(false);
    expect(eq(NaN, NaN)).toBe(true);
    const distinct = [1, '1', 1n, true, null, undefined, 0, '', false, 0n];
    for (const x of distinct) for (const y of distinct) expect(eq(x, y)).toBe(x === y);
    expect(equivalent([1, 2], [1])).toBe(false);
    expect(equivalent([], [undefined])).toBe(false);
  });

  it('plain objects: own enumerable string keys in any order; null prototype is plain', () => {
    expect(eq({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(eq({ a: undefined }, {})).toBe(false);
    expect(eq(Object.assign(Object.create(null) as object, { a: 1 }), { a: 1 })).toBe(true);
    expect(eq({ a: 1, [Symbol('s')]: 2 }, { a: 1 })).toBe(true);
    expect(eq(Object.defineProperty({ a: 1 }, 'hidden', { value: 2 }), { a: 1 })).toBe(true);
    expect(eq(JSON.parse('{"__proto__": {"a": 1}}'), {})).toBe(false);
    expect(eq({ constructor: 1 }, { constructor: 1 })).toBe(true);
    expect(eq({ a: { b: 1 } }, { a: { b: 2 } })).toBe(false);
  });

  it('arrays: length, holes, elements and non-index properties', () => {
    // eslint-disable-next-line no-sparse-arrays
    expect(eq([1, , 3], [1, undefined, 3])).toBe(false);
    // eslint-disable-next-line no-sparse-arrays
    expect(eq([1, , 3], [1, , 3])).toBe(true);
    expect(eq([], [undefined])).toBe(false);
    expect(eq(new Array(2), new Array(3))).toBe(false);
    const x = Object.assign([1], { p: 1, q: 2 });
    expect(eq(x, Object.assign([1], { q: 2, p: 1 }))).toBe(true);
    expect(eq(x, [1])).toBe(false);
    expect(eq(/a/.exec('ab'), /a/.exec('ba'))).toBe(false);
    expect(eq([1], { 0: 1 })).toBe(false);
  });

  it('Date, RegExp, URL by their contents', () => {
    expect(eq(new Date(NaN), new Date('nope'))).toBe(true);
    expect(eq(new Date(0), new Date(1))).toBe(false);
    const r = /a/g;
    r.lastIndex = 3;
    expect(eq(r, /a/g)).toBe(true);
    expect(eq(/a/g, /a/)).toBe(false);
    expect(eq(/a/, 'a')).toBe(false);
    expect(eq(new URL('http://x/a'), new URL('http://x/a'))).toBe(true);
    expect(eq(new URL('http://x/a'), new URL('http://x/b'))).toBe(false);
    expect(eq(new Date(0), new Date(0).toISOString())).toBe(false);
  });

  it('Errors: name, message, cause, own properties, errors; never the stack', () => {
    const make = (): Error => new Error('m');
    const first = make();
    const second = (() => new Error('m'))();
    expect(first.stack).not.toBe(second.stack);
    expect(eq(first, second)).toBe(true);
    expect(eq(new TypeError('m'), new Error('m'))).toBe(false);
    expect(eq(new Error('m'), new Error('n'))).toBe(false);
    expect(eq(new Error('m', { cause: undefined }), new Error('m'))).toBe(false);
    expect(eq(new Error('m', { cause: 1 }), new Error('m', { cause: 2 }))).toBe(false);
    expect(
      eq(Object.assign(new Error('m'), { code: 'E1' }), Object.assign(new Error('m'), { code: 'E1' })),
    ).toBe(true);
    expect(eq(Object.assign(new Error('m'), { code: 'E1' }), new Error('m'))).toBe(false);
    expect(eq(new AggregateError([1], 'm'), new AggregateError([1], 'm'))).toBe(true);
    expect(eq(new AggregateError([1], 'm'), new AggregateError([], 'm'))).toBe(false);
  });

  it('Map and Set by contents, matched one to one', () => {
    const m1 = new Map<unknown, unknown>([
      [{ k: 1 }, 'a'],
      [{ k: 1 }, 'b'],
    ]);
    const m2 = new Map<unknown, unknown>([
      [{ k: 1 }, 'b'],
      [{ k: 1 }, 'a'],
    ]);
    expect(eq(m1, m2)).toBe(true);
    expect(eq(m1, new Map([[{ k: 1 }, 'a']]))).toBe(false);
    expect(eq(new Set([1, 2]), new Set([2, 1]))).toBe(true);
    expect(eq(new Set([{}, {}]), new Set([{}]))).toBe(false);
    expect(eq(new Set([{ a: 1 }, { a: 1 }]), new Set([{ a: 1 }, { a: 2 }]))).toBe(false);
    expect(eq(new Map([['a', 1]]), { a: 1 })).toBe(false);
  });

  it('binary: kind, length and bytes, not where the view sits', () => {
    expect(eq(Buffer.from([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(eq(new Uint8Array([1, 2]), new Int8Array([1, 2]))).toBe(false);
    expect(eq(new Uint8Array([1, 2]), new DataView(new Uint8Array([1, 2]).buffer))).toBe(false);
    expect(eq(new Uint8Array([1, 2]), new Uint8Array([1, 2]).buffer)).toBe(false);
    expect(eq(new Uint8Array([0, 1, 2, 0]).subarray(1, 3), new Uint8Array([1, 2]))).toBe(true);
    expect(eq(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(eq(new Uint16Array([1]), new Uint8Array([1, 0]))).toBe(false);
    expect(eq(new Float64Array([NaN]), new Float64Array([NaN]))).toBe(true);
  });

  it('sharing is not identity; cycles are, by where they point', () => {
    const o = { a: 1 };
    expect(eq([o, o], [{ a: 1 }, { a: 1 }])).toBe(true);
    const selfA: Record<string, unknown> = { x: 1 };
    selfA.self = selfA;
    const selfB: Record<string, unknown> = { x: 1 };
    selfB.self = selfB;
    expect(eq(selfA, selfB)).toBe(true);
    const twoStep: Record<string, unknown> = { x: 1 };
    twoStep.self = { x: 1, self: twoStep };
    expect(eq(selfA, twoStep)).toBe(false);
    expect(eq(selfA, { x: 1, self: {} })).toBe(false);
    const inner: unknown[] = [];
    inner.push(inner);
    const outer = [inner];
    const flat: unknown[] = [];
    flat.push([flat]);
    // [[^1]] against [[^0]]: same shape, but the back-references point at different levels.
    expect(eq(outer, flat)).toBe(false);
  });

  it('refuses what the library does not carry', () => {
    expect(() =>
      eq(
        () => 1,
        () => 1,
      ),
    ).toThrow(TypeError);
    expect(() => eq(new (class Point {})(), {})).toThrow(TypeError);
  });

  it('two builds of a generated spec are equivalent, and build copies rather than reuses at the top', () => {
    const args = build([{ t: 'obj', nullProto: false, entries: [['a', { t: 'prim', v: -0 }]] }], 1);
    expect(equivalent(args, [{ a: -0 }])).toBe(true);
    expect(equivalent(args, [{ a: 0 }])).toBe(false);
  });
});
