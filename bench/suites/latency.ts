/**
 * latency: one trivial run on an idle pool, from the call to `wait()` resolving, as a request
 * handler that needs one fresh result would see it. 2,000 sequential runs of `a => a + 1`
 * with distinct arguments (never a cache hit), each started from a fresh event-loop turn,
 * on a default `createLoader()`.
 *
 * Baseline: raw Piscina `run()` of the same function from a worker file, on the same thread
 * count, both with its defaults (`atomics: 'sync'`) and with `atomics: 'async'`; each run of
 * ours is followed by one of each (order rotating), so both see the same machine. Runs are
 * grouped into rounds of 100; the ratio is ours' p50 over the better baseline's p50, per round.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { createLoader } from 'async-load';
import { percentile, ratios, stat, turn, type Figure, type SuiteOptions } from '../harness.js';

const addFile = new URL('../fixtures/add.mjs', import.meta.url).href;
const PER_ROUND = 100;

export async function latency({ quick }: SuiteOptions): Promise<Figure[]> {
  const RUNS = quick ? 500 : 2_000;
  const threads = availableParallelism();
  const loader = createLoader();
  const add = loader.asyncLoad((a: number) => a + 1);
  const sync = new Piscina({ filename: addFile, minThreads: threads, maxThreads: threads });
  const async_ = new Piscina({
    filename: addFile,
    minThreads: threads,
    maxThreads: threads,
    atomics: 'async',
  });

  const contenders: [string, (i: number) => Promise<unknown>][] = [
    ['ours', (i) => add.wait(i)],
    ['sync', (i) => sync.run(i)],
    ['async', (i) => async_.run(i)],
  ];
  const all: Record<string, number[]> = { ours: [], sync: [], async: [] };
  // Warm-up: threads started, functions compiled, code paths optimised.
  for (let i = 0; i < 200; i++) for (const [, run] of contenders) await run(-1 - i);
  for (let i = 0; i < RUNS; i++) {
    for (let k = 0; k < contenders.length; k++) {
      const [name, run] = contenders[(i + k) % contenders.length]!;
      await turn();
      const t0 = performance.now();
      await run(i);
      all[name]!.push((performance.now() - t0) * 1000);
    }
  }
  await Promise.all([loader.close(), sync.destroy(), async_.destroy()]);

  const rounds = (xs: number[], p: number): number[] => {
    const out: number[] = [];
    for (let i = 0; i + PER_ROUND <= xs.length; i += PER_ROUND)
      out.push(percentile(xs.slice(i, i + PER_ROUND), p));
    return out;
  };
  const oursP50 = rounds(all.ours!, 50);
  const betterP50 = rounds(all.sync!, 50).map((s, i) => Math.min(s, rounds(all.async!, 50)[i]!));
  const r50 = stat(ratios(oursP50, betterP50));
  const p = (name: string, q: number): number => percentile(all[name]!, q);
  const withSpan = (value: number, perRound: number[]) => ({ ...stat(perRound), median: value });
  return [
    {
      suite: 'latency',
      name: `call → wait() resolved, p50 over ${RUNS.toLocaleString('en-US')} sequential runs (min–max of per-round p50)`,
      unit: 'µs',
      ours: withSpan(p('ours', 50), oursP50),
      baseline: {
        name: 'better raw Piscina run() of the round',
        stat: withSpan(Math.min(p('sync', 50), p('async', 50)), betterP50),
      },
      ratio: r50,
      target: 'p50 ≤ 1.1×',
      met: r50.median <= 1.1,
      note: `raw Piscina p50: defaults ${p('sync', 50).toFixed(0)} µs, atomics 'async' ${p('async', 50).toFixed(0)} µs`,
    },
    {
      suite: 'latency',
      name: `call → wait() resolved, p99 over ${RUNS.toLocaleString('en-US')} sequential runs (min–max of per-round p99)`,
      unit: 'µs',
      ours: withSpan(p('ours', 99), rounds(all.ours!, 99)),
      baseline: { name: 'raw Piscina run(), defaults', stat: withSpan(p('sync', 99), rounds(all.sync!, 99)) },
      ratio: stat(ratios(rounds(all.ours!, 99), rounds(all.sync!, 99))),
      target: 'reported',
      met: true,
      note: `raw Piscina atomics 'async' p99 ${p('async', 99).toFixed(0)} µs`,
    },
  ];
}
