/**
 * scaling and event loop: what real CPU work gains from the threads. 8 runs of a 200 ms CPU
 * loop on 2 threads against the same loop run inline in sequence (speedup; 2x is the limit on
 * 2 cores), and the main thread's event-loop delay p99 while the threads are busy against the
 * same work inline (which blocks the loop for a whole run at a time).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createLoader } from 'async-load';
import { busy, repeat, stat, type Figure } from '../harness.js';

const RUNS = 8;
const RUN_MS = 200;

export async function cpu(): Promise<Figure[]> {
  const loader = createLoader({ threads: 2 });
  const spin = loader.asyncLoad((ms: number, _round: number) => {
    const end = Date.now() + ms;
    while (Date.now() < end);
    return ms;
  });
  const delays: number[] = [];
  const inlineDelays: number[] = [];
  let round = 0;
  const threaded = await repeat(async () => {
    round++;
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: RUNS }, (_, i) => spin.wait(RUN_MS, round * 100 + i)));
    const ms = performance.now() - t0;
    h.disable();
    delays.push(h.percentile(99) / 1e6);
    spin.clear();
    return ms;
  }, 3);
  const inline = await repeat(async () => {
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const t0 = performance.now();
    for (let i = 0; i < RUNS; i++) {
      busy(RUN_MS);
      // Let the loop turn between runs, as a server would between requests.
      await new Promise((r) => setImmediate(r));
    }
    const ms = performance.now() - t0;
    h.disable();
    inlineDelays.push(h.percentile(99) / 1e6);
    return ms;
  }, 3);
  await loader.close();
  const speedup = inline.median / threaded.median;
  const loop = stat(delays);
  return [
    {
      suite: 'scaling',
      name: `speedup, ${RUNS} × ${RUN_MS} ms runs (wall ms)`,
      unit: 'ms',
      ours: threaded,
      baseline: { name: 'inline in sequence', stat: inline },
      ratio: threaded.median / inline.median,
      target: 'speedup ≥ 1.85×',
      met: speedup >= 1.85,
      note: `speedup ${speedup.toFixed(2)}×`,
    },
    {
      suite: 'event loop',
      name: 'main-thread delay p99 while threads are busy',
      unit: 'ms',
      ours: loop,
      baseline: { name: 'same work inline', stat: stat(inlineDelays) },
      ratio: loop.median / stat(inlineDelays).median,
      target: '≤ 10 ms',
      met: loop.median <= 10,
    },
  ];
}
