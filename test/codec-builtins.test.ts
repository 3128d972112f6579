/**
 * Built-ins the codec reads on every reply (`Array.isArray`, `ArrayBuffer.isView`): a function
 * that replaces one for good leaves later runs of other functions on its thread unaffected.
 * Replaced and not put back, every later array or typed array result was refused as unsendable.
 */
import { describe, expect, it } from 'vitest';
import { loaderFactory, watchHostErrors } from './helpers.js';

watchHostErrors();
const make = loaderFactory();

const REPLACEMENTS = {
  'Array.isArray': 'Array.isArray = () => false',
  'ArrayBuffer.isView': 'ArrayBuffer.isView = () => false',
};

describe.each(Object.entries(REPLACEMENTS))('a function that replaces %s and leaves it so', (_, code) => {
  it('changes nothing for a later run of another function on its thread (arrays, typed arrays, maps)', async () => {
    const loader = make({ threads: 1 });
    const tamper = loader.asyncLoad(new Function('n', `${code}; return n;`) as (n: number) => number);
    const later = loader.asyncLoad((n: number) => ({
      list: [n, [n + 1]],
      bytes: new Uint8Array([n]),
      map: new Map([[n, [n]]]),
    }));
    expect(await tamper.wait(1)).toBe(1);
    expect(await later.wait(7)).toEqual({
      list: [7, [8]],
      bytes: new Uint8Array([7]),
      map: new Map([[7, [7]]]),
    });
    // Its own run still saw its replacement: the change lasts for that run only.
    const sees = loader.asyncLoad(
      new Function('n', `${code}; return Array.isArray([]) && ArrayBuffer.isView(new Uint8Array(1));`) as (
        n: number,
      ) => boolean,
    );
    expect(await sees.wait(2)).toBe(false);
  });
});
