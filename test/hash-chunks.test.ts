/**
 * Hashing binary arguments: big inputs are hashed 1 MiB at a time (the same xxh64 as hashing
 * them at once, without growing the WebAssembly memory to the input's size), and a call before
 * the hasher has loaded says what to do.
 */
import { describe, expect, it, vi } from 'vitest';
import xxhash from 'xxhash-wasm';
import { hashBytes, loadHasher } from '../src/hash.js';

const MiB = 1 << 20;

/** Bytes that differ everywhere, so a chunk skipped or hashed twice changes the digest. */
function pattern(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + (i >> 20)) & 0xff;
  return bytes;
}

describe('hashBytes', () => {
  it('hashes a 64 MiB input without growing memory by its size', async () => {
    // A hasher of its own: one that hashed a big input at once earlier has grown already.
    vi.resetModules();
    const fresh = await import('../src/hash.js');
    await fresh.loadHasher();
    const big = pattern(64 * MiB);
    const before = process.memoryUsage().external;
    fresh.hashBytes(big);
    // Hashing at once copies the whole input into the WebAssembly memory, which never shrinks.
    expect(process.memoryUsage().external - before).toBeLessThan(16 * MiB);
  });

  it('gives the xxh64 of the whole input, for inputs of one chunk, several, and a partial last one', async () => {
    await loadHasher();
    const reference = await xxhash();
    for (const length of [0, 1, MiB - 1, MiB, MiB + 1, 2 * MiB, 3 * MiB + 12_345]) {
      const bytes = pattern(length);
      expect(hashBytes(bytes), `${length} bytes`).toBe(reference.h64Raw(bytes).toString(16));
    }
  });

  it('hashes exactly the bytes a view covers, not its whole buffer', async () => {
    await loadHasher();
    const reference = await xxhash();
    const buffer = pattern(3 * MiB).buffer as ArrayBuffer;
    const view = new DataView(buffer, 5, 2 * MiB + 7);
    expect(hashBytes(view)).toBe(reference.h64Raw(new Uint8Array(buffer, 5, 2 * MiB + 7)).toString(16));
    expect(hashBytes(buffer)).toBe(reference.h64Raw(new Uint8Array(buffer)).toString(16));
  });

  it('refuses to hash before the hasher has loaded, naming loadHasher()', async () => {
    vi.resetModules();
    const fresh = await import('../src/hash.js');
    expect(fresh.hasherReady()).toBe(false);
    expect(() => fresh.hashBytes(new Uint8Array(4))).toThrow(/not loaded yet.*loadHasher\(\)/);
    await fresh.loadHasher();
    expect(fresh.hasherReady()).toBe(true);
    expect(fresh.hashBytes(new Uint8Array(4))).toMatch(/^[0-9a-f]+$/);
  });
});
