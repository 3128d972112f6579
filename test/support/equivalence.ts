/**
 * The identity rule, written once, for tests only: two argument lists are equivalent exactly
 * when the function would receive indistinguishable values on its thread. The key derivation
 * (src/key.ts) is judged against this; it must not be derived from it or share code with it.
 *
 * What arrives is a tree copy made by structured clone plus the codec, so:
 * - primitives compare by Object.is (`-0` is not `0`, `NaN` is `NaN`, `1` / `'1'` / `1n` differ);
 * - plain objects (prototype Object.prototype or null, which arrive alike) compare by their own
 *   enumerable string keys, in any order; symbol keys and non-enumerable properties do not travel;
 * - arrays also by length, holes (a hole is not `undefined`) and own non-index properties;
 * - Date by time value, RegExp by source and flags, URL by href;
 * - Error by name (what the codec carries: a built-in class arrives as that class, anything else
 *   as an Error with that name), message, presence and value of `cause`, own enumerable
 *   properties other than the standard ones, and AggregateError#errors; never by stack;
 * - Map and Set by contents, as a one-to-one matching, insertion order ignored;
 * - binary data by kind (a Buffer arrives as a Uint8Array), byte length and bytes, never by
 *   where the view sits in its backing buffer;
 * - sharing is not identity (two places holding one object equal two equal copies), but a cycle
 *   is: a back-reference to the n-th enclosing object on the current path must match one to
 *   the n-th enclosing object on the other side.
 *
 * Anything the library refuses to carry (functions, symbols, class instances, ...) throws here:
 * the generators must not produce it, and a test that meets it is wrong, not the key.
 */
export function equivalent(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (!Array.isArray(a) || !Array.isArray(b)) throw new TypeError('equivalent() takes two argument lists');
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (!same(a[i], b[i], [], [])) return false;
  }
  return true;
}

type Kind =
  | 'plain'
  | 'array'
  | 'date'
  | 'regexp'
  | 'url'
  | 'error'
  | 'map'
  | 'set'
  | 'arraybuffer'
  | 'dataview'
  | 'typed';

function kindOf(v: object): Kind {
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) return 'plain';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'date';
  if (v instanceof RegExp) return 'regexp';
  if (v instanceof URL) return 'url';
  if (v instanceof Error) return 'error';
  if (v instanceof Map) return 'map';
  if (v instanceof Set) return 'set';
  if (v instanceof ArrayBuffer) return 'arraybuffer';
  if (v instanceof DataView) return 'dataview';
  if (ArrayBuffer.isView(v)) return 'typed';
  throw new TypeError(`equivalent(): no identity rule for ${Object.prototype.toString.call(v)}`);
}

/**
 * `pathA`/`pathB` are the objects enclosing the current position, outermost first. The two walks
 * move in lockstep, so equal depth on both sides means corresponding ancestors.
 */
function same(x: unknown, y: unknown, pathA: object[], pathB: object[]): boolean {
  const tx = typeof x;
  const ty = typeof y;
  if (tx === 'function' || tx === 'symbol' || ty === 'function' || ty === 'symbol') {
    throw new TypeError('equivalent(): functions and symbols are not values the library carries');
  }
  const xObj = x !== null && tx === 'object';
  const yObj = y !== null && ty === 'object';
  if (!xObj || !yObj) return !xObj && !yObj && Object.is(x, y);

  const ox = x as object;
  const oy = y as object;
  const backX = pathA.indexOf(ox);
  const backY = pathB.indexOf(oy);
  if (backX !== -1 || backY !== -1) return backX === backY;

  const kind = kindOf(ox);
  if (kindOf(oy) !== kind) return false;

  pathA.push(ox);
  pathB.push(oy);
  try {
    return sameOfKind(kind, ox, oy, pathA, pathB);
  } finally {
    pathA.pop();
    pathB.pop();
  }
}

function sameOfKind(kind: Kind, x: object, y: object, pathA: object[], pathB: object[]): boolean {
  switch (kind) {
    case 'plain':
      return sameProps(x, y, Object.keys(x), Object.keys(y), pathA, pathB);
    case 'array':
      return sameArrays(x as unknown[], y as unknown[], pathA, pathB);
    case 'date':
      return Object.is((x as Date).getTime(), (y as Date).getTime());
    case 'regexp':
      return (x as RegExp).source === (y as RegExp).source && (x as RegExp).flags === (y as RegExp).flags;
    case 'url':
      return (x as URL).href === (y as URL).href;
    case 'error':
      return sameErrors(x as Error, y as Error, pathA, pathB);
    case 'map':
      return sameCollections(
        [...(x as Map<unknown, unknown>)],
        [...(y as Map<unknown, unknown>)],
        (p, q) => same(p[0], q[0], pathA, pathB) && same(p[1], q[1], pathA, pathB),
      );
    case 'set':
      return sameCollections([...(x as Set<unknown>)], [...(y as Set<unknown>)], (p, q) =>
        same(p, q, pathA, pathB),
      );
    case 'arraybuffer':
    case 'dataview':
    case 'typed':
      return sameBytes(x as ArrayBuffer | ArrayBufferView, y as ArrayBuffer | ArrayBufferView);
  }
}

function sameProps(
  x: object,
  y: object,
  keysX: readonly string[],
  keysY: readonly string[],
  pathA: object[],
  pathB: object[],
): boolean {
  if (keysX.length !== keysY.length) return false;
  const inY = new Set(keysY);
  for (const k of keysX) {
    if (!inY.has(k)) return false;
    // An own `__proto__` data property shadows the accessor, so plain reads are safe here.
    if (!same((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], pathA, pathB))
      return false;
  }
  return true;
}

/** A canonical array index: what `arr[k]` addresses as an element rather than a property. */
function isIndex(key: string): boolean {
  const n = Number(key);
  return Number.isInteger(n) && n >= 0 && n < 2 ** 32 - 1 && String(n) === key;
}

function sameArrays(x: unknown[], y: unknown[], pathA: object[], pathB: object[]): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) {
    const hasX = Object.hasOwn(x, i);
    if (hasX !== Object.hasOwn(y, i)) return false;
    if (hasX && !same(x[i], y[i], pathA, pathB)) return false;
  }
  const extraX = Object.keys(x).filter((k) => !isIndex(k));
  const extraY = Object.keys(y).filter((k) => !isIndex(k));
  return sameProps(x, y, extraX, extraY, pathA, pathB);
}

/** Carried separately by the codec (or not at all, for `stack`): not "own properties" here. */
const STANDARD_ERROR_KEYS = new Set(['name', 'message', 'stack', 'cause']);

function sameErrors(x: Error, y: Error, pathA: object[], pathB: object[]): boolean {
  if (x.name !== y.name || x.message !== y.message) return false;
  const causeX = 'cause' in x;
  if (causeX !== 'cause' in y) return false;
  if (causeX && !same(x.cause, y.cause, pathA, pathB)) return false;
  const errorsX = aggregated(x);
  const errorsY = aggregated(y);
  if ((errorsX === undefined) !== (errorsY === undefined)) return false;
  if (errorsX && errorsY && !same(errorsX, errorsY, pathA, pathB)) return false;
  const own = (e: Error): string[] => Object.keys(e).filter((k) => !STANDARD_ERROR_KEYS.has(k));
  return sameProps(x, y, own(x), own(y), pathA, pathB);
}

function aggregated(e: Error): unknown[] | undefined {
  return e instanceof AggregateError && Array.isArray(e.errors) ? (e.errors as unknown[]) : undefined;
}

/**
 * One-to-one matching. Greedy is enough: `same` is an equivalence relation (within one
 * context), so any unused equivalent partner is as good as any other.
 */
function sameCollections<T>(xs: T[], ys: T[], match: (p: T, q: T) => boolean): boolean {
  if (xs.length !== ys.length) return false;
  const used = new Array<boolean>(ys.length).fill(false);
  for (const p of xs) {
    let found = false;
    for (let j = 0; j < ys.length; j++) {
      if (!used[j] && match(p, ys[j]!)) {
        used[j] = true;
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

function binaryKind(v: ArrayBuffer | ArrayBufferView): string {
  // `[object Uint8Array]` for a Buffer too: its toStringTag is the typed-array name it arrives as.
  return Object.prototype.toString.call(v);
}

function sameBytes(x: ArrayBuffer | ArrayBufferView, y: ArrayBuffer | ArrayBufferView): boolean {
  if (binaryKind(x) !== binaryKind(y) || x.byteLength !== y.byteLength) return false;
  const bx = ArrayBuffer.isView(x) ? new Uint8Array(x.buffer, x.byteOffset, x.byteLength) : new Uint8Array(x);
  const by = ArrayBuffer.isView(y) ? new Uint8Array(y.buffer, y.byteOffset, y.byteLength) : new Uint8Array(y);
  for (let i = 0; i < bx.length; i++) if (bx[i] !== by[i]) return false;
  return true;
}
