/**
 * memory: heap bytes per settled entry holding a small value (100,000 entries), and whether
 * the heap stays flat under `maxEntries: 10_000` across 1,000,000 distinct calls. Needs
 * --expose-gc (npm run bench passes it).
 */
import { createLoader } from 'async-load';
import type { Figure } from '../harness.js';

function heap(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('memory suite needs node --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

async function fill(load: (n: number) => Promise<number>, from: number, count: number): Promise<void> {
  for (let start = from; start < from + count; start += 10_000) {
    await Promise.all(Array.from({ length: 10_000 }, (_, i) => load(start + i)));
  }
}

export async function memory(): Promise<Figure[]> {
  const big = createLoader({ threads: 2, maxEntries: Infinity });
  const value = big.asyncLoad((n: number) => n * 2);
  await value.wait(-1);
  const before = heap();
  await fill((n) => value.wait(n), 0, 100_000);
  const perEntry = (heap() - before) / 100_000;
  await big.close();

  const bounded = createLoader({ threads: 2, maxEntries: 10_000 });
  const small = bounded.asyncLoad((n: number) => n * 2);
  await fill((n) => small.wait(n), 0, 100_000);
  const early = heap();
  await fill((n) => small.wait(n), 100_000, 900_000);
  const late = heap();
  await bounded.close();
  const growth = (late - early) / early;
  return [
    {
      suite: 'memory',
      name: 'heap per settled entry (100,000 entries)',
      unit: 'bytes',
      ours: { median: perEntry, min: perEntry, max: perEntry },
      target: '≤ 1,024 bytes',
      met: perEntry <= 1024,
    },
    {
      suite: 'memory',
      name: 'heap growth, maxEntries 10,000, calls 100,000 → 1,000,000',
      unit: '%',
      ours: { median: growth * 100, min: growth * 100, max: growth * 100 },
      target: '≤ 10 %',
      met: Math.abs(growth) <= 0.1,
    },
  ];
}
