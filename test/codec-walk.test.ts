/**
 * The transport codec and the value classification it shares with the key, without threads:
 * what is refused (and the path and reason given), what is rewritten for posting and what is
 * posted as it is, and that prepare → structured clone → decode gives back what was sent.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, encodeThrown, errorPropertyKeys, makeError, prepare, safeString } from '../src/codec.js';
import { UnsendableValueError } from '../src/errors.js';
import { TYPED } from './support/arbitraries.js';
import {
  binaryFromBytes,
  binaryKind,
  bytesOf,
  classify,
  coversItsBuffer,
  ERROR_NESTING,
  exactCopy,
  Kind,
  knownBinaryKind,
  MAX_DEPTH,
  renderPath,
} from '../src/kinds.js';

/** What the other thread receives: prepare, structured clone (as postMessage does), decode. */
function carry<T>(value: T): T {
  const carried = prepare(value, 'result');
  const received = structuredClone(carried.value);
  return (carried.encoded ? decode(received) : received) as T;
}

/** The message of what prepare() throws for `value` (rooted at `result`). */
function refusal(value: unknown): string {
  try {
    prepare(value, 'result');
  } catch (error) {
    expect(error).toBeInstanceOf(UnsendableValueError);
    return (error as Error).message;
  }
  throw new Error('prepare() accepted the value');
}

/** `levels` arrays, each holding the next; the innermost holds `leaf`. */
function nested(levels: number, leaf: unknown = 1): unknown {
  let v = leaf;
  for (let i = 0; i < levels; i++) v = [v];
  return v;
}

const url = (): URL => new URL('http://h.test/p');

describe('prepare: what is posted as it is', () => {
  it('posts primitives and plain data untouched', () => {
    for (const v of [0, -0, 'text', true, false, 5n, undefined, null, NaN, { a: [1, 'x'] }]) {
      const c = prepare(v, 'result');
      expect(c.encoded).toBe(false);
      expect(c.value).toBe(v);
    }
  });

  it('rewrites values that hold a URL, an Error, an object owning the tag key or a partial view', () => {
    const shared = new Uint8Array(16);
    for (const v of [
      url(),
      new Error('e'),
      { '\u0000asyncLoad': 1 },
      [url()],
      new Map([[1, url()]]),
      new Set([url()]),
      shared.subarray(2, 5),
      { deep: { deeper: [shared.subarray(0, 1)] } },
    ])
      expect(prepare(v, 'result').encoded).toBe(true);
    // Whole views, buffers, dates and regexps are carried by structured clone as they are.
    for (const v of [
      shared,
      shared.buffer,
      new DataView(shared.buffer),
      new Date(1),
      /x/g,
      [shared],
      { shared },
    ])
      expect(prepare(v, 'result').encoded).toBe(false);
  });

  it('sends only the bytes a partial view covers, of the same kind', () => {
    const buffer = new ArrayBuffer(32);
    new Uint8Array(buffer).set([1, 2, 3, 4, 5, 6, 7, 8], 8);
    const view = new Uint16Array(buffer, 8, 2);
    const c = prepare({ view }, 'result');
    const posted = (c.value as { view: Uint16Array }).view;
    expect(posted).toBeInstanceOf(Uint16Array);
    expect(posted.buffer.byteLength).toBe(4);
    expect([...new Uint8Array(posted.buffer)]).toEqual([1, 2, 3, 4]);
    expect([...carry({ view }).view]).toEqual([...view]);
    const dv = new DataView(buffer, 9, 3);
    const back = carry([dv])[0]!;
    expect(back).toBeInstanceOf(DataView);
    expect(back.byteLength).toBe(3);
    expect(back.getUint8(0)).toBe(2);
  });
});

describe('prepare: what is refused, and where', () => {
  it('refuses functions and symbols at the top, naming the root', () => {
    expect(refusal(function named() {})).toBe(
      'result is a function (named), which cannot be carried to or from a worker thread. ' +
        'Functions cannot cross threads; pass data and do the work inside the function.',
    );
    expect(refusal(Symbol('s'))).toBe(
      'result is a symbol (Symbol(s)), which cannot be carried to or from a worker thread.',
    );
    const anonymous = [() => 1][0];
    Object.defineProperty(anonymous, 'name', { value: '' });
    expect(refusal(anonymous)).toMatch(/^result is a function, which/);
  });

  it('names the path through objects, arrays, maps, sets and errors', () => {
    const f = (): number => 1;
    expect(refusal({ a: { 'b c': [0, f] } })).toMatch(/^result\.a\["b c"\]\[1\] is a function/);
    const withProp = Object.assign([1], { extra: f });
    expect(refusal({ list: withProp })).toMatch(/^result\.list\.extra is a function/);
    const negative = Object.assign([1], { '-1': f });
    expect(refusal(negative)).toMatch(/^result\["-1"\] is a function/);
    const padded = Object.assign([1], { '01': f });
    expect(refusal(padded)).toMatch(/^result\["01"\] is a function/);
    expect(refusal(new Map([[f, 1]]))).toMatch(/^result<Map key> is a function/);
    expect(refusal(new Map([['k', f]]))).toMatch(/^result\.get\("k"\) is a function/);
    expect(refusal(new Map([[{}, f]]))).toMatch(/^result\.get\(<object>\) is a function/);
    expect(refusal(new Map([[7, f]]))).toMatch(/^result\.get\(7\) is a function/);
    expect(refusal(new Map([[null, f]]))).toMatch(/^result\.get\(null\) is a function/);
    expect(refusal(new Set([1, 2, f]))).toMatch(/^result<Set item 2> is a function/);
    expect(refusal(new Error('e', { cause: f }))).toMatch(/^result\.cause is a function/);
    expect(refusal(Object.assign(new Error('e'), { retry: f }))).toMatch(/^result\.retry is a function/);
    expect(refusal(new AggregateError([1, f]))).toMatch(/^result\.errors\[1\] is a function/);
    expect(refusal([Symbol.iterator])).toMatch(/^result\[0\] is a symbol \(Symbol\(Symbol\.iterator\)\)/);
  });

  it('refuses more than MAX_DEPTH levels, and counts the levels an Error adds', () => {
    // The root is level 0: MAX_DEPTH + 1 arrays reach level MAX_DEPTH, their leaf one more.
    expect(prepare(nested(MAX_DEPTH + 1), 'result').encoded).toBe(false);
    expect(refusal(nested(MAX_DEPTH + 2))).toMatch(
      /^result(\[0\]){12}…\(\d+ more\)…(\[0\]){12} is nested more than 1000 levels deep/,
    );
    expect(prepare(nested(MAX_DEPTH, url()), 'result').encoded).toBe(true);
    expect(refusal(nested(MAX_DEPTH + 1, url()))).toMatch(/nested more than 1000 levels deep/);
    // The same depth through maps, sets and plain objects.
    let viaMap: unknown = 1;
    for (let i = 0; i <= MAX_DEPTH + 1; i++) viaMap = new Map([[i % 2 ? 'v' : 1, viaMap]]);
    expect(refusal(viaMap)).toMatch(/nested more than 1000 levels deep/);
    let viaMapKeys: unknown = 1;
    for (let i = 0; i <= MAX_DEPTH + 1; i++) viaMapKeys = new Map([[viaMapKeys, 1]]);
    expect(refusal(viaMapKeys)).toMatch(/nested more than 1000 levels deep/);
    let viaSet: unknown = 1;
    for (let i = 0; i <= MAX_DEPTH + 1; i++) viaSet = new Set([viaSet]);
    expect(refusal(viaSet)).toMatch(/nested more than 1000 levels deep/);
    let viaObject: unknown = 1;
    for (let i = 0; i <= MAX_DEPTH + 1; i++) viaObject = { o: viaObject };
    expect(refusal(viaObject)).toMatch(/nested more than 1000 levels deep/);
    // An error's cause and errors sit ERROR_NESTING levels below it, its own properties one more.
    const belowCause = MAX_DEPTH - ERROR_NESTING;
    expect(() => prepare(new Error('e', { cause: nested(belowCause + 1) }), 'r')).not.toThrow();
    expect(refusal(new Error('e', { cause: nested(belowCause + 2) }))).toMatch(/^result\.cause/);
    expect(() => prepare(new AggregateError([nested(belowCause)]), 'r')).not.toThrow();
    expect(refusal(new AggregateError([nested(belowCause + 1)]))).toMatch(/^result\.errors\[0\]/);
    expect(() => prepare(Object.assign(new Error('e'), { p: nested(belowCause) }), 'r')).not.toThrow();
    expect(refusal(Object.assign(new Error('e'), { p: nested(belowCause + 1) }))).toMatch(/^result\.p/);
  });
});

describe('classify', () => {
  const path = (): string => 'v';
  const reason = (value: unknown): string => {
    try {
      classify(value, path);
    } catch (error) {
      expect(error).toBeInstanceOf(UnsendableValueError);
      expect((error as UnsendableValueError).path).toBe('v');
      return (error as Error).message;
    }
    throw new Error('classified');
  };

  it('tells the kinds apart', () => {
    for (const v of ['s', 1, true, 1n, undefined, null]) expect(classify(v, path)).toBe(Kind.Primitive);
    expect(classify({}, path)).toBe(Kind.PlainObject);
    expect(classify(Object.create(null), path)).toBe(Kind.PlainObject);
    expect(classify([], path)).toBe(Kind.Array);
    expect(classify(new Date(0), path)).toBe(Kind.Date);
    expect(classify(/x/, path)).toBe(Kind.RegExp);
    expect(classify(new Map(), path)).toBe(Kind.Map);
    expect(classify(new Set(), path)).toBe(Kind.Set);
    expect(classify(url(), path)).toBe(Kind.Url);
    expect(classify(new TypeError('x'), path)).toBe(Kind.Error);
    expect(classify(new Uint8Array(1), path)).toBe(Kind.Binary);
    expect(classify(new DataView(new ArrayBuffer(1)), path)).toBe(Kind.Binary);
    expect(classify(new ArrayBuffer(1), path)).toBe(Kind.ArrayBuffer);
  });

  it('refuses what cannot be carried, saying why', () => {
    expect(reason(new Proxy({}, {}))).toBe(
      'v is a Proxy, which cannot be carried to or from a worker thread. Pass the plain data it wraps instead.',
    );
    expect(reason(Object.create(new Proxy({}, {})))).toBe(
      'v is an object whose prototype is a Proxy, which cannot be carried to or from a worker thread. Pass plain data instead.',
    );
    expect(reason(new Int32Array(new SharedArrayBuffer(8)))).toMatch(
      /^v is a view over a SharedArrayBuffer, .*Shared memory would let the run change the caller's data/,
    );
    expect(reason(new SharedArrayBuffer(8))).toMatch(
      /^v is a SharedArrayBuffer, .*Shared memory would let the run change the cache key under it; pass a copy\.$/,
    );
    expect(reason(new WeakMap())).toMatch(
      /^v is a WeakMap, .*It holds references that only exist on this thread\.$/,
    );
    expect(reason(new WeakSet())).toMatch(/^v is a WeakSet, /);
    expect(reason(Promise.resolve())).toMatch(/^v is a Promise, /);
    expect(reason(new WeakRef({}))).toMatch(/^v is a WeakRef, /);
    const weakMapWithoutName = new WeakMap();
    Object.setPrototypeOf(weakMapWithoutName, Object.create(WeakMap.prototype) as object);
    // Without a constructor of its own the prototype names no class.
    expect(reason(weakMapWithoutName)).toMatch(/^v is a value, /);
  });

  it('refuses detached buffers and views over them', () => {
    const buffer = new ArrayBuffer(8);
    const view = new Uint8Array(buffer);
    structuredClone(buffer, { transfer: [buffer] });
    const detachedText =
      'v is a detached ArrayBuffer (or a view over one), which cannot be carried to or from a worker thread. ' +
      'It was transferred away; pass data that still exists.';
    expect(reason(buffer)).toBe(detachedText);
    expect(reason(view)).toBe(detachedText);
    expect(classify(new Uint8Array(new ArrayBuffer(0)), path)).toBe(Kind.Binary);
  });

  it('refuses class instances and subclasses of built-ins, naming the class', () => {
    class Point {
      x = 1;
    }
    class MyList extends Array {}
    class MyMap extends Map {}
    class MySet extends Set {}
    class MyDate extends Date {}
    class MyRegExp extends RegExp {}
    const carried =
      'Only plain objects, arrays and built-in types (Date, RegExp, Map, Set, URL, Error, typed arrays) are carried; ' +
      'convert it to a plain object first.';
    expect(reason(new Point())).toBe(
      `v is an instance of Point, which cannot be carried to or from a worker thread. ${carried}`,
    );
    expect(reason(new MyList())).toMatch(/^v is an instance of MyList \(a subclass of Array\), /);
    expect(reason(new MyMap())).toMatch(/^v is an instance of MyMap \(a subclass of Map\), /);
    expect(reason(new MySet())).toMatch(/^v is an instance of MySet \(a subclass of Set\), /);
    expect(reason(new MyDate())).toMatch(/^v is an instance of MyDate \(a subclass of Date\), /);
    expect(reason(new MyRegExp('x'))).toMatch(/^v is an instance of MyRegExp \(a subclass of RegExp\), /);
    // Prototypes without a usable constructor name.
    expect(reason(Object.create(Object.create(null) as object))).toMatch(
      /^v is an object with a custom prototype, /,
    );
    const unnamed = Object.create({
      constructor: Object.defineProperty(function () {}, 'name', { value: '' }),
    });
    expect(reason(unnamed)).toMatch(/^v is an object with a custom prototype, /);
    const numberName = Object.create({
      constructor: Object.defineProperty(function () {}, 'name', { value: 3 }),
    });
    expect(reason(numberName)).toMatch(/^v is an object with a custom prototype, /);
    const notAFunction = Object.create({ constructor: 'Point' });
    expect(reason(notAFunction)).toMatch(/^v is an object with a custom prototype, /);
    // A getter for the constructor is never run.
    let ran = false;
    const getter = Object.create(
      Object.defineProperty({}, 'constructor', {
        get: () => {
          ran = true;
          return Point;
        },
      }),
    );
    expect(reason(getter)).toMatch(/^v is an object with a custom prototype, /);
    expect(ran).toBe(false);
    // An object made from URL.prototype is no URL.
    expect(reason(Object.create(URL.prototype))).toMatch(/^v is an instance of URL, /);
    // A copy of a built-in's prototype is not the built-in.
    const fakeDate = new Date(0);
    Object.setPrototypeOf(fakeDate, Object.create(Date.prototype) as object);
    expect(reason(fakeDate)).toMatch(/\(a subclass of Date\)/);
  });
});

describe('paths', () => {
  it('renders identifiers with dots, other keys quoted, indexes in brackets', () => {
    expect(renderPath('r', ['a', 'b_$1', '$', '_x', 'A'])).toBe('r.a.b_$1.$._x.A');
    expect(renderPath('r', ['1a', 'a-b', '', 'a b', 'é'])).toBe('r["1a"]["a-b"][""]["a b"]["é"]');
    expect(renderPath('r', [0, 12, { raw: '<Set item 1>' }])).toBe('r[0][12]<Set item 1>');
  });

  it('shortens paths longer than 24 segments to their first and last 12', () => {
    const keys = (n: number): string[] => Array.from({ length: n }, (_, i) => `k${i}`);
    expect(renderPath('r', keys(24))).toBe(`r.${keys(24).join('.')}`);
    const long = keys(30);
    expect(renderPath('r', long)).toBe(
      `r.${long.slice(0, 12).join('.')}…(6 more)….${long.slice(18).join('.')}`,
    );
  });
});

describe('binary data', () => {
  const kinds = Object.values(TYPED);

  it('copies exactly the bytes each kind of view covers, keeping its kind', () => {
    const buffer = new ArrayBuffer(64);
    new Uint8Array(buffer).forEach((_, i, a) => (a[i] = i));
    for (const Ctor of kinds) {
      const view = new Ctor(buffer, 8, 2);
      expect(binaryKind(view)).toBe(Ctor.name);
      expect(coversItsBuffer(view)).toBe(false);
      const copy = exactCopy(view) as typeof view;
      expect(copy).toBeInstanceOf(Ctor);
      expect(copy.buffer.byteLength).toBe(view.byteLength);
      expect([...new Uint8Array(copy.buffer)]).toEqual([...bytesOf(view)]);
      expect(coversItsBuffer(copy)).toBe(true);
      expect(binaryFromBytes(Ctor.name, copy.buffer as ArrayBuffer)).toBeInstanceOf(Ctor);
    }
    const dv = new DataView(buffer, 3, 5);
    expect(binaryKind(dv)).toBe('DataView');
    expect([...bytesOf(dv)]).toEqual([3, 4, 5, 6, 7]);
    const dvCopy = exactCopy(dv) as DataView;
    expect(dvCopy).toBeInstanceOf(DataView);
    expect(dvCopy.byteLength).toBe(5);
    expect(dvCopy.getUint8(0)).toBe(3);
    expect(binaryKind(buffer)).toBe('ArrayBuffer');
    expect([...bytesOf(buffer.slice(60))]).toEqual([60, 61, 62, 63]);
    const bufferCopy = exactCopy(buffer);
    expect(bufferCopy).toBeInstanceOf(ArrayBuffer);
    expect(bufferCopy).not.toBe(buffer);
    expect((bufferCopy as ArrayBuffer).byteLength).toBe(64);
    expect(binaryFromBytes('ArrayBuffer', buffer)).toBe(buffer);
    expect(binaryFromBytes('DataView', buffer)).toBeInstanceOf(DataView);
    expect(() => binaryFromBytes('Nope', buffer)).toThrow('async-load: unknown binary kind Nope');
    // What binaryFromBytes can make, as the Redis wire asks before it falls back to bytes.
    for (const Ctor of kinds) expect(knownBinaryKind(Ctor.name)).toBe(true);
    for (const kind of ['DataView', 'ArrayBuffer']) expect(knownBinaryKind(kind)).toBe(true);
    for (const kind of ['Nope', 'SharedArrayBuffer', 'Buffer', '']) expect(knownBinaryKind(kind)).toBe(false);
  });

  it('a view that starts at 0 but ends early, or ends at the end but starts late, is partial', () => {
    const buffer = new ArrayBuffer(8);
    expect(coversItsBuffer(new Uint8Array(buffer))).toBe(true);
    expect(coversItsBuffer(new Uint8Array(buffer, 0, 7))).toBe(false);
    expect(coversItsBuffer(new Uint8Array(buffer, 1))).toBe(false);
  });

  it('reads a view through the built-in accessors, not ones a caller defined on it', () => {
    const view = new Uint8Array([1, 2, 3, 4]).subarray(1, 3);
    Object.defineProperty(view, 'buffer', { value: new ArrayBuffer(0) });
    Object.defineProperty(view, 'byteOffset', { value: 0 });
    Object.defineProperty(view, 'byteLength', { value: 100 });
    Object.defineProperty(view, Symbol.toStringTag, { value: 'Float64Array' });
    expect([...bytesOf(view)]).toEqual([2, 3]);
    expect(binaryKind(view)).toBe('Uint8Array');
    const dv = new DataView(new ArrayBuffer(4), 1, 2);
    Object.defineProperty(dv, 'buffer', { value: new ArrayBuffer(0) });
    Object.defineProperty(dv, 'byteOffset', { value: 0 });
    Object.defineProperty(dv, 'byteLength', { value: 4 });
    expect(bytesOf(dv).byteOffset).toBe(1);
    expect(bytesOf(dv).byteLength).toBe(2);
    const ab = new ArrayBuffer(3);
    Object.defineProperty(ab, 'byteLength', { value: 0 });
    expect(bytesOf(ab).byteLength).toBe(3);
  });

  it('carries Float16Array where the runtime has it', () => {
    const Float16 = (
      globalThis as { Float16Array?: new (b: ArrayBuffer, o: number, n: number) => ArrayBufferView }
    ).Float16Array;
    if (!Float16) return;
    const view = new Float16(new ArrayBuffer(8), 2, 2);
    expect(exactCopy(view)).toBeInstanceOf(Float16);
  });
});

describe('encode and decode', () => {
  it('keeps holes, extra properties and shared references of arrays', () => {
    const shared = { s: 1 };
    const arr: unknown[] = [url(), , shared, shared]; // eslint-disable-line no-sparse-arrays
    Object.assign(arr, { extra: 'x' });
    const back = carry(arr) as unknown[] & { extra?: string };
    expect(back).toHaveLength(4);
    expect(1 in back).toBe(false);
    expect(back[0]).toBeInstanceOf(URL);
    expect(back[2]).toBe(back[3]);
    expect(back.extra).toBe('x');
  });

  it('keeps own __proto__ keys as data, in objects, arrays and errors', () => {
    const obj = JSON.parse('{"__proto__": {"polluted": 1}, "u": 0}') as Record<string, unknown>;
    obj.u = url();
    const back = carry(obj);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.hasOwn(back, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(back, '__proto__')).toEqual({
      value: { polluted: 1 },
      enumerable: true,
      writable: true,
      configurable: true,
    });
    expect(Object.keys(back)).toEqual(['__proto__', 'u']);
    const error = Object.defineProperty(new Error('e'), '__proto__', {
      value: { x: 1 },
      enumerable: true,
      writable: true,
      configurable: true,
    });
    const backError = carry(error);
    expect(Object.getOwnPropertyDescriptor(backError, '__proto__')?.value).toEqual({ x: 1 });
    expect(Object.getPrototypeOf(backError)).toBe(Error.prototype);
    expect(({} as { polluted?: number }).polluted).toBeUndefined();
  });

  it('carries objects without a prototype (structured clone gives them Object.prototype)', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { u: url(), n: 1 });
    const back = carry({ bare });
    expect(back.bare.n).toBe(1);
    expect(back.bare.u).toBeInstanceOf(URL);
    const plain = carry({ o: { u: url() } });
    expect(Object.getPrototypeOf(plain.o)).toBe(Object.prototype);
  });

  it('escapes objects that own the tag key wherever they are, and leaves others alone', () => {
    for (const tag of ['url', 'error', 'escape', 'other']) {
      const value = { '\u0000asyncLoad': tag, href: 'http://x/', error: { name: 'E' }, value: { v: 1 } };
      expect(carry(value)).toEqual(value);
      expect(carry([value])).toEqual([value]);
      expect(carry(new Map([[value, value]]))).toEqual(new Map([[value, value]]));
      const bare = Object.assign(Object.create(null) as object, value);
      expect(carry({ bare }).bare).toEqual(value);
    }
  });

  // Found by mutation testing: the inner reference pointed at the unescaped copy, which decode
  // then read as a tagged value (a URL, an error, or an escape without a value: a TypeError).
  it('keeps a cycle through an object that owns the tag key', () => {
    for (const tag of ['escape', 'url', 'error', 'other']) {
      const cyclic: Record<string, unknown> = { '\u0000asyncLoad': tag, href: 'http://x/', error: {} };
      cyclic.self = cyclic;
      const back = carry({ list: [cyclic], cyclic });
      expect(back.cyclic.self).toBe(back.cyclic);
      expect(back.list[0]).toBe(back.cyclic);
      expect(back.cyclic['\u0000asyncLoad']).toBe(tag);
    }
  });

  it('keeps cycles and shared parts through maps, sets, errors and URLs', () => {
    const u = url();
    const set = new Set<unknown>([u]);
    const map = new Map<unknown, unknown>([[u, set]]);
    set.add(map);
    const error = new Error('loop') as Error & { self?: unknown };
    error.self = error;
    const back = carry({ map, set, u, error, again: u });
    expect(back.map.get(back.u)).toBe(back.set);
    expect(back.set.has(back.map)).toBe(true);
    expect(back.set.has(back.u)).toBe(true);
    expect(back.again).toBe(back.u);
    expect(back.u.href).toBe('http://h.test/p');
    expect(back.error.self).toBe(back.error);
    // A cause that is its error.
    const selfCause = new Error('self') as Error & { cause?: unknown };
    selfCause.cause = selfCause;
    const backCause = carry(selfCause);
    expect(backCause.cause).toBe(backCause);
  });

  it('leaves dates, regexps, whole binaries and non-plain objects of the decoded side as they are', () => {
    const value = { u: url(), d: new Date(3), r: /a/y, b: new Uint8Array([1]), buf: new ArrayBuffer(2) };
    const back = carry(value);
    expect(back).toEqual(value);
    // decode() does not walk into an instance it received (nothing it encoded is one).
    class Holder {
      inner = { '\u0000asyncLoad': 'url', href: 'http://x/' };
    }
    const holder = new Holder();
    expect(decode({ holder }) as { holder: Holder }).toEqual({ holder });
    expect((decode({ holder }) as { holder: Holder }).holder.inner).not.toBeInstanceOf(URL);
  });

  it('rebuilds errors: class, message, stack, cause only when present, own properties, errors', () => {
    const plain = carry(new Error('m'));
    expect('cause' in plain).toBe(false);
    expect(plain.stack).toContain('Error: m');
    const undefinedCause = carry(new Error('m', { cause: undefined }));
    expect('cause' in undefinedCause).toBe(true);
    expect(undefinedCause.cause).toBeUndefined();
    const withCause = carry(new TypeError('t', { cause: { u: url() } }));
    expect(withCause).toBeInstanceOf(TypeError);
    expect((withCause.cause as { u: URL }).u).toBeInstanceOf(URL);
    for (const key of ['stack', 'cause']) {
      const d = Object.getOwnPropertyDescriptor(withCause, key)!;
      expect(d.enumerable).toBe(false);
      expect(d.writable).toBe(true);
      expect(d.configurable).toBe(true);
    }
    const aggregate = carry(new AggregateError([new RangeError('r'), 2], 'many'));
    expect(aggregate).toBeInstanceOf(AggregateError);
    expect(aggregate.message).toBe('many');
    expect(aggregate.errors).toHaveLength(2);
    expect(aggregate.errors[0]).toBeInstanceOf(RangeError);
    expect(aggregate.errors[1]).toBe(2);
    const d = Object.getOwnPropertyDescriptor(aggregate, 'errors')!;
    expect([d.enumerable, d.writable, d.configurable]).toEqual([false, true, true]);
    expect(Object.keys(aggregate)).toEqual([]);
    // Every built-in class comes back as itself.
    for (const Ctor of [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError]) {
      const back = carry(new Ctor('x'));
      expect(back).toBeInstanceOf(Ctor);
      expect(back.name).toBe(Ctor.name);
      expect(Object.hasOwn(back, 'name')).toBe(false);
    }
  });

  it('rebuilds an error from what can be read of it', () => {
    const odd = new Error('m');
    Object.defineProperty(odd, 'name', { value: 42 });
    Object.defineProperty(odd, 'message', { value: { not: 'text' } });
    Object.defineProperty(odd, 'stack', { value: undefined });
    const back = carry(odd);
    expect(back.name).toBe('Error');
    expect(back.message).toBe('');
    expect(back.stack).toBeUndefined();
    const throwing = new Error('m');
    Object.defineProperty(throwing, 'message', {
      get() {
        throw new Error('no');
      },
    });
    expect(carry(throwing).message).toBe('');
    const named = carry(Object.assign(new Error('m'), { name: 'CustomError' }));
    expect(named.name).toBe('CustomError');
    expect(named).toBeInstanceOf(Error);
    expect(Object.getOwnPropertyDescriptor(named, 'name')).toMatchObject({
      value: 'CustomError',
      enumerable: false,
      writable: true,
      configurable: true,
    });
  });

  it('keeps a user code beside a library code, and rebuilds only library codes as library errors', () => {
    const user = carry(Object.assign(new Error('m'), { code: 'E_USER' }));
    expect(user.code).toBe('E_USER');
    const unknownLibrary = carry(Object.assign(new RangeError('m'), { code: 'ERR_ASYNC_LOAD_FUTURE' }));
    expect(unknownLibrary).toBeInstanceOf(RangeError);
    expect(unknownLibrary.code).toBe('ERR_ASYNC_LOAD_FUTURE');
    const numeric = carry(Object.assign(new Error('m'), { code: 5 }));
    expect(numeric.code).toBe(5);
    const library = carry(new UnsendableValueError('result.x', 'a function'));
    expect(library).toBeInstanceOf(UnsendableValueError);
    expect(library.code).toBe('ERR_ASYNC_LOAD_UNSENDABLE_VALUE');
    expect(Object.hasOwn(library, 'code')).toBe(true);
    expect(library.path).toBe('result.x');
  });
});

describe('errorPropertyKeys and makeError', () => {
  it("lists an error's own properties other than those carried in their own slots", () => {
    const e = Object.assign(new Error('m', { cause: 1 }), { code: 'C', name: 'N', message: 'M', stack: 's' });
    expect(errorPropertyKeys(e)).toEqual(['code']);
    const a = Object.assign(new AggregateError([1]), { extra: 1 });
    Object.defineProperty(a, 'errors', { value: [1], enumerable: true });
    expect(errorPropertyKeys(a)).toEqual(['extra']);
    const notAggregate = Object.assign(new Error('m'), { errors: [1] });
    expect(errorPropertyKeys(notAggregate)).toEqual(['errors']);
  });

  it('makes built-in classes by name, and Errors named after anything else', () => {
    const agg = makeError('AggregateError', 'm') as AggregateError;
    expect(agg).toBeInstanceOf(AggregateError);
    expect(agg.errors).toEqual([]);
    expect(makeError('TypeError', 'm')).toBeInstanceOf(TypeError);
    const other = makeError('toString', 'm');
    expect(other.constructor).toBe(Error);
    expect(other.name).toBe('toString');
  });

  it('safeString falls back for non-strings and throwing reads', () => {
    expect(safeString(() => 'x', 'f')).toBe('x');
    expect(safeString(() => '', 'f')).toBe('');
    expect(safeString(() => 1, 'f')).toBe('f');
    expect(
      safeString(() => {
        throw new Error('no');
      }, 'f'),
    ).toBe('f');
  });
});

describe('encodeThrown', () => {
  const back = (thrown: unknown): unknown => {
    const c = encodeThrown(thrown);
    return c.encoded ? decode(structuredClone(c.value)) : structuredClone(c.value);
  };

  it('carries an unsendable thrown value as the reason it could not be carried', () => {
    const e = back(() => 1) as UnsendableValueError;
    expect(e).toBeInstanceOf(UnsendableValueError);
    expect(e.message).toMatch(/^error is a function/);
    const proxied = back(new Proxy(new Error('p'), {})) as UnsendableValueError;
    expect(proxied).toBeInstanceOf(UnsendableValueError);
    expect(proxied.message).toMatch(/^error is a Proxy/);
  });

  it('keeps class name, message and stack of an error with an unsendable part, noting why', () => {
    const e = Object.assign(new TypeError('with a callback'), { retry: () => 1 });
    const got = back(e) as Error & { droppedBecause: string };
    expect(got.name).toBe('TypeError');
    expect(got.message).toBe('with a callback');
    expect(got.stack).toBe(e.stack);
    expect(got.droppedBecause).toMatch(/^error\.retry is a function/);
    class Named extends Error {
      override name = 'Named';
    }
    const named = back(Object.assign(new Named('n'), { f: () => 1 })) as Error;
    expect(named.name).toBe('Named');
  });

  it('still replies when the error cannot even be read', () => {
    const e = Object.assign(new Error('m'), { f: () => 1 });
    Object.defineProperty(e, 'stack', {
      get() {
        throw new Error('stack unreadable');
      },
    });
    Object.defineProperty(e, 'name', { value: Symbol('n') });
    const got = back(e) as Error;
    expect(got.name).toBe('Error');
    expect(got.stack).toBeUndefined();
    const unreadable = Object.assign(new Error('m'), { f: () => 1 });
    Object.defineProperty(unreadable, 'message', {
      get() {
        throw new Error('no message');
      },
    });
    Object.setPrototypeOf(unreadable, new Proxy(Error.prototype, {}));
    const last = back(unreadable) as Error;
    expect(last).toBeInstanceOf(Error);
    expect(last.message).toMatch(/could not be read or carried|is an object whose prototype is a Proxy/);
  });
});

describe('round trip (property)', () => {
  it('gives back what structured clone would, for plain data with URLs and errors mixed in', () => {
    const leaf = fc.oneof(
      fc.anything({
        maxDepth: 2,
        maxKeys: 3,
        withBigInt: true,
        withDate: true,
        withMap: true,
        withSet: true,
        withTypedArray: true,
        withNullPrototype: false,
        withSparseArray: true,
      }),
      fc.webUrl().map((s) => new URL(s)),
      fc.string().map((m) => new RangeError(m)),
    );
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('node'), { maxLength: 3 }),
        fc.dictionary(fc.string(), tie('node'), { noNullPrototype: true, maxKeys: 3 }),
        fc.array(fc.tuple(tie('node'), tie('node')), { maxLength: 3 }).map((es) => new Map(es)),
        fc.array(tie('node'), { maxLength: 3 }).map((xs) => new Set(xs)),
      ),
    })).node;
    fc.assert(
      fc.property(tree, (value) => {
        const back = carry(value);
        expect(back).toStrictEqual(value);
      }),
      { numRuns: 200 },
    );
  });
});

describe('edges that mutation testing found untested', () => {
  const f = (): number => 1;

  it('counts an `errors` property of an error that is not an AggregateError as an own property', () => {
    const belowCause = MAX_DEPTH - ERROR_NESTING;
    // An own property sits one level deeper than an AggregateError's errors.
    expect(() => prepare(Object.assign(new Error('e'), { errors: nested(belowCause) }), 'r')).not.toThrow();
    expect(refusal(Object.assign(new Error('e'), { errors: nested(belowCause + 1) }))).toMatch(
      /^result\.errors/,
    );
    // ...and it comes back as an ordinary (enumerable) property, not as AggregateError's errors.
    const back = carry(Object.assign(new Error('m'), { errors: [1, url()] }));
    expect(Object.keys(back)).toEqual(['errors']);
    expect(back.errors[1]).toBeInstanceOf(URL);
  });

  it('passes a RangeError thrown by a getter on as it is (only a stack overflow means too deep)', () => {
    const value = {
      get x(): number {
        throw new RangeError('out of range');
      },
    };
    expect(() => prepare(value, 'result')).toThrow(new RangeError('out of range'));
    const overflow = {
      get x(): number {
        throw new RangeError('Maximum call stack size exceeded');
      },
    };
    expect(() => prepare(overflow, 'result')).toThrow(/^result is nested more than 1000 levels deep/);
  });

  it('says the hint of a value nested too deep', () => {
    expect(refusal(nested(MAX_DEPTH + 2))).toMatch(
      /\(an Error's parts count 2 levels more\).*Flatten it first\.$/,
    );
  });

  it('keeps own properties of a library error beside the fields its class sets', () => {
    const back = carry(Object.assign(new UnsendableValueError('result.x', 'a function'), { note: 'extra' }));
    expect(back).toBeInstanceOf(UnsendableValueError);
    expect(back.note).toBe('extra');
    expect(back.path).toBe('result.x');
  });

  it('carries an error with an unsendable part and an unreadable message with an empty message', () => {
    const e = Object.assign(new Error('m'), { retry: f });
    Object.defineProperty(e, 'message', {
      get() {
        throw new Error('no message');
      },
    });
    const c = encodeThrown(e);
    const back = decode(structuredClone(c.value)) as Error & { droppedBecause: string };
    expect(back.message).toBe('');
    expect(back.droppedBecause).toMatch(/^error\.retry is a function/);
  });

  it('says "it could not be read" when even the reason is unreadable', () => {
    const unreadable = {
      get message(): string {
        throw new Error('nope');
      },
    };
    const e = new Error('m');
    Object.defineProperty(e, 'p', {
      enumerable: true,
      get() {
        throw unreadable;
      },
    });
    const c = encodeThrown(e);
    const back = decode(structuredClone(c.value)) as Error & { droppedBecause: string };
    expect(back.message).toBe('m');
    expect(back.droppedBecause).toBe('it could not be read');
  });

  it('still replies for a thrown Proxy whose prototype cannot even be asked for', () => {
    const hostile = new Proxy(new Error('p'), {
      getPrototypeOf() {
        throw new Error('trap');
      },
    });
    const c = encodeThrown(hostile);
    const back = (c.encoded ? decode(structuredClone(c.value)) : structuredClone(c.value)) as Error;
    // Refused as the Proxy it is, before anything reads it (`instanceof` on it throws).
    expect(back).toBeInstanceOf(Error);
    expect(back).toMatchObject({
      code: 'ERR_ASYNC_LOAD_UNSENDABLE_VALUE',
      message:
        'error is a Proxy, which cannot be carried to or from a worker thread. Pass the plain data it wraps instead.',
    });
  });

  it('refuses a URL subclass, and names a class whose constructor lost its name as no class', () => {
    class MyUrl extends URL {}
    expect(() => classify(new MyUrl('http://x/'), () => 'v')).toThrow(/^v is an instance of MyUrl, /);
    const Anonymous = (() => class extends WeakMap {})();
    expect(Anonymous.name).toBe('');
    expect(() => classify(new Anonymous(), () => 'v')).toThrow(/^v is a value, /);
    class Nameless extends WeakMap {}
    delete (Nameless as { name?: string }).name;
    expect(() => classify(new Nameless(), () => 'v')).toThrow(/^v is a value, /);
  });
});
