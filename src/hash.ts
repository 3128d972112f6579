/**
 * 64-bit xxHash of binary argument data. xxhash-wasm sets itself up asynchronously, so it is
 * loaded on first need (no top-level await: that would break `require()` of this package);
 * callers check `hasherReady()` and wait for `loadHasher()` when it is not.
 */

import xxhash from 'xxhash-wasm';

type Hasher = Awaited<ReturnType<typeof xxhash>>;

let hasher: Hasher | undefined;
let loading: Promise<void> | undefined;
let override: ((bytes: Uint8Array) => string) | undefined;

/** Hashing 1 MiB at a time keeps the WebAssembly memory small instead of growing it to the input's size. */
const CHUNK = 1 << 20;

export function loadHasher(): Promise<void> {
  loading ??= xxhash().then((h) => {
    hasher = h;
  });
  return loading;
}

export function hasherReady(): boolean {
  return hasher !== undefined;
}

/** Hex xxh64 of the bytes a typed array, DataView or ArrayBuffer covers. Requires hasherReady(). */
export function hashBytes(data: ArrayBufferView | ArrayBuffer): string {
  const bytes = ArrayBuffer.isView(data)
    ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    : new Uint8Array(data);
  if (override) return override(bytes);
  if (!hasher) throw new Error('async-load: the hasher is not loaded yet (call loadHasher() first)');
  // Stryker disable next-line ConditionalExpression,EqualityOperator: the streaming digest equals the one-shot hash (hash-chunks.test.ts); the one-shot path only saves the state's set-up
  if (bytes.byteLength <= CHUNK) return hasher.h64Raw(bytes).toString(16);
  const state = hasher.create64();
  // Stryker disable next-line EqualityOperator: `<=` adds at most one update with an empty slice, which leaves the digest unchanged
  for (let at = 0; at < bytes.byteLength; at += CHUNK) state.update(bytes.subarray(at, at + CHUNK));
  return state.digest().toString(16);
}

/**
 * Test-only: replaces the hash function, for example with one that makes every input collide,
 * to prove that a hash match is always verified against the data itself.
 */
export function setHashForTesting(fn?: (bytes: Uint8Array) => string): void {
  override = fn;
}
