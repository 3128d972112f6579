/**
 * Values on their way through Redis. The local codec (codec.ts) has already checked a value
 * and tagged what structured clone cannot carry (errors, URLs); what is left here is what
 * structured clone carries but JSON does not: undefined, NaN, ±Infinity, -0, BigInt, Date,
 * RegExp, Map, Set, holes and extra properties of arrays, shared references and cycles, and
 * binary data. Decoding gives what structured clone would have given.
 *
 * - A value made only of what JSON carries exactly goes as JSON text (`j…`): most results
 *   are plain, and JSON.stringify is the fastest encoder there is for them.
 * - Anything else goes as JSON text of a tagged outline (`t…`, see Outline below), except
 *   binary leaves: each is a reference to a separate buffer that travels as raw bytes in its
 *   own Redis field (as JSON numbers, an 8 MiB Float64Array was 20 MB of text).
 *
 * Not superjson, which the issue suggested: its shared-reference restore corrupts Maps whose
 * keys are Maps holding a shared value (`new Map([[new Map([[r, 0], [2, r]]), { x: r }]])`
 * came back with two keys `r`; found by the round-trip property test in wire.test.ts).
 *
 * A `Wire` holds no state; it is a class so that callers hold one per executor or worker, like
 * the rest of the library's machinery, should it ever need some.
 */

import { binaryFromBytes, binaryKind, copyBytes, knownBinaryKind } from '../kinds.js';

/** A value packed for Redis: the outline as text, binary leaves as raw bytes in walk order. */
export interface Packed {
  text: string;
  binaries: Buffer[];
}

/**
 * The tagged outline: a JSON string, boolean, null or finite number (not -0) stands for
 * itself; everything else is an array whose first element is its tag:
 *   ['u'] undefined;  ['n', 'NaN' | 'Infinity' | '-Infinity' | '-0'];  ['b', digits] BigInt;
 *   ['d', epoch ms | null] Date;  ['r', source, flags] RegExp;
 *   ['a', [items], k, v, …] array (a hole is ['h']; k, v: its non-index properties);
 *   ['o', k, v, …] object;  ['m', k, v, …] Map;  ['s', item, …] Set;
 *   ['x', index, type] binary leaf, in binaries[index];  ['@', id] an object reached before.
 * Objects are numbered in the order they are first reached, the same order in which the
 * decoder creates them, so a reference can name an object still being filled in (a cycle).
 */
type Outline = string | number | boolean | null | Outline[];

/** A view's kind by name; a Buffer is a Uint8Array, as through structured clone. */
function viewType(value: ArrayBufferView): string {
  const kind = binaryKind(value);
  return knownBinaryKind(kind) ? kind : 'Uint8Array';
}

export class Wire {
  pack(value: unknown): Packed {
    if (isPlainJson(value)) return { text: 'j' + JSON.stringify(value), binaries: [] };
    const binaries: Buffer[] = [];
    const outline = toOutline(value, new Map(), binaries);
    return { text: 't' + JSON.stringify(outline), binaries };
  }

  unpack(text: string, binaries: readonly Buffer[]): unknown {
    if (text.startsWith('j')) return JSON.parse(text.slice(1));
    if (!text.startsWith('t')) throw new Error('Not a packed value: unknown format');
    return fromOutline(JSON.parse(text.slice(1)) as Outline, [], binaries);
  }
}

function toOutline(v: unknown, ids: Map<object, number>, binaries: Buffer[]): Outline {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      if (Number.isFinite(v) && !Object.is(v, -0)) return v;
      return ['n', Object.is(v, -0) ? '-0' : String(v)];
    case 'bigint':
      return ['b', v.toString()];
    case 'undefined':
      return ['u'];
    case 'object':
      break;
    default:
      // The codec refuses functions and symbols before a value gets here.
      throw new TypeError(`Cannot pack a ${typeof v}`);
  }
  if (v === null) return null;
  const seen = ids.get(v);
  if (seen !== undefined) return ['@', seen];
  ids.set(v, ids.size);
  if (ArrayBuffer.isView(v)) {
    binaries.push(Buffer.from(v.buffer, v.byteOffset, v.byteLength));
    return ['x', binaries.length - 1, viewType(v)];
  }
  if (v instanceof ArrayBuffer) {
    binaries.push(Buffer.from(v));
    return ['x', binaries.length - 1, 'ArrayBuffer'];
  }
  if (Array.isArray(v)) {
    const items = new Array<Outline>(v.length);
    for (let i = 0; i < v.length; i++)
      items[i] = Object.hasOwn(v, i) ? toOutline(v[i], ids, binaries) : ['h'];
    const out: Outline[] = ['a', items];
    for (const k of Object.keys(v)) {
      if (!isIndex(k, v.length))
        out.push(k, toOutline((v as unknown as Record<string, unknown>)[k], ids, binaries));
    }
    return out;
  }
  if (v instanceof Date) {
    const t = v.getTime();
    return ['d', Number.isNaN(t) ? null : t];
  }
  if (v instanceof RegExp) return ['r', v.source, v.flags];
  if (v instanceof Map) {
    const out: Outline[] = ['m'];
    for (const [k, val] of v) out.push(toOutline(k, ids, binaries), toOutline(val, ids, binaries));
    return out;
  }
  if (v instanceof Set) {
    const out: Outline[] = ['s'];
    for (const item of v) out.push(toOutline(item, ids, binaries));
    return out;
  }
  const out: Outline[] = ['o'];
  for (const k of Object.keys(v)) out.push(k, toOutline((v as Record<string, unknown>)[k], ids, binaries));
  return out;
}

function isIndex(key: string, length: number): boolean {
  const n = Number(key);
  return Number.isInteger(n) && n >= 0 && n < length && String(n) === key;
}

/** `objects[id]`: every object made so far, in the encoder's numbering. */
function fromOutline(node: Outline, objects: unknown[], binaries: readonly Buffer[]): unknown {
  if (!Array.isArray(node)) return node;
  switch (node[0]) {
    case 'u':
      return undefined;
    case 'n':
      return node[1] === '-0' ? -0 : Number(node[1]);
    case 'b':
      return BigInt(node[1] as string);
    case '@':
      return objects[node[1] as number];
    case 'x':
      return made(objects, materialise(binaries[node[1] as number], node[2] as string));
    case 'd':
      return made(objects, new Date(node[1] === null ? NaN : (node[1] as number)));
    case 'r':
      return made(objects, new RegExp(node[1] as string, node[2] as string));
    case 'a': {
      const items = node[1] as Outline[];
      const out = made(objects, new Array<unknown>(items.length));
      for (let i = 0; i < items.length; i++) {
        const item = items[i]!;
        if (!(Array.isArray(item) && item[0] === 'h')) out[i] = fromOutline(item, objects, binaries);
      }
      for (let i = 2; i < node.length; i += 2)
        setOwn(out, node[i] as string, fromOutline(node[i + 1]!, objects, binaries));
      return out;
    }
    case 'm': {
      const out = made(objects, new Map<unknown, unknown>());
      for (let i = 1; i < node.length; i += 2) {
        const k = fromOutline(node[i]!, objects, binaries);
        out.set(k, fromOutline(node[i + 1]!, objects, binaries));
      }
      return out;
    }
    case 's': {
      const out = made(objects, new Set<unknown>());
      for (let i = 1; i < node.length; i++) out.add(fromOutline(node[i]!, objects, binaries));
      return out;
    }
    case 'o': {
      const out = made(objects, {});
      for (let i = 1; i < node.length; i += 2)
        setOwn(out, node[i] as string, fromOutline(node[i + 1]!, objects, binaries));
      return out;
    }
    default:
      throw new Error(`Not a packed value: unknown tag ${JSON.stringify(node[0])}`);
  }
}

/** Numbers a new object (before its contents, which may refer back to it). */
function made<T>(objects: unknown[], value: T): T {
  objects.push(value);
  return value;
}

/** An own data property; plain assignment of `__proto__` would call the prototype setter instead. */
function setOwn(obj: object, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else (obj as Record<string, unknown>)[key] = value;
}

/** A fresh, exactly sized copy: the received Buffer may be a slice of a larger pooled one. */
function materialise(bytes: Buffer | undefined, type: string): ArrayBufferView | ArrayBuffer {
  if (!bytes) throw new Error('A binary part of the value is missing');
  // A kind this Node lacks (Float16Array from a newer one) arrives as its bytes.
  return binaryFromBytes(knownBinaryKind(type) ? type : 'Uint8Array', copyBytes(bytes));
}

/** How deep the plain-JSON check looks before handing the value to the tagged outline. */
const PLAIN_DEPTH = 200;

/**
 * Whether JSON.stringify + JSON.parse gives back an equal value: only null, booleans, strings,
 * finite numbers other than -0, dense arrays without extra properties and objects with the
 * plain prototype, as a tree (a shared or cyclic reference, which JSON would duplicate or
 * refuse, sends the value to the tagged outline). Written for speed: it runs on every packed value,
 * and on a 0.5 MB object the first version took twice as long as JSON.stringify itself.
 */
function isPlainJson(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return isPlainLeaf(value);
  return plainNode(value, 0, new Set());
}

function isPlainLeaf(v: unknown): boolean {
  const t = typeof v;
  if (t === 'string' || t === 'boolean' || v === null) return true;
  return t === 'number' && Number.isFinite(v) && !Object.is(v, -0);
}

function plainNode(node: object, depth: number, seen: Set<object>): boolean {
  if (depth > PLAIN_DEPTH || seen.has(node)) return false;
  seen.add(node);
  if (Array.isArray(node)) {
    if (Object.getPrototypeOf(node) !== Array.prototype) return false;
    const n = node.length;
    for (let i = 0; i < n; i++) {
      // A hole reads as undefined: refused here like an undefined element.
      const v: unknown = node[i];
      if (typeof v === 'object' && v !== null) {
        if (!plainNode(v, depth + 1, seen)) return false;
      } else if (!isPlainLeaf(v)) return false;
    }
    // Extra (non-index) properties, which JSON would drop.
    return Object.keys(node).length === n;
  }
  if (Object.getPrototypeOf(node) !== Object.prototype) return false;
  const rec = node as Record<string, unknown>;
  for (const k in rec) {
    if (!Object.hasOwn(rec, k) || k === '__proto__') return false;
    const v = rec[k];
    if (typeof v === 'object' && v !== null) {
      if (!plainNode(v, depth + 1, seen)) return false;
    } else if (!isPlainLeaf(v)) return false;
  }
  return true;
}
