/**
 * Built-ins the pool's own code calls on every run (workers/start-up.ts, GUARDED): a function
 * that replaces one or deletes one finds it put back before the next run on its thread.
 * The list here is written out independently of the worker's, and each built-in is tried on its
 * own: a name missing from the worker's list (or misspelled there) is one this test catches.
 */
import { describe, expect, it } from 'vitest';
import { loaderFactory, watchHostErrors } from './helpers.js';

watchHostErrors();
const make = loaderFactory();

/** Where each guarded built-in lives, as a path the thread resolves, and its property names. */
const GUARDED: [string, string[]][] = [
  // Object.prototype.then is guarded too, but any `then` there makes the run's own reply a
  // thenable that never settles: tampering-more.test.ts tests it with a run that times out.
  ['Function.prototype', ['apply', 'call', 'bind']],
  [
    'Array.prototype',
    [
      'push',
      'pop',
      'shift',
      'unshift',
      'splice',
      'slice',
      'map',
      'forEach',
      'filter',
      'indexOf',
      'includes',
      'join',
      '@@iterator',
    ],
  ],
  ['ArrayIterator', ['next']],
  ['Map.prototype', ['get', 'set', 'has', 'delete', 'keys', 'values', 'entries', 'forEach', '@@iterator']],
  ['MapIterator', ['next']],
  ['Set.prototype', ['add', 'has', 'delete', 'values', 'forEach', '@@iterator']],
  ['SetIterator', ['next']],
  ['Promise.prototype', ['then', 'catch', 'finally']],
  ['Promise', ['resolve', 'reject', 'race', 'all', 'allSettled', 'any']],
  [
    'globalThis',
    ['Promise', 'Map', 'Set', 'Array', 'Object', 'JSON', 'Reflect', 'Uint8Array', 'ArrayBuffer'],
  ],
  ['JSON', ['stringify', 'parse']],
  ['AsyncLocalStorage.prototype', ['run', 'getStore', 'enterWith', 'exit']],
  ['TypedArray.prototype', ['set']],
];

/**
 * Runs on the thread (self-contained). `replace` puts a stand-in that behaves like the built-in
 * (so the run itself and its reply are unaffected) in its place, or adds one where the name is
 * absent, and remembers it in a registry later runs on the thread can look in; `delete` takes
 * the built-in away; `undefined` makes it a present property whose value is undefined;
 * `inspect` says what is there now: 'original', 'stand-in' or 'missing'.
 */
function probe(where: string, name: string, action: 'replace' | 'delete' | 'undefined' | 'inspect'): string {
  const paths: Record<string, () => object> = {
    'Object.prototype': () => Object.prototype,
    'Function.prototype': () => Function.prototype,
    'Array.prototype': () => Array.prototype,
    ArrayIterator: () => Object.getPrototypeOf([][Symbol.iterator]()) as object,
    'Map.prototype': () => Map.prototype,
    MapIterator: () => Object.getPrototypeOf(new Map()[Symbol.iterator]()) as object,
    'Set.prototype': () => Set.prototype,
    SetIterator: () => Object.getPrototypeOf(new Set()[Symbol.iterator]()) as object,
    'Promise.prototype': () => Promise.prototype,
    Promise: () => Promise,
    globalThis: () => globalThis,
    JSON: () => JSON,
    'AsyncLocalStorage.prototype': () =>
      (require('node:async_hooks') as typeof import('node:async_hooks')).AsyncLocalStorage.prototype,
    'TypedArray.prototype': () => Object.getPrototypeOf(Uint8Array.prototype) as object,
  };
  const target = paths[where]!() as Record<PropertyKey, unknown>;
  const key = name === '@@iterator' ? Symbol.iterator : name;
  const registry = ((globalThis as { __standIns?: WeakSet<object> }).__standIns ??= new WeakSet());
  const present = Object.prototype.hasOwnProperty.call(target, key);
  const current = target[key];
  if (action === 'inspect') {
    if (!present) return 'missing';
    return (typeof current === 'object' || typeof current === 'function') && registry.has(current as object)
      ? 'stand-in'
      : 'original';
  }
  if (action === 'undefined') {
    // Present, but with the value an absent property reads as.
    Object.defineProperty(target, key, { value: undefined, writable: true, configurable: true });
    return 'set to undefined';
  }
  if (action === 'delete') {
    Reflect.deleteProperty(target, key);
    return 'deleted';
  }
  const apply = Reflect.apply;
  // A constructor or a namespace stays usable through a proxy; a method through a wrapper.
  const standIn =
    typeof current === 'function' && !/^[A-Z]/.test(name)
      ? function (this: unknown, ...args: unknown[]): unknown {
          return apply(current as (...a: unknown[]) => unknown, this, args);
        }
      : current === undefined
        ? function absent(): undefined {
            return undefined;
          }
        : new Proxy(current as object, {});
  registry.add(standIn);
  Object.defineProperty(target, key, { value: standIn, writable: true, configurable: true });
  return 'replaced';
}

describe('built-ins the pool relies on', () => {
  it.each(GUARDED)(
    '%s: each one replaced by a function is put back before the next run',
    async (where, names) => {
      const l = make({ threads: 1 });
      const run = l.asyncLoad(probe);
      for (const name of names) {
        expect(await run.wait(where, name, 'inspect')).toBe('original');
        run.clear();
        expect(await run.wait(where, name, 'replace')).toBe('replaced');
        expect(await run.wait(where, name, 'inspect'), `${where} ${name}`).toBe('original');
        run.clear();
      }
    },
  );

  it('Object.prototype.then, absent, set to undefined by a function: absent again for the next run', async () => {
    // Harmless in itself (only a function `then` makes objects thenable), but the worker keeps
    // the guarded names exactly as it found them: present or absent included.
    const l = make({ threads: 1 });
    const run = l.asyncLoad(probe);
    expect(await run.wait('Object.prototype', 'then', 'inspect')).toBe('missing');
    run.clear();
    expect(await run.wait('Object.prototype', 'then', 'undefined')).toBe('set to undefined');
    expect(await run.wait('Object.prototype', 'then', 'inspect')).toBe('missing');
  });

  it('a built-in deleted by a function is back for the next run', async () => {
    const l = make({ threads: 1 });
    const run = l.asyncLoad(probe);
    // Ones the deleting run's own reply does not go through (a deleted `then` or `apply` would
    // fail that run, which is not what this checks).
    for (const [where, name] of [
      ['Array.prototype', 'includes'],
      ['Map.prototype', 'forEach'],
      ['Set.prototype', 'forEach'],
      ['Promise', 'any'],
      ['JSON', 'parse'],
      ['globalThis', 'Reflect'],
    ] as const) {
      expect(await run.wait(where, name, 'delete')).toBe('deleted');
      expect(await run.wait(where, name, 'inspect'), `${where} ${name}`).toBe('original');
      run.clear();
    }
  });
});
