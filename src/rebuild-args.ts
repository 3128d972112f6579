/**
 * Rebuilds a call's arguments from its key text (see key.ts), so that a run receives exactly
 * the values its entry's identity was made from: the caller's objects are read once, by the
 * key walk, and never again. Runs only when a call creates an entry, never on a cache hit.
 *
 * Binary leaves come from the caller's views (the text holds only their hash) and are copied
 * here into buffers of exactly their size: posting a view would send its whole backing buffer.
 *
 * For a run (`share`), a typed array or DataView of SHARE_MIN bytes or more is copied into
 * shared memory instead: posting it then copies nothing, and the thread copies it out into a
 * buffer of its own before the run (codec.ts, tag 'shared'). A 64 MiB argument was copied
 * three times on its way to a run (here, then twice by structured clone), once more than raw
 * Piscina; now twice, once on each side, and its refreshes once, on the thread.
 */

import { makeError } from './codec.js';
import { binaryFromBytes, bytesOf, copyBytes } from './kinds.js';

/** Views at least this big go to a run in shared memory (see above); smaller ones are cloned. */
export const SHARE_MIN = 64 * 1024;

export interface RebuiltArgs {
  args: unknown[];
  /** Exact copies of the binary leaves, in walk order; the entry verifies later calls against them. */
  binaries: (ArrayBufferView | ArrayBuffer)[] | undefined;
  /** The copies in shared memory (only with `share`), with their kind: the codec tags them. */
  shared: Map<object, string> | undefined;
}

/** `from`: where the arguments start in `text` (just after the prefix). */
export function rebuildArgs(
  text: string,
  from: number,
  binaries: readonly (ArrayBufferView | ArrayBuffer)[] | undefined,
  share = false,
): RebuiltArgs {
  const head = text.charCodeAt(from);
  // The single-argument forms key.ts writes without a walker.
  if (head === 0x22 /* " */) return { args: [text.slice(from + 1)], binaries: undefined, shared: undefined };
  if (head === 0x23 /* # */)
    return { args: [Number(text.slice(from + 1))], binaries: undefined, shared: undefined };
  const reader = new Reader(text, from, binaries, share);
  const args: unknown[] = [];
  while (reader.at < text.length) args.push(reader.value());
  return { args, binaries: reader.copies, shared: reader.shared };
}

class Reader {
  at: number;
  copies: (ArrayBufferView | ArrayBuffer)[] | undefined;
  shared: Map<object, string> | undefined;
  readonly #share: boolean;
  readonly #text: string;
  readonly #binaries: readonly (ArrayBufferView | ArrayBuffer)[] | undefined;
  #nextBinary = 0;
  /** Objects being built, outermost first: `^i;` refers to the i-th. */
  readonly #open: object[] = [];

  constructor(
    text: string,
    at: number,
    binaries: readonly (ArrayBufferView | ArrayBuffer)[] | undefined,
    share: boolean,
  ) {
    this.#share = share;
    this.#text = text;
    this.at = at;
    this.#binaries = binaries;
  }

  /** Text up to (not including) the next `end`, consumed with it. */
  #until(end: string): string {
    const stop = this.#text.indexOf(end, this.at);
    if (stop === -1) throw new Error('async-load: malformed key text (internal error)');
    const part = this.#text.slice(this.at, stop);
    this.at = stop + 1;
    return part;
  }

  /** A `length:text` field. */
  #counted(): string {
    const length = Number(this.#until(':'));
    const part = this.#text.slice(this.at, this.at + length);
    this.at += length;
    return part;
  }

  #peek(): string {
    return this.#text[this.at]!;
  }

  value(): unknown {
    const tag = this.#text[this.at++];
    switch (tag) {
      case 's':
        return this.#counted();
      case 'n':
        return Number(this.#until(';'));
      case 'b':
        return BigInt(this.#until(';'));
      case 'T':
        return true;
      case 'F':
        return false;
      case 'U':
        return undefined;
      case 'N':
        return null;
      case '^':
        return this.#open[Number(this.#until(';'))];
      case 'D':
        return new Date(Number(this.#until(';')));
      case 'R': {
        const source = this.#counted();
        return new RegExp(source, this.#until(';'));
      }
      case 'L':
        return new URL(this.#counted());
      case 'A': {
        const kind = this.#counted();
        this.#until(';');
        return this.#binary(kind);
      }
      case 'P': {
        // A big array of numbers, packed (see key.ts): the numbers come from the binary leaf.
        this.#until(';');
        return Array.from(this.#binary('Float64Array') as Float64Array);
      }
      case '{':
        return this.#within({}, (obj) => this.#fields(obj));
      case '[':
        return this.#array();
      case 'E':
        return this.#error();
      case 'M':
      case 'S':
        return this.#collection(tag);
      default:
        throw new Error('async-load: malformed key text (internal error)');
    }
  }

  /** The next binary leaf, copied into a buffer of exactly its size. */
  #binary(kind: string): ArrayBufferView | ArrayBuffer {
    const original = this.#binaries![this.#nextBinary++]!;
    const bytes = bytesOf(original);
    let copy: ArrayBufferView | ArrayBuffer;
    if (this.#share && kind !== 'ArrayBuffer' && bytes.byteLength >= SHARE_MIN) {
      const memory = new SharedArrayBuffer(bytes.byteLength);
      new Uint8Array(memory).set(bytes);
      copy = binaryFromBytes(kind, memory as unknown as ArrayBuffer);
      (this.shared ??= new Map()).set(copy, kind);
    } else {
      // Not ArrayBuffer#slice: the source may be a shared copy, whose slice would be shared too.
      copy = binaryFromBytes(kind, copyBytes(bytes));
    }
    (this.copies ??= []).push(copy);
    return copy;
  }

  #within<T extends object>(obj: T, fill: (obj: T) => void): T {
    this.#open.push(obj);
    fill(obj);
    this.#open.pop();
    return obj;
  }

  /** Reads `k:v` pairs up to the closing `}` (the `{` already read). */
  #fields(obj: object): void {
    while (this.#peek() !== '}') {
      const key = this.#counted();
      define(obj, key, this.value(), true);
    }
    this.at++;
  }

  #array(): unknown[] {
    const length = Number(this.#until(';'));
    return this.#within(new Array<unknown>(length), (arr) => {
      let i = 0;
      while (i < length) {
        if (this.#peek() === 'H') {
          this.at++;
          i += Number(this.#until(';'));
        } else {
          arr[i++] = this.value();
        }
      }
      if (this.#peek() === '{') {
        this.at++;
        this.#fields(arr);
      }
      this.at++; // ]
    });
  }

  #error(): Error {
    const name = this.#counted();
    const message = this.#counted();
    const error = makeError(name, message);
    return this.#within(error, () => {
      this.at++; // {
      this.#fields(error);
      if (this.#text[this.at++] === 'C') define(error, 'cause', this.value(), false);
      if (this.#peek() === 'a') {
        this.at++;
        define(error, 'errors', this.value(), false);
      }
      this.at++; // ;
    });
  }

  #collection(tag: 'M' | 'S'): Map<unknown, unknown> | Set<unknown> {
    const count = Number(this.#until('('));
    const out = tag === 'M' ? new Map<unknown, unknown>() : new Set<unknown>();
    return this.#within(out, () => {
      for (let i = 0; i < count; i++) {
        if (out instanceof Map) {
          const k = this.value();
          out.set(k, this.value());
        } else {
          out.add(this.value());
        }
      }
      this.at++; // )
    });
  }
}

/** A data property, as structured clone makes them: `__proto__` stays an ordinary key. */
function define(obj: object, key: string, value: unknown, enumerable: boolean): void {
  Object.defineProperty(obj, key, { value, enumerable, writable: true, configurable: true });
}
