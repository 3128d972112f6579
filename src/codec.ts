/**
 * Carrying values between threads. Structured clone already carries almost everything
 * (undefined, NaN, -0, BigInt, Date, RegExp, Map, Set, cycles, typed arrays) and copies
 * binary data as memory, not text, so most values are posted as they are. Only the few it
 * cannot carry faithfully are rewritten into tagged plain objects: URL (cloned as `{}`) and
 * Error (own properties such as `code` are dropped). Values that cannot be carried at all
 * are refused with the path to them.
 *
 * Imported by worker threads: pure functions only.
 */

import { types } from 'node:util';
import { libraryErrorFromCode } from './errors.js';
import {
  binaryFromBytes,
  bytesOf,
  classify,
  copyBytes,
  coversItsBuffer,
  exactCopy,
  Kind,
  ERROR_NESTING,
  MAX_DEPTH,
  renderPath,
  tooDeep,
  type Segment,
} from './kinds.js';

/** Marks a tagged object. A user object that happens to own this key is escaped, not misread. */
const TAG = '\u0000asyncLoad';

type Tagged =
  | { [TAG]: 'url'; href: string }
  | { [TAG]: 'error'; error: EncodedError }
  | { [TAG]: 'escape'; value: Record<string, unknown> }
  | { [TAG]: 'shared'; kind: string; view: ArrayBufferView };

export interface EncodedError {
  name: string;
  message: string;
  stack: string | undefined;
  hasCause: boolean;
  cause: unknown;
  /** Own enumerable properties other than the standard ones (`code`, `errno`, ...). */
  props: Record<string, unknown>;
  /** `AggregateError#errors`. */
  errors?: unknown[];
}

/** A value prepared for posting: `encoded` tells the receiver whether to run `decode`. */
export interface Carried {
  value: unknown;
  encoded: boolean;
}

/**
 * Checks that `value` can be carried, and rewrites it only if it must be. Throws
 * UnsendableValueError naming the path (rooted at `root`, for example `result`).
 */
export function prepare(value: unknown, root: string, shared?: ReadonlyMap<object, string>): Carried {
  // Stryker disable next-line BlockStatement,LogicalOperator,ConditionalExpression: fast path for scalars: the general walk below classifies them the same way
  if (value === null || typeof value !== 'object') {
    // Fast path for the common scalar result; functions and symbols fall through to classify.
    // Stryker disable next-line ConditionalExpression: fast path: the general walk returns the same for a scalar
    if (typeof value !== 'function' && typeof value !== 'symbol') return { value, encoded: false };
  }
  try {
    if (!needsEncoding(value, root, shared)) return { value, encoded: false };
    // The shared copies are tagged up front: encode() finds them as already done.
    const memo = new Map<object, unknown>();
    if (shared) for (const [view, kind] of shared) memo.set(view, { [TAG]: 'shared', kind, view });
    return { value: encode(value, memo), encoded: true };
  } catch (error) {
    // A thread with a small stack (resourceLimits.stackSizeMb) may run out before MAX_DEPTH.
    if (error instanceof RangeError && /call stack/i.test(error.message)) throw tooDeep(root);
    throw error;
  }
}

/** Walks `value` once: throws on what cannot be carried; tells whether any part needs rewriting. */
export function needsEncoding(value: unknown, root: string, shared?: ReadonlyMap<object, string>): boolean {
  const segments: Segment[] = [];
  const pathOf = (): string => renderPath(root, segments);
  const seen = new Set<object>();
  let found = false;

  const walk = (v: unknown, depth: number): void => {
    // The loader's own copies in shared memory (rebuild-args.ts): tagged, so the thread copies them out.
    if (shared?.has(v as object)) {
      found = true;
      return;
    }
    const kind = classify(v, pathOf);
    if (kind === Kind.Primitive) return;
    const obj = v as object;
    if (seen.has(obj)) return;
    seen.add(obj);
    if (depth > MAX_DEPTH) throw tooDeep(pathOf());
    switch (kind) {
      case Kind.Url:
      case Kind.Error:
        found = true;
        // Errors' own properties can still hold unsendable values: check them too.
        // Stryker disable next-line ConditionalExpression: always true in this case; kept for the type narrowing's reader
        if (kind === Kind.Error) walkErrorParts(obj as Error, depth);
        return;
      case Kind.PlainObject:
        if (Object.hasOwn(obj, TAG)) found = true;
        for (const k of Object.keys(obj)) {
          segments.push(k);
          walk((obj as Record<string, unknown>)[k], depth + 1);
          segments.pop();
        }
        return;
      case Kind.Array: {
        // Own keys, not 0..length: holes stay holes and non-index properties are carried too.
        for (const k of Object.keys(obj)) {
          const index = Number(k);
          segments.push(Number.isInteger(index) && index >= 0 && String(index) === k ? index : k);
          walk((obj as Record<string, unknown>)[k], depth + 1);
          segments.pop();
        }
        return;
      }
      case Kind.Binary:
        // Posting a view sends its whole backing buffer: send a copy of just its bytes instead.
        if (!coversItsBuffer(obj as ArrayBufferView)) found = true;
        return;
      case Kind.Map:
        for (const [k, val] of obj as Map<unknown, unknown>) {
          segments.push({ raw: '<Map key>' });
          walk(k, depth + 1);
          segments.pop();
          segments.push({ raw: `.get(${describeKey(k)})` });
          walk(val, depth + 1);
          segments.pop();
        }
        return;
      case Kind.Set: {
        let i = 0;
        for (const item of obj as Set<unknown>) {
          segments.push({ raw: `<Set item ${i++}>` });
          walk(item, depth + 1);
          segments.pop();
        }
        return;
      }
    }
  };
  const walkErrorParts = (error: Error, depth: number): void => {
    const below = depth + ERROR_NESTING;
    if (error instanceof AggregateError && Array.isArray(error.errors)) {
      segments.push('errors');
      walk(error.errors, below);
      segments.pop();
    }
    for (const k of errorPropertyKeys(error)) {
      segments.push(k);
      walk((error as unknown as Record<string, unknown>)[k], below + 1);
      segments.pop();
    }
    // Stryker disable next-line ConditionalExpression: walking an absent cause walks undefined, which is always sendable
    if ('cause' in error) {
      segments.push('cause');
      walk(error.cause, below);
      segments.pop();
    }
  };
  walk(value, 0);
  return found;
}

function describeKey(k: unknown): string {
  return typeof k === 'string'
    ? JSON.stringify(k)
    : typeof k === 'object' && k !== null
      ? '<object>'
      : String(k);
}

const STANDARD_ERROR_KEYS = new Set(['name', 'message', 'stack', 'cause']);

/**
 * An error's own enumerable properties other than those carried in their own slots (name,
 * message, stack, cause, and an AggregateError's errors): the key walk and the codec both use
 * this, so each such property is read, and carried, once.
 */
export function errorPropertyKeys(error: Error): string[] {
  const aggregate = error instanceof AggregateError;
  return Object.keys(error).filter((k) => !STANDARD_ERROR_KEYS.has(k) && !(aggregate && k === 'errors'));
}

/** Builds the tagged copy. Only called after needsEncoding() accepted the value. */
function encode(v: unknown, memo: Map<object, unknown>): unknown {
  // Stryker disable next-line LogicalOperator,ConditionalExpression: fast path: classify() calls null a primitive and the switch returns it unchanged
  if (v === null || typeof v !== 'object') return v;
  const done = memo.get(v);
  if (done !== undefined) return done;
  // Stryker disable next-line ArrowFunction,StringLiteral: the path is read only when classify() throws, and encode() sees only values needsEncoding() accepted
  const kind = classify(v, () => '');
  switch (kind) {
    case Kind.Url: {
      const out = { [TAG]: 'url', href: (v as URL).href };
      memo.set(v, out);
      return out;
    }
    case Kind.Error:
      return encodeErrorInto(v as Error, memo);
    case Kind.PlainObject: {
      // Stryker disable next-line ConditionalExpression,EqualityOperator: structured clone delivers every plain object with Object.prototype, so the receiver never sees this prototype
      const out: Record<string, unknown> = Object.getPrototypeOf(v) === null ? Object.create(null) : {};
      // Escaped before its fields are walked, so a reference back to it (a cycle) gets the escape too.
      const node = Object.hasOwn(v, TAG) ? { [TAG]: 'escape', value: out } : out;
      memo.set(v, node);
      for (const k of Object.keys(v)) setOwn(out, k, encode((v as Record<string, unknown>)[k], memo));
      return node;
    }
    case Kind.Array: {
      const arr = v as unknown[];
      const out: unknown[] = new Array(arr.length);
      memo.set(v, out);
      // Own keys: holes stay holes, non-index properties come along.
      for (const k of Object.keys(arr))
        setOwn(out, k, encode((arr as unknown as Record<string, unknown>)[k], memo));
      return out;
    }
    case Kind.Binary:
      return coversItsBuffer(v as ArrayBufferView) ? v : exactCopy(v as ArrayBufferView);
    case Kind.Map: {
      const out = new Map();
      memo.set(v, out);
      for (const [k, val] of v as Map<unknown, unknown>) out.set(encode(k, memo), encode(val, memo));
      return out;
    }
    case Kind.Set: {
      const out = new Set();
      memo.set(v, out);
      for (const item of v as Set<unknown>) out.add(encode(item, memo));
      return out;
    }
    default:
      // Date, RegExp, binary: structured clone carries these as they are.
      return v;
  }
}

/** Sets an own data property; plain assignment of `__proto__` would call the prototype setter instead. */
function setOwn(obj: object, key: string, value: unknown): void {
  // Stryker disable next-line ConditionalExpression: defining every key as an own data property has the same effect as assigning it
  if (key === '__proto__')
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else (obj as Record<string, unknown>)[key] = value;
}

function encodeErrorInto(error: Error, memo: Map<object, unknown>): Tagged {
  const encoded: EncodedError = {
    name: safeString(() => error.name, 'Error'),
    message: safeString(() => error.message, ''),
    stack: safeString(() => error.stack, '') || undefined,
    hasCause: 'cause' in error,
    cause: undefined,
    props: {},
  };
  const out: Tagged = { [TAG]: 'error', error: encoded };
  memo.set(error, out);
  // Stryker disable next-line ConditionalExpression: without a cause, `cause` is encoded as undefined and the decoder reads only `hasCause`
  if (encoded.hasCause) encoded.cause = encode(error.cause, memo);
  for (const k of errorPropertyKeys(error)) {
    setOwn(encoded.props, k, encode((error as unknown as Record<string, unknown>)[k], memo));
  }
  if (error instanceof AggregateError && Array.isArray(error.errors)) {
    encoded.errors = error.errors.map((e) => encode(e, memo));
  }
  return out;
}

/** Reads a string property; anything else (or a throwing getter) gives the fallback. */
export function safeString(read: () => unknown, fallback: string): string {
  try {
    const v = read();
    return typeof v === 'string' ? v : fallback;
  } catch {
    return fallback;
  }
}

/**
 * Turns a thrown value into something that can be posted, whatever it is: an Error keeps its
 * class name, message, stack, cause and own properties; any other value is carried as it was
 * thrown; parts that cannot be carried are replaced by a description rather than lost.
 */
export function encodeThrown(thrown: unknown): Carried {
  try {
    return prepare(thrown, 'error');
  } catch (problem) {
    const why = safeString(() => (problem as Error).message, 'it could not be read');
    try {
      // A Proxy first: `instanceof` on a revoked one throws.
      // Stryker disable next-line StringLiteral: root of a path prepare() never builds: the problem is an error it already carried
      if (types.isProxy(thrown) || !(thrown instanceof Error)) return prepare(problem, 'error');
      // The error itself is fine but one of its own properties is not: keep the error, drop that part.
      const copy = new Error(safeString(() => thrown.message, ''));
      copy.name = safeString(() => thrown.name, 'Error');
      copy.stack = safeString(() => thrown.stack, '');
      (copy as Error & { droppedBecause?: string }).droppedBecause = why;
      // Stryker disable next-line StringLiteral: root of a path prepare() never builds: the copy holds strings only
      return prepare(copy, 'error');
    } catch {
      // Reading it threw too (getters, a Proxy): say so rather than fail to reply at all.
      return prepare(
        new Error(`The function threw a value that could not be read or carried: ${why}`),
        // Stryker disable next-line StringLiteral: root of a path prepare() never builds: a new Error holds strings only
        'error',
      );
    }
  }
}

const BUILTIN_ERRORS: Record<string, ErrorConstructor | AggregateErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
  AggregateError,
};

/**
 * An error of the built-in class `name` names (a user-defined class cannot be rebuilt on
 * another thread: it becomes an Error that keeps the name, so it still reads right).
 */
export function makeError(name: string, message: string): Error {
  const Ctor = Object.hasOwn(BUILTIN_ERRORS, name) ? BUILTIN_ERRORS[name] : Error;
  const error =
    Ctor === AggregateError ? new AggregateError([], message) : new (Ctor as ErrorConstructor)(message);
  if (error.name !== name)
    Object.defineProperty(error, 'name', {
      value: name,
      configurable: true,
      writable: true,
      enumerable: false,
    });
  return error;
}

/** Reverses `encode` in place on the received copy (which structured clone already made). */
export function decode(value: unknown): unknown {
  return decodeNode(value, new Map());
}

function decodeNode(v: unknown, memo: Map<object, unknown>): unknown {
  if (v === null || typeof v !== 'object') return v;
  const done = memo.get(v);
  if (done !== undefined) return done;
  if (Array.isArray(v)) {
    memo.set(v, v);
    // Own keys: assigning to a hole would fill it.
    for (const k of Object.keys(v)) {
      const rec = v as unknown as Record<string, unknown>;
      rec[k] = decodeNode(rec[k], memo);
    }
    return v;
  }
  if (v instanceof Map) {
    const entries = [...(v as Map<unknown, unknown>)];
    memo.set(v, v);
    v.clear();
    for (const [k, val] of entries) v.set(decodeNode(k, memo), decodeNode(val, memo));
    return v;
  }
  if (v instanceof Set) {
    const items = [...(v as Set<unknown>)];
    memo.set(v, v);
    v.clear();
    for (const item of items) v.add(decodeNode(item, memo));
    return v;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  // Stryker disable next-line ConditionalExpression: structured clone delivers every plain object with Object.prototype, so the receiver never sees a null prototype
  if (proto !== Object.prototype && proto !== null) return v;
  const rec = v as Record<string, unknown>;
  if (Object.hasOwn(rec, TAG)) {
    const tagged = rec as unknown as Tagged;
    switch (tagged[TAG]) {
      case 'url': {
        const url = new URL(tagged.href);
        memo.set(v, url);
        return url;
      }
      case 'error':
        return decodeError(v, tagged.error, memo);
      case 'escape': {
        memo.set(v, tagged.value);
        return decodeFields(tagged.value, memo);
      }
      case 'shared': {
        // The run gets its own copy: it must not see (or change) the entry's shared memory.
        const copy = binaryFromBytes(tagged.kind, copyBytes(bytesOf(tagged.view)));
        memo.set(v, copy);
        return copy;
      }
    }
  }
  memo.set(v, v);
  return decodeFields(rec, memo);
}

function decodeFields(rec: Record<string, unknown>, memo: Map<object, unknown>): Record<string, unknown> {
  for (const k of Object.keys(rec)) rec[k] = decodeNode(rec[k], memo);
  return rec;
}

function decodeError(node: object, e: EncodedError, memo: Map<object, unknown>): Error {
  // Stryker disable next-line StringLiteral: any text that is no library code makes libraryErrorFromCode() return undefined
  const code = typeof e.props.code === 'string' ? e.props.code : '';
  const error =
    // Stryker disable next-line StringLiteral: libraryErrorFromCode() returns undefined for every code it does not know
    (code.startsWith('ERR_ASYNC_LOAD_') ? libraryErrorFromCode(code, e.message, e.props) : undefined) ??
    makeError(e.name, e.message);
  memo.set(node, error);
  Object.defineProperty(error, 'stack', {
    value: e.stack,
    configurable: true,
    writable: true,
    enumerable: false,
  });
  if (e.hasCause) {
    Object.defineProperty(error, 'cause', {
      value: decodeNode(e.cause, memo),
      configurable: true,
      writable: true,
      enumerable: false,
    });
  }
  for (const k of Object.keys(e.props)) {
    // Stryker disable next-line StringLiteral,MethodExpression,ConditionalExpression: without the skip the reply's code is written again over the same code the constructor set
    if (k === 'code' && error instanceof Error && 'code' in error && code.startsWith('ERR_ASYNC_LOAD_'))
      continue;
    setOwn(error, k, decodeNode(e.props[k], memo));
  }
  if (e.errors) {
    Object.defineProperty(error, 'errors', {
      value: e.errors.map((x) => decodeNode(x, memo)),
      configurable: true,
      writable: true,
      enumerable: false,
    });
  }
  return error;
}
