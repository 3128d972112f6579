/**
 * Built-ins the codec reads on every reply and argument: a function that replaces one and
 * leaves it so changes nothing for later runs of other functions on its thread. Before, such a
 * run failed (arrays refused as unsendable, errors that could not be carried), received the
 * codec's own tagged objects, hung, or sent the whole backing buffer of a small Buffer.
 */
import { describe, expect, it } from 'vitest';
import { loaderFactory, watchHostErrors } from './helpers.js';

watchHostErrors();
const make = loaderFactory();

const TYPED = 'Object.getPrototypeOf(Uint8Array.prototype)';
/** Each leaves a built-in replaced (or a getter added) after its run. */
const REPLACEMENTS = {
  'Array.isArray': 'Array.isArray = () => false',
  'ArrayBuffer.isView': 'ArrayBuffer.isView = () => false',
  'Object.getPrototypeOf (returning null)': 'Object.getPrototypeOf = () => null',
  'Object.getPrototypeOf (throwing a function)': 'Object.getPrototypeOf = () => { throw () => 0; }',
  'Object.keys (returning [])': 'Object.keys = () => []',
  'Object.keys (throwing a symbol)': "Object.keys = () => { throw Symbol('no'); }",
  'Object.hasOwn': 'Object.hasOwn = () => { throw 1; }',
  'Object.defineProperty': 'Object.defineProperty = () => { throw 1; }',
  'Number.isInteger': 'Number.isInteger = () => { throw 1; }',
  'Error.captureStackTrace': 'Error.captureStackTrace = () => { throw 1; }',
  'Error[Symbol.hasInstance]':
    'Object.defineProperty(Error, Symbol.hasInstance, { value: () => { throw 1; }, configurable: true })',
  AggregateError: 'globalThis.AggregateError = 5',
  'Date, RegExp, URL': 'globalThis.Date = class {}; globalThis.RegExp = class {}; globalThis.URL = undefined',
  'getters on Error.prototype':
    "for (const k of ['name', 'cause']) Object.defineProperty(Error.prototype, k, { get() { throw new Error('g' + k); }, configurable: true })",
  'lying byteOffset and byteLength': `Object.defineProperty(${TYPED}, 'byteOffset', { get() { return 0; }, configurable: true }); Object.defineProperty(${TYPED}, 'byteLength', { get() { return this.buffer.byteLength; }, configurable: true })`,
};

/** What the later function returns, built on its thread; compared with the same built here. */
function sample(n: number): unknown {
  const cause = new RangeError('inner');
  const error = Object.assign(new Error('outer', { cause }), { code: 'E_SAMPLE' });
  return {
    list: [n, [n + 1]],
    bytes: new Uint8Array([n]),
    small: Buffer.from('public'),
    map: new Map([[n, [n]]]),
    set: new Set([n]),
    date: new Date(n),
    pattern: /a+/g,
    url: new URL(`https://example.com/${n}`),
    error,
  };
}

describe.each(Object.entries(REPLACEMENTS))('a function that replaces %s and leaves it so', (_, code) => {
  it('changes nothing for later runs of other functions on its thread: their values, arguments and errors', async () => {
    const loader = make({ threads: 1 });
    const tamper = loader.asyncLoad(new Function('n', `${code}; return n;`) as (n: number) => number);
    const later = loader.asyncLoad(sample);
    const echo = loader.asyncLoad((value: unknown) => value);
    const fails = loader.asyncLoad((n: number) => {
      throw Object.assign(new TypeError(`failed ${n}`), { code: 'E_FAILS', cause: new Error('why') });
    });
    expect(await tamper.wait(1)).toBe(1);
    const value = (await later.wait(7)) as { small: Buffer; error: Error & { cause: Error; code: string } };
    // A Buffer arrives as a Uint8Array (structured clone), over a buffer of its own 6 bytes.
    expect(value).toEqual({ ...(sample(7) as object), small: new Uint8Array(Buffer.from('public')) });
    expect(value.small.buffer.byteLength).toBe(6);
    expect(value.error.cause).toBeInstanceOf(RangeError);
    expect(value.error.code).toBe('E_SAMPLE');
    const url = new URL('https://example.com/x');
    expect(await echo.wait([url, new Error('arg', { cause: 1 })])).toEqual([
      url,
      new Error('arg', { cause: 1 }),
    ]);
    const error = await fails.wait(3).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ message: 'failed 3', code: 'E_FAILS', cause: { message: 'why' } });
  });
});
