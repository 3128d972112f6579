/**
 * The memo's reader (key.ts) on its own, without threads: it is reused call after call, walks
 * the memo's trie as it reads, and reads plain objects with for-in. Each case checks the key
 * against the walker's own text (no memo), on the first call (a miss) and the next (a hit).
 */
import { describe, expect, it } from 'vitest';
import { deriveKey, keyPrefix } from '../src/key.js';
import { KeyMemo } from '../src/key-memo.js';
import { gc } from './support/gc.js';

const P = keyPrefix(0, undefined);
const walked = (args: unknown[]): string => deriveKey(P, args).text;

/** The key through `memo`, twice (a miss, then a hit), both checked against the walker's. */
function viaMemo(memo: KeyMemo, make: () => unknown[]): string {
  const expected = walked(make());
  expect(deriveKey(P, make(), memo).text).toBe(expected);
  expect(deriveKey(P, make(), memo).text).toBe(expected);
  return expected;
}

describe('the reader, reused', () => {
  it('gives a derivation nested in another (a getter calling the loader) a reader of its own', () => {
    const memo = new KeyMemo();
    const inner: string[] = [];
    const make = (): unknown[] => [
      {
        a: 1,
        get b() {
          // Another call of the same loader while the outer one is being read.
          inner.push(deriveKey(P, [{ x: [1, 2], y: 'z' }], memo).text);
          return 'b';
        },
        c: { d: [3, 4] },
      },
      'tail',
    ];
    const outer = viaMemo(memo, make);
    expect(outer).toBe(walked([{ a: 1, b: 'b', c: { d: [3, 4] } }, 'tail']));
    expect(inner).toHaveLength(3);
    for (const text of inner) expect(text).toBe(walked([{ x: [1, 2], y: 'z' }]));
    // And the outer call's entry is still found afterwards, by a plain call.
    expect(deriveKey(P, [{ a: 1, b: 'b', c: { d: [3, 4] } }, 'tail'], memo).text).toBe(outer);
  });

  it('is left clean by a getter that throws, and the next call reads afresh', () => {
    const memo = new KeyMemo();
    const boom = new Error('boom');
    expect(() =>
      deriveKey(
        P,
        [
          {
            a: [1, 2],
            get b(): never {
              throw boom;
            },
          },
        ],
        memo,
      ),
    ).toThrow(boom);
    viaMemo(memo, () => [{ a: [1, 2], b: 3 }]);
    viaMemo(memo, () => [{ a: [1, 2] }]);
  });

  it("keeps none of the caller's objects once the call is keyed", async () => {
    const memo = new KeyMemo();
    let ref: WeakRef<object> | undefined;
    (() => {
      const arg = {
        big: new Array(1000)
          .fill(0)
          .map((_, i) => ({ i }))
          .slice(0, 3),
        name: 'x',
      };
      ref = new WeakRef(arg.big);
      deriveKey(P, [arg], memo);
      deriveKey(P, [{ big: [{ i: 0 }, { i: 1 }, { i: 2 }], name: 'x' }], memo);
    })();
    for (let i = 0; i < 5 && ref.deref(); i++) {
      await new Promise((r) => setImmediate(r));
      gc();
    }
    expect(ref.deref()).toBeUndefined();
  });

  it('keys objects of more keys than for-in is used for (read by name) as the walker does', () => {
    const memo = new KeyMemo();
    // 70 keys: read by name, still memoized; 200 keys: read by name, left to the walker.
    for (const size of [70, 200]) {
      const make = (change: number): unknown[] => [
        'head',
        Object.fromEntries(
          Array.from({ length: size }, (_, i) => [`k${(i * 11) % size}`, i === 3 ? { nested: [change] } : i]),
        ),
      ];
      const one = viaMemo(memo, () => make(1));
      const two = viaMemo(memo, () => make(2));
      expect(two).not.toBe(one);
      expect(deriveKey(P, make(1), memo).text).toBe(one);
    }
  });

  it('reads a big object once, then small calls as before', () => {
    const memo = new KeyMemo();
    const big = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, i]));
    expect(deriveKey(P, [big], memo).text).toBe(walked([big]));
    viaMemo(memo, () => [{ a: 1 }, [2, 3]]);
  });
});

describe('an object met twice in one call', () => {
  // Each meeting is read afresh, and a getter may answer differently: the memo must not file
  // one reading's tokens under another reading's text (a later plain call with those values
  // was handed that entry).
  const cases: [string, () => unknown[], unknown[]][] = [
    [
      'a getter answering 1, then 2',
      () => {
        let n = 0;
        const o = {
          get x() {
            return ++n;
          },
        };
        return [o, o];
      },
      [{ x: 1 }, { x: 2 }],
    ],
    [
      'a getter of another argument changing it in between',
      () => {
        const o = { x: 1 };
        const g = {
          get y() {
            o.x = 2;
            return 0;
          },
        };
        return [o, g, o];
      },
      [{ x: 1 }, { y: 0 }, { x: 2 }],
    ],
    [
      'an array with an index getter',
      () => {
        let n = 0;
        const arr: number[] = [];
        Object.defineProperty(arr, 0, { get: () => ++n, enumerable: true });
        return [arr, arr];
      },
      [[1], [2]],
    ],
  ];
  for (const [name, repeated, plain] of cases) {
    it(`is not memoized: ${name}`, () => {
      const memo = new KeyMemo();
      deriveKey(P, repeated(), memo);
      deriveKey(P, repeated(), memo);
      // The plain call with the values the first reading saw keys as the walker keys it.
      expect(deriveKey(P, plain, memo).text).toBe(walked(plain));
      expect(deriveKey(P, structuredClone(plain), memo).text).toBe(walked(plain));
    });
  }

  it('keys an object met twice without getters as its tree, memo or not', () => {
    const memo = new KeyMemo();
    const o = { x: [1, 2] };
    viaMemo(memo, () => [o, o]);
    expect(deriveKey(P, [o, o], memo).text).toBe(walked([{ x: [1, 2] }, { x: [1, 2] }]));
  });
});

describe('plain objects read with for-in', () => {
  it('ignores an enumerable property inherited from a patched Object.prototype', () => {
    const memo = new KeyMemo();
    const plain = viaMemo(memo, () => [{ a: 1, b: { c: 2 } }]);
    Object.defineProperty(Object.prototype, 'polluted', {
      value: 'x',
      enumerable: true,
      configurable: true,
      writable: true,
    });
    try {
      expect(viaMemo(memo, () => [{ a: 1, b: { c: 2 } }])).toBe(plain);
    } finally {
      delete (Object.prototype as Record<string, unknown>).polluted;
    }
  });

  it('reads each property once, also when a getter deletes or adds a sibling', () => {
    const memo = new KeyMemo();
    let reads = 0;
    const make = (): unknown[] => {
      const o: Record<string, unknown> = {
        get a() {
          reads++;
          delete o.b;
          o.z = 'added';
          return 'A';
        },
        b: 'B',
        c: 'C',
      };
      return [o];
    };
    reads = 0;
    const memoText = deriveKey(P, make(), memo).text;
    expect(reads).toBe(1);
    // The keys are those listed before the getter ran; b reads as undefined once deleted.
    expect(memoText).toBe(walked([{ a: 'A', b: undefined, c: 'C' }]));
    reads = 0;
    expect(deriveKey(P, make(), memo).text).toBe(memoText);
    expect(reads).toBe(1);
  });

  it('tells objects apart whose keys come in another order but hold other values', () => {
    const memo = new KeyMemo();
    const one = viaMemo(memo, () => [{ a: 1, b: 2 }]);
    const swapped = viaMemo(memo, () => [{ b: 1, a: 2 }]);
    expect(swapped).not.toBe(one);
    expect(viaMemo(memo, () => [{ b: 2, a: 1 }])).toBe(one);
    // Integer-like keys are listed first, whatever the insertion order.
    expect(viaMemo(memo, () => [{ x: 1, 2: 'two', 1: 'one' }])).toBe(walked([{ 1: 'one', 2: 'two', x: 1 }]));
    const bare = Object.assign(Object.create(null) as object, { b: 2, a: 1 });
    expect(viaMemo(memo, () => [bare])).toBe(one);
  });
});

describe('the trie', () => {
  it('matches leaves as Map keys do, in nodes of one child and of many', () => {
    const memo = new KeyMemo();
    const leaves = [NaN, 0, -0, '', undefined, null, false, 'NaN', 1n, 0n, '0'];
    const texts = new Set<string>();
    // One child first (NaN alone), then many beside it.
    for (const leaf of leaves) texts.add(viaMemo(memo, () => [{ v: leaf }]));
    expect(texts.size).toBe(leaves.length);
    for (const leaf of leaves) expect(deriveKey(P, [{ v: leaf }], memo).text).toBe(walked([{ v: leaf }]));
  });

  it('keeps a first child whose token is undefined when a second one comes', () => {
    const memo = new KeyMemo();
    const one = memo.lengthToken(1);
    memo.remember('p', [one, undefined], 'U');
    expect(memo.text('p', [one, undefined])).toBe('U');
    expect(memo.text('p', [one, null])).toBeUndefined();
    memo.remember('p', [one, null], 'N');
    expect(memo.text('p', [one, undefined])).toBe('U');
    expect(memo.text('p', [one, null])).toBe('N');
    memo.remember('p', [one, NaN], 'X');
    expect(memo.text('p', [one, NaN])).toBe('X');
    expect(memo.text('p', [one, 'NaN'])).toBeUndefined();
  });
});
