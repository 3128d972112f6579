import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UnsendableValueError } from '../src/errors.js';
import { loadHasher, setHashForTesting } from '../src/hash.js';
import { deriveKey, keyPrefix, sameBinaries } from '../src/key.js';

const P = keyPrefix(0, undefined);
const text = (...args: unknown[]): string => deriveKey(P, args).text;

beforeAll(() => loadHasher());
afterEach(() => setHashForTesting());

describe('canonical key text', () => {
  it('keys every NaN as NaN, also in a big array of numbers (hashed as bytes)', () => {
    // A NaN of another bit pattern, as read from binary data.
    const otherNaN = new Float64Array(new Uint32Array([1, 0xfff80000]).buffer)[0]!;
    expect(otherNaN).toBeNaN();
    for (const length of [10, 300]) {
      const plain = Array.from({ length }, (_, i) => i);
      const other = [...plain];
      plain[length - 1] = NaN;
      other[length - 1] = otherNaN;
      const [a, b] = [deriveKey(P, [plain]), deriveKey(P, [other])];
      expect(b.text).toBe(a.text);
      expect(sameBinaries(a.binaries, b.binaries)).toBe(true);
    }
  });

  it('ignores object key order, at any depth', () => {
    expect(text({ a: 1, b: { c: 2, d: [3] } })).toBe(text({ b: { d: [3], c: 2 }, a: 1 }));
  });

  it('keeps types apart', () => {
    const distinct = [
      [1],
      ['1'],
      [1n],
      [true],
      [null],
      [undefined],
      [],
      [0],
      [-0],
      [NaN],
      [new Date(0)],
      [new Date(0).toISOString()],
      [new Map([['a', 1]])],
      [{ a: 1 }],
      [new Set(['a'])],
      [['a']],
      [/a/g],
      ['/a/g'],
      [new URL('http://x/')],
      ['http://x/'],
      [{ a: undefined }],
      [{}],
      ['a', 'b'],
      ['ab'],
      [new Uint8Array([1])],
      [new Int8Array([1])],
    ].map((args) => text(...args));
    expect(new Set(distinct).size).toBe(distinct.length);
  });

  it('treats Maps and Sets as unordered collections', () => {
    expect(
      text(
        new Map([
          ['a', 1],
          ['b', 2],
        ]),
      ),
    ).toBe(
      text(
        new Map([
          ['b', 2],
          ['a', 1],
        ]),
      ),
    );
    expect(text(new Set([1, 2]))).toBe(text(new Set([2, 1])));
    expect(text(new Map([['a', 1]]))).not.toBe(text(new Map([['a', 2]])));
  });

  it('separates functions and keys through the prefix', () => {
    expect(deriveKey(keyPrefix(0, undefined), [1]).text).not.toBe(
      deriveKey(keyPrefix(1, undefined), [1]).text,
    );
    expect(deriveKey(keyPrefix(0, 'a'), [1]).text).not.toBe(deriveKey(keyPrefix(0, 'b'), [1]).text);
    expect(deriveKey(keyPrefix(0, 'a'), [1]).text).not.toBe(deriveKey(keyPrefix(0, undefined), [1]).text);
  });

  it('describes cycles and repeated references without recursing forever', () => {
    const a: Record<string, unknown> = { x: 1 };
    a.self = a;
    const b: Record<string, unknown> = { x: 1 };
    b.self = b;
    expect(text(a)).toBe(text(b));
    expect(text(a)).not.toBe(text({ x: 1, self: { x: 1 } }));
  });

  it('represents binary data by hash and keeps the data for verification', () => {
    const k = deriveKey(P, [new Float64Array([1, 2, 3])]);
    expect(k.text).toMatch(/A12:Float64Array24:[0-9a-f]+;/);
    expect(k.binaries).toHaveLength(1);
    expect(text(new Float64Array([1, 2, 3]))).not.toBe(text(new Float64Array([1, 2, 4])));
  });

  it('compares binary leaves byte for byte', () => {
    expect(sameBinaries([new Uint8Array([1, 2])], [new Uint8Array([1, 2])])).toBe(true);
    expect(sameBinaries([new Uint8Array([1, 2])], [new Uint8Array([1, 3])])).toBe(false);
    expect(sameBinaries([new Uint8Array([1, 2])], undefined)).toBe(false);
  });

  it('uses the test hook to force collisions', () => {
    setHashForTesting(() => 'same');
    expect(text(new Uint8Array([1]))).toBe(text(new Uint8Array([2])));
  });
});

describe('refusing what cannot be carried', () => {
  const refusal = (args: unknown[]): UnsendableValueError => {
    try {
      deriveKey(P, args);
    } catch (error) {
      return error as UnsendableValueError;
    }
    throw new Error('expected a refusal');
  };

  it('names the path of a function', () => {
    const error = refusal([{ onDone: () => 1 }]);
    expect(error).toBeInstanceOf(UnsendableValueError);
    expect(error.code).toBe('ERR_ASYNC_LOAD_UNSENDABLE_VALUE');
    expect(error.path).toBe('args[0].onDone');
    expect(error.message).toContain('args[0].onDone is a function');
  });

  it('names symbols, WeakMaps, class instances and odd keys', () => {
    expect(refusal([1, [Symbol('s')]]).path).toBe('args[1][0]');
    expect(refusal([{ 'a-b': new WeakMap() }]).path).toBe('args[0]["a-b"]');
    class Point {
      x = 1;
    }
    expect(refusal([{ p: new Point() }]).message).toContain('an instance of Point');
    expect(refusal([new Map([['k', () => 1]])]).path).toBe('args[0].get("k")');
  });

  it('refuses nesting deeper than the limit with a clear error, not a stack overflow', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    const error = refusal([deep]);
    expect(error).toBeInstanceOf(UnsendableValueError);
    expect(error.message).toContain('levels deep');
  });
});

describe('fast paths', () => {
  it('give flat objects the same text the general walk gives', () => {
    // A nested empty array forces the general walk for the second object.
    const flat = text({ b: 'x', a: 1.5, c: true, d: null, e: undefined });
    const walked = text({ b: 'x', a: 1.5, c: true, d: null, e: undefined, f: [] });
    expect(walked.startsWith(flat.slice(0, -1))).toBe(true);
    expect(text([{ a: 1 }])).not.toBe(text({ a: 1 }));
  });
});

describe('the depth limit', () => {
  it('is the same for the key walk and the codec, at the boundary', () => {
    const nest = (levels: number): unknown => {
      let v: unknown = 0;
      for (let i = 0; i < levels; i++) v = [v];
      return v;
    };
    for (const levels of [999, 1000, 1001, 1002, 1003]) {
      let error: unknown;
      try {
        deriveKey(P, [nest(levels)]);
      } catch (e) {
        error = e;
      }
      if (error !== undefined) expect(error).toBeInstanceOf(UnsendableValueError);
      // Past the limit by any measure, it is refused; well inside it, it is not.
      if (levels >= 1002) expect(error, `${levels} levels`).toBeInstanceOf(UnsendableValueError);
    }
    expect(() => deriveKey(P, [nest(990)])).not.toThrow();
  });
});

describe('the memo of texts for primitive and flat-object arguments', () => {
  it('gives the same text before and after it is cleared, and different texts to different values', () => {
    const first = text({ month: '2026-11', n: 1 });
    const texts = new Set<string>();
    // More distinct calls than the memo holds: it is cleared on the way.
    for (let i = 0; i < 5000; i++) texts.add(text({ month: '2026-11', n: i }));
    expect(texts.size).toBe(5000);
    expect(text({ n: 1, month: '2026-11' })).toBe(first);
    expect(text('a')).toBe(text('a'));
    expect(text(1)).not.toBe(text('1'));
    expect(text({ a: 1 })).not.toBe(text({ a: '1' }));
    expect(text({ a: null })).not.toBe(text({ a: undefined }));
    expect(text({ a: 0 })).not.toBe(text({ a: -0 }));
  });
});

describe("a loader's key memo", () => {
  it('is bounded in bytes: a big string is never kept, many small ones start it again', async () => {
    const { KeyMemo } = await import('../src/key-memo.js');
    const memo = new KeyMemo(64 * 1024);
    const big = 'x'.repeat(100_000);
    expect(deriveKey(P, [big], memo).text).toBe(`${P}"${big}`);
    expect(memo.bytes).toBe(0);
    let most = 0;
    for (let i = 0; i < 10_000; i++) {
      deriveKey(P, [{ value: `value ${i}`, n: i }], memo);
      most = Math.max(most, memo.bytes);
    }
    expect(most).toBeLessThanOrEqual(64 * 1024);
    expect(memo.bytes).toBeGreaterThan(0);
    memo.clear();
    expect(memo.bytes).toBe(0);
  });

  it('gives the same text with and without the memo, for flat and nested objects', async () => {
    const { KeyMemo } = await import('../src/key-memo.js');
    const memo = new KeyMemo();
    for (const arg of [
      { b: 'x', a: 1.5, c: true, d: null, e: undefined },
      { a: { b: [1] }, c: 'd' },
      { a: -0 },
    ]) {
      const plain = deriveKey(P, [arg]).text;
      expect(deriveKey(P, [arg], memo).text).toBe(plain);
      expect(deriveKey(P, [{ ...arg }], memo).text).toBe(plain);
    }
  });
});
