/**
 * Arguments rebuilt from their key text are what the run receives: errors keep their class,
 * name, cause and errors as structured clone would (non-enumerable, writable, configurable),
 * booleans and null stay themselves, and binary leaves come back in their order.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadHasher } from '../src/hash.js';
import { deriveKey } from '../src/key.js';
import { decode, prepare } from '../src/codec.js';
import { UnsendableValueError } from '../src/errors.js';
import { rebuildArgs, SHARE_MIN } from '../src/rebuild-args.js';

const PREFIX = '7|';

function roundTrip(args: unknown[]): unknown[] {
  const key = deriveKey(PREFIX, args);
  return rebuildArgs(key.text, PREFIX.length, key.binaries).args;
}

beforeAll(async () => {
  await loadHasher();
});

describe('errors', () => {
  it('keep their built-in class', () => {
    for (const Ctor of [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError]) {
      const [error] = roundTrip([new Ctor('m')]) as [Error];
      expect(error).toBeInstanceOf(Ctor);
      expect(error.constructor).toBe(Ctor);
      expect(error.message).toBe('m');
      expect(Object.keys(error)).toEqual([]);
    }
  });

  it('keep a custom name as a non-enumerable own property on an Error', () => {
    const custom = new Error('m');
    custom.name = 'MyError';
    const [error] = roundTrip([custom]) as [Error];
    expect(error.constructor).toBe(Error);
    expect(error.name).toBe('MyError');
    expect(Object.getOwnPropertyDescriptor(error, 'name')).toMatchObject({
      enumerable: false,
      writable: true,
    });
    const [plain] = roundTrip([new Error('m')]) as [Error];
    expect(Object.hasOwn(plain, 'name')).toBe(false);
  });

  it('keep cause and errors as non-enumerable, writable, configurable properties', () => {
    const aggregate = new AggregateError([new Error('inner')], 'outer', { cause: 'why' });
    const [error] = roundTrip([aggregate]) as [AggregateError];
    expect(error).toBeInstanceOf(AggregateError);
    expect(error.errors).toHaveLength(1);
    expect((error.errors[0] as Error).message).toBe('inner');
    expect(error.cause).toBe('why');
    for (const property of ['cause', 'errors']) {
      expect(Object.getOwnPropertyDescriptor(error, property)).toEqual({
        value: property === 'cause' ? 'why' : error.errors,
        enumerable: false,
        writable: true,
        configurable: true,
      });
    }
  });

  it('keep own enumerable fields as plain data properties', () => {
    const error = Object.assign(new Error('m'), { code: 'E_X' });
    const [copy] = roundTrip([error]) as [Error & { code: string }];
    expect(Object.getOwnPropertyDescriptor(copy, 'code')).toEqual({
      value: 'E_X',
      enumerable: true,
      writable: true,
      configurable: true,
    });
  });
});

describe('plain values', () => {
  it('booleans and null stay themselves, alone and inside objects', () => {
    expect(roundTrip([true, false, null])).toEqual([true, false, null]);
    expect(roundTrip([{ t: true, f: false, n: null }])).toEqual([{ t: true, f: false, n: null }]);
  });

  it('binary leaves come back in order, as exact copies', () => {
    const [a, b] = roundTrip([new Uint8Array([1, 2]), { inner: new Uint8Array([3, 4, 5]) }]) as [
      Uint8Array,
      { inner: Uint8Array },
    ];
    expect([...a]).toEqual([1, 2]);
    expect([...b.inner]).toEqual([3, 4, 5]);
  });
});

describe('binary leaves kept for runs in shared memory (share)', () => {
  const isShared = (v: ArrayBufferView | ArrayBuffer): boolean =>
    Object.prototype.toString.call(ArrayBuffer.isView(v) ? v.buffer : v) === '[object SharedArrayBuffer]';

  it('views of SHARE_MIN bytes or more are copied into shared memory and listed with their kind; smaller ones and ArrayBuffers are not', () => {
    const big = new Float64Array(SHARE_MIN / 8).fill(1.5);
    const view = new DataView(new ArrayBuffer(SHARE_MIN + 8), 4, SHARE_MIN);
    const small = new Int16Array(SHARE_MIN / 2 - 1).fill(3);
    const bare = new ArrayBuffer(SHARE_MIN * 2);
    const args = [big, { view }, [small], bare];
    const key = deriveKey(PREFIX, args);
    const rebuilt = rebuildArgs(key.text, PREFIX.length, key.binaries, true);
    const [b, { view: v }, [s], a] = rebuilt.args as [
      Float64Array,
      { view: DataView },
      [Int16Array],
      ArrayBuffer,
    ];
    expect([isShared(b), isShared(v), isShared(s), isShared(a)]).toEqual([true, true, false, false]);
    expect(b).toBeInstanceOf(Float64Array);
    expect([...b]).toEqual([...big]);
    expect(v).toBeInstanceOf(DataView);
    expect(v.byteLength).toBe(SHARE_MIN);
    expect(a).toBeInstanceOf(ArrayBuffer);
    expect(a.byteLength).toBe(bare.byteLength);
    expect([...rebuilt.shared!.entries()]).toEqual([
      [b, 'Float64Array'],
      [v, 'DataView'],
    ]);
    // Without share (the default, as for subscribers' copies), nothing is shared, even when the
    // source is: copies made from the entry's shared copies are ordinary.
    const again = rebuildArgs(key.text, PREFIX.length, rebuilt.binaries);
    expect(again.shared).toBeUndefined();
    expect(
      (again.args as (ArrayBufferView | ArrayBuffer)[]).filter((x) => ArrayBuffer.isView(x) && isShared(x)),
    ).toEqual([]);
    const [b2] = again.args as [Float64Array];
    expect(isShared(b2)).toBe(false);
    expect([...b2]).toEqual([...big]);
  });

  it('prepare() tags the shared copies; decode() hands out ordinary copies of their kind and bytes', () => {
    const big = new Uint16Array(SHARE_MIN / 2).map((_, i) => i);
    const key = deriveKey(PREFIX, [big, big]);
    const rebuilt = rebuildArgs(key.text, PREFIX.length, key.binaries, true);
    // A view over shared memory is refused unless it is one of the loader's own copies.
    expect(() => prepare(rebuilt.args[0], 'args[0]')).toThrow(UnsendableValueError);
    const carried = rebuilt.args.map((arg, i) => prepare(arg, `args[${i}]`, rebuilt.shared));
    expect(carried.map((c) => c.encoded)).toEqual([true, true]);
    const decoded = carried.map((c) => decode(structuredClone(c.value))) as Uint16Array[];
    for (const d of decoded) {
      expect(d).toBeInstanceOf(Uint16Array);
      expect(isShared(d)).toBe(false);
      expect(d.buffer.byteLength).toBe(big.byteLength);
      expect([...d]).toEqual([...big]);
    }
  });
});

describe('big arrays of numbers (packed in the key text)', () => {
  it('come back as plain arrays of the same numbers, -0 and NaN included', () => {
    const numbers = Array.from({ length: 300 }, (_, i) => (i === 7 ? -0 : i === 8 ? NaN : i * 0.5));
    const [back] = roundTrip([numbers]) as [number[]];
    expect(Array.isArray(back)).toBe(true);
    expect(back).toHaveLength(300);
    back.forEach((n, i) => expect(Object.is(n, numbers[i]), `index ${i}`).toBe(true));
  });
});
