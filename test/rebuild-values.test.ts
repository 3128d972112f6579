/**
 * Arguments rebuilt from their key text are what the run receives: errors keep their class,
 * name, cause and errors as structured clone would (non-enumerable, writable, configurable),
 * booleans and null stay themselves, and binary leaves come back in their order.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadHasher } from '../src/hash.js';
import { deriveKey } from '../src/key.js';
import { rebuildArgs } from '../src/rebuild-args.js';

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
