/**
 * What kind of value something is, as far as carrying it between threads goes. The key
 * derivation (main thread) and the transport codec (both threads) walk values with this one
 * classification, so they always agree on what can be carried.
 *
 * Imported by worker threads: pure functions only.
 */

import { types } from 'node:util';
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

/**
 * Deeper than this, a value is refused. Structured clone itself fails past about 1,900 levels of
 * plain objects on the main thread and 1,600 on a thread with a 1 MiB stack (measured on Node
 * 20), and a value it cannot clone is never delivered: its run would wait forever. 1,000 leaves
 * room for the codec's own nesting (ERROR_NESTING) and the walkers' stacks.
 */
export const MAX_DEPTH = 1_000;

/**
 * Levels an Error adds in the codec's form (the tagged object, then the encoded error): its
 * `cause` and `errors` sit two levels below it, its own properties three. Every walker counts
 * an error's parts this deep, so the limit holds for what is actually posted.
 */
export const ERROR_NESTING = 2;

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
  // Before anything else reads it: every read of a Proxy runs its traps (user code), and
  // structured clone refuses Proxies outright.
  if (types.isProxy(value)) {
    throw new UnsendableValueError(path(), 'a Proxy', 'Pass the plain data it wraps instead.');
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === objectProto || proto === null) return Kind.PlainObject;
  // Brand checks and exact prototypes below, never `instanceof`: that walks the prototype
  // chain, whose Proxies would run user code, and a subclass instance is a class instance.
  if (types.isProxy(proto)) {
    throw new UnsendableValueError(
      path(),
      'an object whose prototype is a Proxy',
      'Pass plain data instead.',
    );
  }
  if (Array.isArray(value)) {
    if (proto === Array.prototype) return Kind.Array;
    throw classInstance(path(), proto, 'Array');
  }
  if (ArrayBuffer.isView(value)) {
    const buffer = bufferOf(value);
    if (types.isSharedArrayBuffer(buffer)) {
      throw new UnsendableValueError(
        path(),
        'a view over a SharedArrayBuffer',
        "Shared memory would let the run change the caller's data and the cache key under it; pass a copy.",
      );
    }
    if (isDetached(buffer)) throw detached(path());
    return Kind.Binary;
  }
  if (types.isArrayBuffer(value)) {
    if (isDetached(value)) throw detached(path());
    return Kind.ArrayBuffer;
  }
  if (types.isDate(value)) return exact(Kind.Date, proto, Date.prototype, 'Date', path);
  if (types.isMap(value)) return exact(Kind.Map, proto, Map.prototype, 'Map', path);
  if (types.isSet(value)) return exact(Kind.Set, proto, Set.prototype, 'Set', path);
  if (types.isRegExp(value)) return exact(Kind.RegExp, proto, RegExp.prototype, 'RegExp', path);
  // Error subclasses are carried: an error keeps its name (and its class, for built-ins).
  if (types.isNativeError(value)) return Kind.Error;
  if (proto === URL.prototype && isUrl(value as object)) return Kind.Url;
  if (types.isSharedArrayBuffer(value)) {
    throw new UnsendableValueError(
      path(),
      'a SharedArrayBuffer',
      'Shared memory would let the run change the cache key under it; pass a copy.',
    );
  }
  if (
    types.isWeakMap(value) ||
    types.isWeakSet(value) ||
    types.isPromise(value) ||
    proto === WeakRef.prototype
  ) {
    throw new UnsendableValueError(
      path(),
      `a ${constructorName(proto) ?? 'value'}`,
      'It holds references that only exist on this thread.',
    );
  }
  throw classInstance(path(), proto, undefined);
}

/** The name of the class whose prototype `proto` is, read without running a getter. */
function constructorName(proto: unknown): string | undefined {
  // Stryker disable next-line LogicalOperator,ConditionalExpression: callers pass the prototype of a non-plain object, which is always an object
  if (typeof proto !== 'object' || proto === null) return undefined;
  const ctor: unknown = Object.getOwnPropertyDescriptor(proto, 'constructor')?.value;
  const name: unknown =
    typeof ctor === 'function' ? Object.getOwnPropertyDescriptor(ctor, 'name')?.value : undefined;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

function classInstance(path: string, proto: unknown, builtin: string | undefined): UnsendableValueError {
  const name = constructorName(proto);
  const what = name ? `an instance of ${name}` : 'an object with a custom prototype';
  return new UnsendableValueError(
    path,
    builtin ? `${what} (a subclass of ${builtin})` : what,
    'Only plain objects, arrays and built-in types (Date, RegExp, Map, Set, URL, Error, typed arrays) are carried; ' +
      'convert it to a plain object first.',
  );
}

/** A built-in of exactly its own class: a subclass instance, or a copy of a prototype, is refused. */
function exact(kind: Kind, proto: unknown, expected: object, builtin: string, path: () => string): Kind {
  if (proto === expected) return kind;
  throw classInstance(path(), proto, builtin);
}

// eslint-disable-next-line @typescript-eslint/unbound-method -- a getter, always invoked with .call
const urlHrefGetter = Object.getOwnPropertyDescriptor(URL.prototype, 'href')!.get!;

/** A real URL, not an object made from URL.prototype (whose getters throw). */
function isUrl(value: object): boolean {
  try {
    urlHrefGetter.call(value);
    return true;
    // Stryker disable next-line BlockStatement: an empty catch block returns undefined, which the caller reads as false
  } catch {
    return false;
  }
}

// Stryker disable next-line OptionalChaining,StringLiteral: Node 20 has no ArrayBuffer.prototype.detached, so the mutated lookup finds nothing either
// eslint-disable-next-line @typescript-eslint/unbound-method -- a getter, always invoked with .call
const detachedGetter = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'detached')?.get;

/** Whether a buffer was transferred away (structured clone refuses it; reading it throws). */
function isDetached(buffer: ArrayBufferLike): boolean {
  // Stryker disable next-line BooleanLiteral,ConditionalExpression: unreachable: classify() refuses shared memory before it asks whether a buffer is detached
  if (types.isSharedArrayBuffer(buffer)) return false;
  // Stryker disable next-line BooleanLiteral,EqualityOperator,ConditionalExpression: Node 20 has no ArrayBuffer.prototype.detached (the fallback below decides there); Node 22+ runs this line
  if (detachedGetter) return detachedGetter.call(buffer) === true;
  try {
    new Uint8Array(buffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}

function detached(path: string): UnsendableValueError {
  return new UnsendableValueError(
    path,
    'a detached ArrayBuffer (or a view over one)',
    'It was transferred away; pass data that still exists.',
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
  // A path hundreds of levels deep (a long cause chain) says no more written out in full.
  const long = segments.length > 24;
  for (let i = 0; i < segments.length; i++) {
    if (long && i === 12) {
      out += `…(${segments.length - 24} more)…`;
      i = segments.length - 12;
    }
    const s = segments[i]!;
    // Stryker disable next-line ConditionalExpression,StringLiteral: the last branch writes a number segment as `[n]` too (JSON.stringify of a number)
    if (typeof s === 'number') out += `[${s}]`;
    else if (typeof s === 'object') out += s.raw;
    else out += IDENTIFIER.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`;
  }
  return out;
}

/** Thrown through the walkers to name how deep a value went; the walkers rewrap it with the path. */
export function tooDeep(path: string): UnsendableValueError {
  return new UnsendableValueError(
    path,
    `nested more than ${MAX_DEPTH} levels deep (an Error's parts count ${ERROR_NESTING} levels more)`,
    'Flatten it first.',
  );
}

/*
 * Built-in accessors captured when this module loads, so reading a value's internals never runs
 * an own property or getter a caller defined on the instance (structured clone reads the
 * internal slots too, so these are what the other thread will see).
 */
const typedArrayProto = Object.getPrototypeOf(Uint8Array.prototype) as object;
const getter = (proto: object, name: string): ((this: unknown) => unknown) =>
  // eslint-disable-next-line @typescript-eslint/unbound-method -- a getter, always invoked with .call
  Object.getOwnPropertyDescriptor(proto, name)!.get! as (this: unknown) => unknown;
const typedBuffer = getter(typedArrayProto, 'buffer');
const typedOffset = getter(typedArrayProto, 'byteOffset');
const typedLength = getter(typedArrayProto, 'byteLength');
const typedTag = getter(typedArrayProto, Symbol.toStringTag as unknown as string);
const viewBuffer = getter(DataView.prototype, 'buffer');
const viewOffset = getter(DataView.prototype, 'byteOffset');
const viewLength = getter(DataView.prototype, 'byteLength');
const arrayBufferLength = getter(ArrayBuffer.prototype, 'byteLength');
// eslint-disable-next-line @typescript-eslint/unbound-method -- always invoked with .call on a buffer
const arrayBufferSlice = ArrayBuffer.prototype.slice;

/** The binary kind as the other thread sees it: a Node Buffer arrives as a Uint8Array. */
export function binaryKind(data: ArrayBufferView | ArrayBuffer): string {
  if (!ArrayBuffer.isView(data)) return 'ArrayBuffer';
  return types.isDataView(data) ? 'DataView' : (typedTag.call(data) as string);
}

function bufferOf(view: ArrayBufferView): ArrayBufferLike {
  return (types.isDataView(view) ? viewBuffer.call(view) : typedBuffer.call(view)) as ArrayBufferLike;
}

/** The bytes a typed array, DataView or ArrayBuffer covers, read through the built-in accessors. */
export function bytesOf(data: ArrayBufferView | ArrayBuffer): Uint8Array {
  if (!ArrayBuffer.isView(data)) return new Uint8Array(data, 0, arrayBufferLength.call(data) as number);
  const dv = types.isDataView(data);
  return new Uint8Array(
    bufferOf(data),
    (dv ? viewOffset : typedOffset).call(data) as number,
    (dv ? viewLength : typedLength).call(data) as number,
  );
}

/** True when the view covers all of its buffer: posting it sends nothing more than its bytes. */
export function coversItsBuffer(view: ArrayBufferView): boolean {
  const bytes = bytesOf(view);
  return bytes.byteOffset === 0 && bytes.byteLength === (arrayBufferLength.call(bytes.buffer) as number);
}

const BINARY_CONSTRUCTORS: Record<string, new (buffer: ArrayBuffer) => ArrayBufferView> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
};
const float16 = (globalThis as { Float16Array?: new (buffer: ArrayBuffer) => ArrayBufferView }).Float16Array;
// Stryker disable next-line ConditionalExpression: Node 20 has no Float16Array; Node 22+ runs this line
if (float16) BINARY_CONSTRUCTORS.Float16Array = float16;

/**
 * A copy holding exactly the bytes `data` covers, of the kind the other thread would see:
 * posting a view sends its whole backing buffer (for a small Buffer, Node's shared pool with
 * other data of the process in it), so only such exact copies are ever posted.
 */
export function exactCopy(data: ArrayBufferView | ArrayBuffer): ArrayBufferView | ArrayBuffer {
  const bytes = bytesOf(data);
  const copy: ArrayBuffer = arrayBufferSlice.call(
    bytes.buffer,
    bytes.byteOffset,
    bytes.byteOffset + bytes.byteLength,
  );
  const kind = binaryKind(data);
  if (kind === 'ArrayBuffer') return copy;
  const Ctor = BINARY_CONSTRUCTORS[kind];
  // Stryker disable next-line StringLiteral,ConditionalExpression: unreachable: every kind binaryKind() returns has a constructor in the table
  if (!Ctor) throw new UnsendableValueError('value', `a ${kind}`, 'This binary kind is not supported.');
  return new Ctor(copy);
}

// Taken when the module loads (on a thread, before any user code): a function that replaced
// `set` could otherwise reach the shared memory a big argument is copied out of.
const NativeUint8Array = Uint8Array;
const NativeArrayBuffer = ArrayBuffer;
const applyNative = Reflect.apply;

const typedSet = (Object.getPrototypeOf(Uint8Array.prototype) as { set: (source: ArrayLike<number>) => void })
  .set;

/** The bytes, copied into a new ArrayBuffer of their size (never shared, whatever the source). */
export function copyBytes(bytes: Uint8Array): ArrayBuffer {
  const out = new NativeArrayBuffer(bytes.byteLength);
  applyNative(typedSet, new NativeUint8Array(out), [bytes]);
  return out;
}

/** Whether binaryFromBytes() can make this kind here (Float16Array only where Node has it). */
export function knownBinaryKind(kind: string): boolean {
  return kind === 'ArrayBuffer' || Object.hasOwn(BINARY_CONSTRUCTORS, kind);
}

/** Makes an exact copy of a binary kind by name from raw bytes (used when rebuilding arguments). */
export function binaryFromBytes(kind: string, bytes: ArrayBuffer): ArrayBufferView | ArrayBuffer {
  if (kind === 'ArrayBuffer') return bytes;
  const Ctor = BINARY_CONSTRUCTORS[kind];
  if (!Ctor) throw new Error(`async-load: unknown binary kind ${kind}`);
  return new Ctor(bytes);
}
