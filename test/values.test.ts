/** Values carried through arguments and results, with real worker threads. */
import { afterAll, describe, expect, it } from 'vitest';
import { createLoader } from '../src/index.js';
import { watchHostErrors } from './helpers.js';

const loader = createLoader({ threads: 2, pollInterval: 0 });
afterAll(() => loader.close());
watchHostErrors();

const echo = loader.asyncLoad((v: unknown) => v);

describe('values that cross threads intact, both ways', () => {
  const cyclic: Record<string, unknown> = { name: 'root' };
  cyclic.self = cyclic;
  const cases: [string, unknown][] = [
    ['undefined', undefined],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['BigInt', 2n ** 70n],
    ['Date', new Date('2026-11-25T10:00:00Z')],
    ['RegExp', /a+b/gi],
    [
      'Map',
      new Map<unknown, unknown>([
        ['a', 1],
        [2, { b: [3] }],
      ]),
    ],
    ['Set', new Set([1, 'two', 3n])],
    ['URL', new URL('https://example.test/a?b=c#d')],
    ['nested', { a: [1, { b: [2, { c: new Set([new Map([[1, new Date(0)]])]) }] }] }],
    ['typed array', new Int32Array([1, -2, 3])],
    ['ArrayBuffer', new Uint8Array([9, 8, 7]).buffer],
    ['constructor/prototype keys', { constructor: 'word', prototype: 2 }],
  ];

  it.each(cases)('%s', async (_name, value) => {
    expect(await echo.wait(value)).toEqual(value);
  });

  it('-0 stays -0', async () => {
    expect(Object.is(await echo.wait(-0), -0)).toBe(true);
  });

  it('cyclic structures keep their cycles', async () => {
    const back = (await echo.wait(cyclic)) as typeof cyclic;
    expect(back.self).toBe(back);
    expect(back.name).toBe('root');
  });

  it('errors as values keep class and properties', async () => {
    const error = Object.assign(new TypeError('as data'), { code: 'E_DATA' });
    const back = (await echo.wait({ error })) as { error: TypeError & { code: string } };
    expect(back.error).toBeInstanceOf(TypeError);
    expect(back.error.code).toBe('E_DATA');
  });

  it('a 64 MiB typed array goes through as binary memory', async () => {
    const sum = loader.asyncLoad((data: Float64Array) => {
      let s = 0;
      for (let i = 0; i < data.length; i++) s += data[i]!;
      return { s, type: data.constructor.name, length: data.length };
    });
    const data = new Float64Array((64 * 1024 * 1024) / 8).fill(0.5);
    const result = await sum.wait(data);
    expect(result).toEqual({ s: data.length / 2, type: 'Float64Array', length: data.length });
    // A second call with equal content is a cache hit, verified against the bytes.
    expect(sum(data)).toEqual(result);
  });
});
