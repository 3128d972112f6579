/**
 * scaling and event loop: what real CPU work gains from the threads. 8 runs of a 200 ms CPU
 * loop, issued at once, on a loader of 2 threads (set explicitly: the figure is about 2
 * threads; 8 runs keep both busy), with the main thread's event-loop delay p99 sampled
 * meanwhile.
 *
 * Baselines, measured in the same interleaved rounds:
 * - raw Piscina (2 threads, its defaults) running the same loop from a worker file: the fair
 *   comparison for both figures. The former baseline (the work inline, which blocks the loop
 *   for a whole run) could only flatter: any thread pool beats it. The ratio to raw Piscina
 *   shows what the library costs on top of the pool.
 * - the same loop inline in sequence, kept for the speedup (2× is the limit on 2 cores).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Piscina } from 'piscina';
import { createLoader } from 'async-load';
import { busy, interleave, ratios, stat, turn, type Figure, type SuiteOptions } from '../harness.js';

const RUNS = 8;
const THREADS = 2;

export async function cpu({ quick }: SuiteOptions): Promise<Figure[]> {
  const RUN_MS = quick ? 100 : 200;
  const ROUNDS = quick ? 3 : 5;
  const loader = createLoader({ threads: THREADS });
  const spin = loader.asyncLoad((ms: number, _id: number) => {
    const end = Date.now() + ms;
    while (Date.now() < end);
    return ms;
  });
  const piscina = new Piscina({
    filename: new URL('../fixtures/tasks.mjs', import.meta.url).href,
    minThreads: THREADS,
    maxThreads: THREADS,
  });
  const delays: Record<'ours' | 'piscina' | 'inline', number[]> = { ours: [], piscina: [], inline: [] };
  const measured = async (
    who: keyof typeof delays,
    r: number,
    work: () => Promise<unknown>,
  ): Promise<number> => {
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const t0 = performance.now();
    await work();
    const ms = performance.now() - t0;
    h.disable();
    if (r >= 0) delays[who].push(h.percentile(99) / 1e6);
    return ms;
  };
  let id = 0;
  const samples = await interleave(
    {
      ours: (r) =>
        measured('ours', r, () => Promise.all(Array.from({ length: RUNS }, () => spin.wait(RUN_MS, ++id)))),
      piscina: (r) =>
        measured('piscina', r, () =>
          Promise.all(
            Array.from({ length: RUNS }, () => piscina.run(RUN_MS, { name: 'spin' }) as Promise<number>),
          ),
        ),
      inline: (r) =>
        measured('inline', r, async () => {
          for (let i = 0; i < RUNS; i++) {
            busy(RUN_MS);
            // Let the loop turn between runs, as a server would between requests.
            await turn();
          }
        }),
    },
    ROUNDS,
  );
  await Promise.all([loader.close(), piscina.destroy()]);
  const speedup = stat(ratios(samples.inline, samples.ours));
  const loop = stat(delays.ours);
  return [
    {
      suite: 'scaling',
      name: `${RUNS} × ${RUN_MS} ms CPU runs on ${THREADS} threads, wall time`,
      unit: 'ms',
      ours: stat(samples.ours),
      baseline: { name: 'raw Piscina', stat: stat(samples.piscina) },
      ratio: stat(ratios(samples.ours, samples.piscina)),
      target: 'speedup over inline ≥ 1.85×',
      met: speedup.median >= 1.85,
      note: `speedup over inline ${speedup.median.toFixed(2)}× [${speedup.min.toFixed(2)}–${speedup.max.toFixed(2)}]`,
    },
    {
      suite: 'event loop',
      name: 'main-thread delay p99 while the threads are busy',
      unit: 'ms',
      ours: loop,
      baseline: { name: 'raw Piscina', stat: stat(delays.piscina) },
      ratio: stat(ratios(delays.ours, delays.piscina)),
      target: '≤ 10 ms',
      met: loop.median <= 10,
      note: `the same work inline: ${stat(delays.inline).median.toFixed(0)} ms`,
    },
  ];
}
