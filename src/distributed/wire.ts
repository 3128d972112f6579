/**
 * Values on their way through Redis. The local codec (codec.ts) has already checked a value
 * and tagged what structured clone cannot carry (errors, URLs); what is left here is what
 * structured clone carries but JSON does not: undefined, NaN, -0, BigInt, Date, RegExp, Map,
 * Set, shared references and cycles, and binary data.
 *
 * - A value made only of what JSON carries exactly goes as JSON text (`j…`): superjson took
 *   35x longer than JSON.stringify on a 715 KB plain object, and most results are plain.
 * - Anything else goes through superjson (`s…`), except binary leaves: each becomes a small
 *   reference to a separate buffer that travels as raw bytes in its own Redis field. superjson
 *   turned an 8 MiB Float64Array into 20 MB of number text.
 *
 * A `Wire` owns one SuperJSON instance with the binary transformer registered; it is not
 * shared between loaders (house rule: no module-level mutable state).
 */

import { SuperJSON } from 'superjson';

/** A value packed for Redis: the outline as text, binary leaves as raw bytes in walk order. */
export interface Packed {
  text: string;
  binaries: Buffer[];
}

/** Typed array classes by name; Buffer arrives as Uint8Array, as through structured clone. */
const VIEWS: Record<string, new (buffer: ArrayBuffer, offset: number, length: number) => ArrayBufferView> = {
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
};

function viewType(value: ArrayBufferView): string {
  if (value instanceof DataView) return 'DataView';
  const tag = Object.prototype.toString.call(value).slice(8, -1);
  return Object.hasOwn(VIEWS, tag) ? tag : 'Uint8Array';
}

export class Wire {
  readonly #json = new SuperJSON();
  /**
   * Where the binary transformer puts (pack) or finds (unpack) the buffers of the call in
   * progress. Set and cleared around one synchronous superjson call, so calls never mix.
   */
  #sink: Buffer[] = [];
  #source: Buffer[] = [];

  constructor() {
    this.#json.registerCustom<ArrayBufferView | ArrayBuffer, { i: number; t: string }>(
      {
        isApplicable: (v): v is ArrayBufferView | ArrayBuffer =>
          ArrayBuffer.isView(v) || v instanceof ArrayBuffer,
        serialize: (v) => {
          const i = this.#sink.length;
          if (v instanceof ArrayBuffer) {
            this.#sink.push(Buffer.from(v));
            return { i, t: 'ArrayBuffer' };
          }
          this.#sink.push(Buffer.from(v.buffer, v.byteOffset, v.byteLength));
          return { i, t: viewType(v) };
        },
        deserialize: ({ i, t }) => materialise(this.#source[i], t),
      },
      'al-bin',
    );
  }

  pack(value: unknown): Packed {
    if (isPlainJson(value)) return { text: 'j' + JSON.stringify(value), binaries: [] };
    const binaries: Buffer[] = [];
    this.#sink = binaries;
    try {
      const { json, meta } = this.#json.serialize(value);
      return { text: 's' + JSON.stringify(meta === undefined ? { json } : { json, meta }), binaries };
    } finally {
      this.#sink = [];
    }
  }

  unpack(text: string, binaries: readonly Buffer[]): unknown {
    if (text.startsWith('j')) return JSON.parse(text.slice(1));
    if (!text.startsWith('s')) throw new Error('Not a packed value: unknown format');
    this.#source = binaries as Buffer[];
    try {
      return this.#json.deserialize(JSON.parse(text.slice(1)) as Parameters<SuperJSON['deserialize']>[0]);
    } finally {
      this.#source = [];
    }
  }
}

/** A fresh, exactly sized copy: the received Buffer may be a slice of a larger pooled one. */
function materialise(bytes: Buffer | undefined, type: string): ArrayBufferView | ArrayBuffer {
  if (!bytes) throw new Error('A binary part of the value is missing');
  const copy = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(bytes);
  if (type === 'ArrayBuffer') return copy;
  if (type === 'DataView') return new DataView(copy);
  const View = VIEWS[type] ?? Uint8Array;
  const per = (View as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  return new View(copy, 0, bytes.byteLength / per);
}

/** How deep the plain-JSON check looks before handing the value to superjson. */
const PLAIN_DEPTH = 200;

/**
 * Whether JSON.stringify + JSON.parse gives back an equal value: only null, booleans, strings,
 * finite numbers other than -0, dense arrays without extra properties and objects with the
 * plain prototype, as a tree (a shared or cyclic reference, which JSON would duplicate or
 * refuse, sends the value to superjson). Written for speed: it runs on every packed value,
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
