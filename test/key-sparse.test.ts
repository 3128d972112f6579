/**
 * Sparse arrays whose length alone is more than can be allocated: the key is derived element
 * by element (no 32 GiB buffer asked for), equal for equal arrays and different otherwise, and
 * such an argument reaches the function. It failed with a bare RangeError, no code.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deriveKey, keyPrefix } from '../src/key.js';
import { loaderFactory, watchHostErrors } from './helpers.js';

watchHostErrors();
const make = loaderFactory();
const P = keyPrefix(0, undefined);

/** An array of `length` with `entries` set and holes everywhere else. */
function sparse(length: number, entries: [number, unknown][]): unknown[] {
  const arr = new Array<unknown>(length);
  for (const [index, value] of entries) arr[index] = value;
  return arr;
}

const HUGE = [2 ** 32 - 2, 2 ** 32 - 1];

describe('a sparse array of length 2^32 − 2 or 2^32 − 1', () => {
  it('has a key: the same for the same elements, another for other elements or another length', () => {
    const index = fc.nat({ max: 2 ** 32 - 3 });
    const value = fc.oneof(fc.double(), fc.string({ maxLength: 4 }), fc.boolean());
    fc.assert(
      fc.property(
        fc.constantFrom(...HUGE),
        fc.uniqueArray(fc.tuple(index, value), { maxLength: 4, selector: ([i]) => i }),
        fc.tuple(index, value),
        (length, entries, [at, other]) => {
          const key = deriveKey(P, [sparse(length, entries)]).text;
          expect(deriveKey(P, [sparse(length, entries)]).text).toBe(key);
          // Another length, or one element more or changed: another key.
          expect(deriveKey(P, [sparse(length === HUGE[0] ? HUGE[1]! : HUGE[0]!, entries)]).text).not.toBe(
            key,
          );
          const changed = new Map(entries);
          const before = changed.get(at);
          changed.set(at, before === undefined || !Object.is(before, other) ? other : `${String(other)}!`);
          expect(deriveKey(P, [sparse(length, [...changed])]).text).not.toBe(key);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('is an argument the function receives', async () => {
    const loader = make({ threads: 1 });
    const ends = loader.asyncLoad((arr: unknown[]) => [
      arr.length,
      arr[0],
      arr[arr.length - 1],
      Object.keys(arr).length,
    ]);
    for (const length of HUGE) {
      expect(
        await ends.wait(
          sparse(length, [
            [0, 7],
            [length - 1, 'end'],
          ]),
        ),
      ).toEqual([length, 7, 'end', 2]);
    }
  });
});
