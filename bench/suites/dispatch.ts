/**
 * dispatch: what each run costs when the work itself is nothing. 20,000 distinct runs of
 * `a => a + 1`, all issued at once, each awaited through `wait()`, on a `createLoader()` with
 * every option at its default (threads = os.availableParallelism(), maxEntries 1,000, so the
 * store evicts as a real server's would).
 *
 * Baselines, on the same thread count as the loader's default (min = max =
 * availableParallelism(), so neither side gains from a thread the other lacks):
 * - raw Piscina with every other option at its default (`atomics: 'sync'`), the floor we build on;
 * - raw Piscina with `atomics: 'async'`, which is faster for some loads; the target is
 *   against the better of the two in each round, so the library cannot win by picking the
 *   weaker configuration of its own foundation;
 * - workerpool `exec(fn)` (the inline-function peer) and tinypool, reported only.
 * Each round runs every contender once, in rotating order; the ratio is taken per round.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import Tinypool from 'tinypool';
import workerpool from 'workerpool';
import { createLoader } from 'async-load';
import { interleave, ratios, stat, type Figure, type SuiteOptions } from '../harness.js';

const addFile = new URL('../fixtures/add.mjs', import.meta.url).href;

async function rate(n: number, issue: (i: number) => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  const all: Promise<unknown>[] = new Array(n);
  for (let i = 0; i < n; i++) all[i] = issue(i);
  await Promise.all(all);
  return n / ((performance.now() - t0) / 1000);
}

export async function dispatch({ quick }: SuiteOptions): Promise<Figure[]> {
  const N = quick ? 5_000 : 20_000;
  const ROUNDS = quick ? 7 : 11;
  const threads = availableParallelism();
  const loader = createLoader();
  const add = loader.asyncLoad((a: number) => a + 1);
  const piscinaSync = new Piscina({ filename: addFile, minThreads: threads, maxThreads: threads });
  const piscinaAsync = new Piscina({
    filename: addFile,
    minThreads: threads,
    maxThreads: threads,
    atomics: 'async',
  });
  const wp = workerpool.pool({ minWorkers: threads, maxWorkers: threads, workerType: 'thread' });
  const tiny = new Tinypool({ filename: addFile, minThreads: threads, maxThreads: threads });
  const fn = (a: number): number => a + 1;

  // Distinct arguments in every round, so no run of ours is a cache hit.
  let next = 0;
  const samples = await interleave(
    {
      ours: () => {
        const base = (next += N);
        return rate(N, (i) => add.wait(base + i));
      },
      piscinaSync: () => rate(N, (i) => piscinaSync.run(i)),
      piscinaAsync: () => rate(N, (i) => piscinaAsync.run(i)),
      workerpool: () => rate(N, (i) => wp.exec(fn, [i]) as unknown as Promise<number>),
      tinypool: () => rate(N, (i) => tiny.run(i)),
    },
    ROUNDS,
  );
  await Promise.all([
    loader.close(),
    piscinaSync.destroy(),
    piscinaAsync.destroy(),
    wp.terminate(),
    tiny.destroy(),
  ]);

  const ours = stat(samples.ours);
  const better = samples.piscinaSync.map((s, i) => Math.max(s, samples.piscinaAsync[i]!));
  const vsBetter = stat(ratios(samples.ours, better));
  const row = (label: string, base: number[], target: string, met: boolean): Figure => ({
    suite: 'dispatch',
    name: `${N.toLocaleString('en-US')} runs via wait(), throughput vs ${label}`,
    unit: 'runs/s',
    ours,
    baseline: { name: label, stat: stat(base) },
    ratio: stat(ratios(samples.ours, base)),
    target,
    met,
  });
  return [
    {
      ...row(
        'the better raw Piscina of the round',
        better,
        'median ≥ 1.0×, worst round ≥ 0.85×',
        vsBetter.median >= 1 && vsBetter.min >= 0.85,
      ),
      note: `${threads} threads, ${ROUNDS} rounds`,
    },
    row("raw Piscina, defaults (atomics 'sync')", samples.piscinaSync, 'reported', true),
    row("raw Piscina, atomics 'async'", samples.piscinaAsync, 'reported', true),
    row('workerpool exec(fn)', samples.workerpool, 'reported', true),
    row('tinypool', samples.tinypool, 'reported', true),
  ];
}
