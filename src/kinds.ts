/**
 * What kind of value something is, as far as carrying it between threads goes. The key
 * derivation (main thread) and the transport codec (both threads) walk values with this one
 * classification, so they always agree on what can be carried.
 *
 * Imported by worker threads: pure functions only.
 */

import { UnsendableValueError } from './errors.js';

export const Kind = {
  Primitive: 0,
  PlainObject: 1,
  Array: 2,
  Date: 3,
  RegExp: 4,
  Map: 5,
  Set: 6,
  Url: 7,
  Error: 8,
  Binary: 9,
  ArrayBuffer: 10,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

/** Deeper than this, a value is refused instead of risking a stack overflow in the host. */
export const MAX_DEPTH = 2_000;

const objectProto = Object.prototype;

/** Classifies `value`, or throws an UnsendableValueError naming `path()` (built only on failure). */
export function classify(value: unknown, path: () => string): Kind {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return Kind.Primitive;
    case 'function':
      throw new UnsendableValueError(
        path(),
        `a function${value.name ? ` (${value.name})` : ''}`,
        'Functions cannot cross threads; pass data and do the work inside the function.',
      );
    case 'symbol':
      throw new UnsendableValueError(path(), `a symbol (${String(value)})`);
  }
  if (value === null) return Kind.Primitive;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === objectProto || proto === null) return Kind.PlainObject;
  if (Array.isArray(value)) return Kind.Array;
  if (ArrayBuffer.isView(value)) return Kind.Binary;
  if (value instanceof Date) return Kind.Date;
  if (value instanceof Map) return Kind.Map;
  if (value instanceof Set) return Kind.Set;
  if (value instanceof RegExp) return Kind.RegExp;
  if (value instanceof URL) return Kind.Url;
  if (value instanceof Error) return Kind.Error;
  if (value instanceof ArrayBuffer) return Kind.ArrayBuffer;
  const name = (value as object).constructor?.name ?? 'an object with a custom prototype';
  if (
    value instanceof WeakMap ||
    value instanceof WeakSet ||
    value instanceof WeakRef ||
    value instanceof Promise
  ) {
    throw new UnsendableValueError(
      path(),
      `a ${name}`,
      'It holds references that only exist on this thread.',
    );
  }
  if (value instanceof SharedArrayBuffer) {
    throw new UnsendableValueError(
      path(),
      'a SharedArrayBuffer',
      'Shared memory would let the run change the cache key under it; pass a copy.',
    );
  }
  throw new UnsendableValueError(
    path(),
    `an instance of ${name}`,
    'Only plain objects, arrays and built-in types (Date, RegExp, Map, Set, URL, Error, typed arrays) are carried; ' +
      'convert it to a plain object first.',
  );
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * A path segment: a property name, an array index, or a ready-made piece such as `.get("k")`.
 * Walkers push and pop segments as they go and render them only when something fails.
 */
export type Segment = string | number | { raw: string };

export function renderPath(root: string, segments: readonly Segment[]): string {
  let out = root;
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (typeof s === 'object') out += s.raw;
    else out += IDENTIFIER.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`;
  }
  return out;
}

/** Thrown through the walkers to name how deep a value went; the walkers rewrap it with the path. */
export function tooDeep(path: string): UnsendableValueError {
  return new UnsendableValueError(path, `nested more than ${MAX_DEPTH} levels deep`, 'Flatten it first.');
}
