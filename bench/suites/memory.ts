/**
 * memory (needs --expose-gc; npm run bench passes it).
 *   - Heap per settled entry: 100,000 entries of three functions, their arguments a mix of a
 *     number, a 40-character string and a flat 5-key object, each holding a small object
 *     value. `maxEntries: Infinity` here and only here, because the default bound (1,000)
 *     would evict what is being counted.
 *   - Growth under default options: 1,000,000 distinct calls of the same mix through a
 *     `createLoader()` with nothing overridden; the heap after 1,000,000 calls against the heap
 *     after the first 100,000 (by then every bound, the store's and the key memo's, is full).
 * No baseline: these are budgets, not comparisons.
 */
import { createLoader, type Loader } from 'async-load';
import { heapAfterGc, once, type Figure, type SuiteOptions } from '../harness.js';

/**
 * Calls in flight at once: below the default maxEntries, as a server's concurrency would be
 * (the dispatch suite covers bursts past it; here the figure is memory, not speed).
 */
const BATCH = 500;

function mix(loader: Loader): (i: number) => Promise<unknown> {
  const byNumber = loader.asyncLoad((n: number) => ({ total: n * 2 }));
  const byString = loader.asyncLoad((s: string) => ({ total: s.length }));
  const byObject = loader.asyncLoad(
    (o: { month: string; region: string; limit: number; draft: boolean; scale: number }) => ({
      total: o.limit,
    }),
  );
  return (i) =>
    i % 3 === 0
      ? byNumber.wait(i)
      : i % 3 === 1
        ? byString.wait(`report:2026-11:region-eu:${String(i).padStart(15, '0')}`)
        : byObject.wait({ month: '2026-11', region: 'eu', limit: i, draft: false, scale: 1.5 });
}

async function fill(call: (i: number) => Promise<unknown>, from: number, count: number): Promise<void> {
  for (let start = from; start < from + count; start += BATCH) {
    await Promise.all(
      Array.from({ length: Math.min(BATCH, from + count - start) }, (_, i) => call(start + i)),
    );
  }
}

export async function memory({ quick }: SuiteOptions): Promise<Figure[]> {
  const ENTRIES = quick ? 20_000 : 100_000;
  const CALLS = quick ? 200_000 : 1_000_000;
  const EARLY = CALLS / 10;

  const unbounded = createLoader({ maxEntries: Infinity });
  const settle = mix(unbounded);
  await fill(settle, -300, 300);
  const before = heapAfterGc();
  await fill(settle, 0, ENTRIES);
  const perEntry = (heapAfterGc() - before) / ENTRIES;
  await unbounded.close();

  const defaults = createLoader();
  const call = mix(defaults);
  await fill(call, 0, EARLY);
  const early = heapAfterGc();
  await fill(call, EARLY, CALLS - EARLY);
  const late = heapAfterGc();
  await defaults.close();
  const growth = ((late - early) / early) * 100;
  return [
    {
      suite: 'memory',
      name: `heap per settled entry (${ENTRIES.toLocaleString('en-US')} entries, mixed arguments, maxEntries Infinity)`,
      unit: 'bytes',
      ours: once(perEntry),
      target: '≤ 1,024 bytes',
      met: perEntry <= 1024,
    },
    {
      suite: 'memory',
      name: `heap growth, default options, calls ${EARLY.toLocaleString('en-US')} → ${CALLS.toLocaleString('en-US')}`,
      unit: '%',
      ours: once(growth),
      target: '≤ 10 %',
      met: Math.abs(growth) <= 10,
      note: `${(early / 2 ** 20).toFixed(1)} → ${(late / 2 ** 20).toFixed(1)} MiB`,
    },
  ];
}
