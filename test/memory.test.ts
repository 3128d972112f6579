/**
 * Nothing outlives its entry: after clear() and close() the host's heap returns to within
 * 1 MiB of where it started, big string arguments and many distinct functions included.
 */
import { describe, expect, it } from 'vitest';
import { createLoader } from '../src/index.js';
import { gc } from './support/gc.js';

async function settledHeap(): Promise<number> {
  // FinalizationRegistry callbacks run in a later task: let them, then collect what they freed.
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  gc();
  return process.memoryUsage().heapUsed;
}

const MiB = 1 << 20;

describe('memory after clear() and close()', () => {
  it('a 32 MiB string argument is released by clear()', async () => {
    const loader = createLoader({ threads: 1 });
    try {
      const length = loader.asyncLoad((s: string) => s.length);
      await length.wait('warm-up');
      length.clear();
      const before = await settledHeap();
      for (let i = 0; i < 3; i++) {
        const big = String(i).repeat(16 * MiB); // 16 Mi UTF-16 units: 32 MiB of heap
        expect(await length.wait(big)).toBe(16 * MiB);
        expect(length(big)).toBe(16 * MiB);
        length.clear();
      }
      expect((await settledHeap()) - before).toBeLessThan(MiB);
    } finally {
      await loader.close();
    }
  });

  it('values kept for loader.get(key) go with their entries: eviction, clear() and close()', async () => {
    const loader = createLoader({ threads: 1, maxEntries: 10 });
    const value = (i: number): string => 'x'.repeat(20_000) + i;
    const wrap = (i: number) => loader.asyncLoad((n: number) => 'x'.repeat(20_000) + n, { key: `k${i}` });
    await wrap(-1).wait(-1);
    const before = await settledHeap();
    // 300 keys, 20 KB each: 6 MB if the evicted ones were kept.
    for (let i = 0; i < 300; i++) expect(await wrap(i).wait(i)).toBe(value(i));
    expect(loader.size).toBe(10);
    expect(loader.get('k0')).toBeUndefined();
    expect(loader.get('k299')).toBe(value(299));
    expect((await settledHeap()) - before).toBeLessThan(MiB);
    wrap(299).clear();
    expect(loader.get('k299')).toBeUndefined();
    await loader.close();
    expect(loader.get('k298')).toBeUndefined();
  });

  // Left out of mutation runs (npm run mutate): seconds a mutant, for bounds a mutant rarely moves.
  it.skipIf(process.env.ASYNC_LOAD_MUTATION_RUN === '1')(
    '10,000 distinct functions, each cleared after use, leave both heaps within a few MiB',
    async () => {
      const loader = createLoader({ threads: 1 });
      try {
        const run = async (from: number, to: number): Promise<void> => {
          for (let i = from; i < to; i++) {
            // About 1 KiB of source each: 10 MiB if the loader kept every function it has seen.
            const source = `return (x) => { /* ${'.'.repeat(1000)} */ return x + ${i}; }`;
            const load = loader.asyncLoad(new Function(source)() as (x: number) => number);
            expect(await load.wait(1)).toBe(1 + i);
            load.clear();
          }
        };
        // The thread's heap, after a full collection there (one thread: every run is on it).
        const threadHeap = loader.asyncLoad(async (nonce: number) => {
          const v8 = (await import('node:v8')) as typeof import('node:v8');
          const vm = (await import('node:vm')) as typeof import('node:vm');
          v8.setFlagsFromString('--expose-gc');
          (vm.runInNewContext('gc') as () => void)();
          return process.memoryUsage().heapUsed + nonce * 0;
        });
        let nonce = 0;
        // Warm-up past the thread's bound of compiled functions: both heaps reach their steady size.
        await run(0, 500);
        const before = await settledHeap();
        const threadBefore = await threadHeap.wait(nonce++);
        threadHeap.clear();
        await run(500, 10_500);
        expect(loader.size).toBe(0);
        const grown = (await settledHeap()) - before;
        expect(grown).toBeLessThan(3 * MiB);
        // About 1.2 KiB a compiled function: 10,000 kept would be some 12 MiB.
        expect((await threadHeap.wait(nonce++)) - threadBefore).toBeLessThan(3 * MiB);
      } finally {
        await loader.close();
      }
    },
  );
});

describe("a loader's key memo", () => {
  it('stays within its budget for objects with more keys than it can keep', async () => {
    const { deriveKey } = await import('../src/key.js');
    const { KeyMemo } = await import('../src/key-memo.js');
    const memo = new KeyMemo();
    const make = (n: number): Record<string, number> => {
      const o: Record<string, number> = {};
      for (let i = 0; i < 20_000; i++) o[`k${n}_${i}`] = i;
      return o;
    };
    deriveKey('0|', [make(-1)], memo);
    const before = await settledHeap();
    // Twenty shapes of 20,000 keys each: kept with the others, their layouts alone were ~60 MiB.
    for (let n = 0; n < 20; n++) deriveKey('0|', [make(n)], memo);
    expect((await settledHeap()) - before).toBeLessThan(8 * MiB);
  });
});
