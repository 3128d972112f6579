import { describe, expect, it } from 'vitest';
import { decode, encodeThrown, prepare } from '../src/codec.js';
import { UnsendableValueError, WorkerCrashedError } from '../src/errors.js';

/** What the other thread receives: prepare, structured clone (as postMessage does), decode. */
function carry<T>(value: T): T {
  const carried = prepare(value, 'result');
  const received = structuredClone(carried.value);
  return (carried.encoded ? decode(received) : received) as T;
}

describe('carrying values between threads', () => {
  it('passes values structured clone carries untouched, without copying them here', () => {
    const big = new Float64Array(1024);
    const value = { big, n: [NaN, -0, Infinity, -Infinity, 1n, undefined], d: new Date(5), r: /x/gi };
    const prepared = prepare(value, 'result');
    expect(prepared.encoded).toBe(false);
    expect(prepared.value).toBe(value);
    const back = carry(value);
    expect(Object.is(back.n[1], -0)).toBe(true);
    expect(back.n[4]).toBe(1n);
    expect(back.d).toEqual(new Date(5));
    expect(back.r.flags).toBe('gi');
    expect(back.big).toBeInstanceOf(Float64Array);
  });

  it('carries URLs, Maps and Sets of them, and cycles', () => {
    const value: Record<string, unknown> = {
      u: new URL('http://h/p?q=1'),
      m: new Map([[new URL('http://k/'), new Set([1])]]),
    };
    value.self = value;
    const back = carry(value);
    expect(back.u).toBeInstanceOf(URL);
    expect((back.u as URL).href).toBe('http://h/p?q=1');
    expect([...(back.m as Map<URL, Set<number>>).keys()][0]).toBeInstanceOf(URL);
    expect(back.self).toBe(back);
  });

  it('keeps an object that owns the tag key as plain data', () => {
    const value = { '\u0000asyncLoad': 'url', href: 'http://x/', u: new URL('http://y/') };
    const back = carry(value);
    expect(back).not.toBeInstanceOf(URL);
    expect(back['\u0000asyncLoad']).toBe('url');
    expect(back.u).toBeInstanceOf(URL);
  });

  it('keeps constructor and prototype keys as ordinary data', () => {
    const words = { constructor: 3, prototype: 1, __proto__x: 2 };
    expect(carry(words)).toEqual(words);
  });

  it('rebuilds errors with class, message, stack, cause and own properties', () => {
    const cause = new TypeError('inner');
    const error = Object.assign(new RangeError('outer', { cause }), { code: 'E_RANGE', detail: { n: 1 } });
    const back = carry(error);
    expect(back).toBeInstanceOf(RangeError);
    expect(back.message).toBe('outer');
    expect(back.stack).toBe(error.stack);
    expect(back.code).toBe('E_RANGE');
    expect(back.detail).toEqual({ n: 1 });
    expect(back.cause).toBeInstanceOf(TypeError);
  });

  it('keeps the name of a user-defined error class', () => {
    class ReportError extends Error {
      override name = 'ReportError';
    }
    const back = carry(new ReportError('bad month'));
    expect(back).toBeInstanceOf(Error);
    expect(back.name).toBe('ReportError');
    expect(String(back)).toBe('ReportError: bad month');
  });

  it('rebuilds library errors as their own classes', () => {
    const back = carry(new UnsendableValueError('result.f', 'a function'));
    expect(back).toBeInstanceOf(UnsendableValueError);
    expect(back.path).toBe('result.f');
    expect(back.code).toBe('ERR_ASYNC_LOAD_UNSENDABLE_VALUE');
  });

  it('carries thrown non-errors as they were thrown', () => {
    for (const thrown of ['text', 42, { reason: 'x' }, null, undefined]) {
      const c = encodeThrown(thrown);
      const back = c.encoded ? decode(structuredClone(c.value)) : structuredClone(c.value);
      expect(back).toEqual(thrown);
    }
  });

  it('keeps an error whose own property cannot be carried, noting what was dropped', () => {
    const error = Object.assign(new Error('with a callback'), { retry: () => 1 });
    const c = encodeThrown(error);
    const back = decode(structuredClone(c.value)) as Error & { droppedBecause: string };
    expect(back.message).toBe('with a callback');
    expect(back.droppedBecause).toContain('error.retry is a function');
  });

  it('refuses a result that cannot be carried, naming where it is', () => {
    expect(() => prepare({ items: [1, { render: () => 1 }] }, 'result')).toThrow(
      'result.items[1].render is a function',
    );
    expect(() => prepare(new WeakMap(), 'result')).toThrow(UnsendableValueError);
  });

  it('has a crashed-worker error with an exit code', () => {
    expect(new WorkerCrashedError('x', { exitCode: 3 }).exitCode).toBe(3);
  });
});
