/**
 * Arguments rebuilt from their key text (what a run receives) against an oracle: structured
 * clone of the same arguments, which is what the run would receive if they were posted as they
 * are. Thread-free, so mutation runs use it for src/rebuild-args.ts.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadHasher } from '../src/hash.js';
import { deriveKey } from '../src/key.js';
import { rebuildArgs } from '../src/rebuild-args.js';

const PREFIX = '3|';

function roundTrip(args: unknown[]): unknown[] {
  const key = deriveKey(PREFIX, args);
  return rebuildArgs(key.text, PREFIX.length, key.binaries).args;
}

beforeAll(() => loadHasher());

describe('rebuilt arguments (property)', () => {
  it('equal what structured clone makes of them', () => {
    const value = fc.anything({
      maxDepth: 3,
      maxKeys: 4,
      withBigInt: true,
      withBoxedValues: false,
      withDate: true,
      withMap: true,
      withSet: true,
      withObjectString: false,
      withNullPrototype: false,
      withTypedArray: true,
      withSparseArray: true,
    });
    fc.assert(
      fc.property(fc.array(value, { maxLength: 4 }), (args) => {
        expect(roundTrip(args)).toStrictEqual(structuredClone(args));
      }),
      { numRuns: 500 },
    );
  });

  it('keep cycles cyclic, as structured clone does', () => {
    const shared = { s: [1, 'two'] };
    const cyclic: Record<string, unknown> = { name: 'c' };
    cyclic.self = cyclic;
    const list: unknown[] = [];
    list.push(list, shared);
    const [a, b, c, l] = roundTrip([shared, shared, cyclic, list]) as [
      unknown,
      unknown,
      typeof cyclic,
      unknown[],
    ];
    expect(a).toEqual(b);
    expect(c.self).toBe(c);
    expect(l[0]).toBe(l);
    expect(l[1]).toEqual(shared);
  });

  it('rebuild every kind of leaf the key can hold', () => {
    const args = [
      10n ** 30n,
      -0,
      NaN,
      undefined,
      null,
      true,
      new Date(86_400_000),
      /a+b/giu,
      new URL('https://h.test/p?q#f'),
      new Map<unknown, unknown>([[{ k: 1 }, new Set([1n])]]),
      new Set(['x', 2]),
      new Uint16Array([1, 65535]),
      new DataView(new Uint8Array([9, 8]).buffer),
      new Uint8Array([7]).buffer,
      Object.assign([1, , 3], { extra: 'e' }), // eslint-disable-line no-sparse-arrays
      new RangeError('r', { cause: new Error('c') }),
    ];
    const back = roundTrip(args);
    expect(back).toStrictEqual(
      structuredClone(args.map((a) => (a instanceof URL ? a.href : a))).map((a, i) =>
        args[i] instanceof URL ? args[i] : a,
      ),
    );
    expect(Object.is(back[1], -0)).toBe(true);
    expect(back[8]).toBeInstanceOf(URL);
    expect(1 in (back[14] as unknown[])).toBe(false);
  });
});
