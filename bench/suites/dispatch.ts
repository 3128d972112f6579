/**
 * dispatch: what each call costs when the work itself is nothing. 20,000 distinct runs of
 * `a => a + 1`, all issued at once and each awaited (ours through wait()), on 2 threads.
 * Baselines on the same thread count: raw Piscina with a worker file (the floor we build on),
 * workerpool's exec(fn) (the inline-function peer) and tinypool. Rounds of the contenders are
 * interleaved, so a change in the machine's load hits them all alike.
 */
import { Piscina } from 'piscina';
import Tinypool from 'tinypool';
import workerpool from 'workerpool';
import { createLoader } from 'async-load';
import { stat, type Figure } from '../harness.js';

const N = 20_000;
const THREADS = 2;
const ROUNDS = 9;
const addFile = new URL('../fixtures/add.mjs', import.meta.url).href;

async function timed(issue: (i: number) => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  const all: Promise<unknown>[] = new Array(N);
  for (let i = 0; i < N; i++) all[i] = issue(i);
  await Promise.all(all);
  return N / ((performance.now() - t0) / 1000);
}

export async function dispatch(): Promise<Figure[]> {
  const loader = createLoader({ threads: THREADS, maxEntries: Infinity });
  const add = loader.asyncLoad((a: number) => a + 1);
  const piscina = new Piscina({
    filename: addFile,
    minThreads: THREADS,
    maxThreads: THREADS,
    atomics: 'async',
  });
  const wp = workerpool.pool({ minWorkers: THREADS, maxWorkers: THREADS, workerType: 'thread' });
  const tiny = new Tinypool({ filename: addFile, minThreads: THREADS, maxThreads: THREADS });
  const fn = (a: number): number => a + 1;

  let round = 0;
  const contenders: Record<string, () => Promise<number>> = {
    ours: async () => {
      const base = ++round * N;
      const rate = await timed((i) => add.wait(base + i));
      add.clear();
      return rate;
    },
    piscina: () => timed((i) => piscina.run(i)),
    workerpool: () => timed((i) => wp.exec(fn, [i]) as unknown as Promise<number>),
    tinypool: () => timed((i) => tiny.run(i)),
  };
  const samples: Record<string, number[]> = { ours: [], piscina: [], workerpool: [], tinypool: [] };
  for (let r = -1; r < ROUNDS; r++) {
    for (const [name, once] of Object.entries(contenders)) {
      const rate = await once();
      if (r >= 0) samples[name]!.push(rate);
    }
  }
  await Promise.all([loader.close(), piscina.destroy(), wp.terminate(), tiny.destroy()]);

  const ours = stat(samples.ours!);
  const row = (label: string, key: string, target: number | undefined): Figure => {
    const base = stat(samples[key]!);
    return {
      suite: 'dispatch',
      name: `throughput vs ${label}`,
      unit: 'runs/s',
      ours,
      baseline: { name: label, stat: base },
      ratio: ours.median / base.median,
      target: target === undefined ? 'reported' : `≥ ${target.toFixed(1)}×`,
      met: target === undefined || ours.median / base.median >= target,
    };
  };
  return [
    row('raw Piscina', 'piscina', 0.8),
    row('workerpool exec(fn)', 'workerpool', 1.0),
    row('tinypool', 'tinypool', undefined),
  ];
}
