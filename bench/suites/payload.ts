/**
 * payload: a 64 MiB Float64Array argument whose result is its sum, end to end (call → value),
 * a new run every time, on a default `createLoader()`. Baseline: raw Piscina (same thread
 * count, its defaults) doing the same with the same transfer mode (structured-clone copy),
 * interleaved by round.
 *
 * Also the key cost of a cached call with an equal copy of the array, through the public API
 * (the former figure timed the internal hash function alone, which left out everything
 * around it and tied the bench to a private module).
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { createLoader } from 'async-load';
import { interleave, ratios, stat, type Figure, type SuiteOptions } from '../harness.js';

export async function payload({ quick }: SuiteOptions): Promise<Figure[]> {
  const BYTES = (quick ? 16 : 64) * 1024 * 1024;
  const ROUNDS = quick ? 4 : 9;
  const data = new Float64Array(BYTES / 8);
  for (let i = 0; i < data.length; i++) data[i] = i % 1000;
  const loader = createLoader();
  const sum = loader.asyncLoad((d: Float64Array) => {
    let s = 0;
    for (let i = 0; i < d.length; i++) s += d[i]!;
    return s;
  });
  const threads = availableParallelism();
  const piscina = new Piscina({
    filename: new URL('../fixtures/sum.mjs', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
  });
  const samples = await interleave(
    {
      ours: async () => {
        const t0 = performance.now();
        await sum.wait(data);
        const ms = performance.now() - t0;
        sum.clear();
        return ms;
      },
      piscina: async () => {
        const t0 = performance.now();
        await piscina.run(data);
        return performance.now() - t0;
      },
    },
    ROUNDS,
  );
  await sum.wait(data);
  const keyRates: number[] = [];
  for (let r = -1; r < ROUNDS; r++) {
    const copy = data.slice();
    const t0 = performance.now();
    if (sum(copy) === undefined) throw new Error('payload: the cached call missed');
    const ms = performance.now() - t0;
    if (r >= 0) keyRates.push(BYTES / 1e9 / (ms / 1000));
  }
  await Promise.all([loader.close(), piscina.destroy()]);
  const ratio = stat(ratios(samples.ours, samples.piscina));
  const mib = BYTES / 1024 / 1024;
  return [
    {
      suite: 'payload',
      name: `${mib} MiB Float64Array, sum, end to end`,
      unit: 'ms',
      ours: stat(samples.ours),
      baseline: { name: 'raw Piscina', stat: stat(samples.piscina) },
      ratio,
      target: '≤ 1.5×',
      met: ratio.median <= 1.5,
    },
    {
      suite: 'payload',
      name: `cached call with an equal copy of the ${mib} MiB array (key cost)`,
      unit: 'GB/s',
      ours: stat(keyRates),
      target: 'reported',
      met: true,
    },
  ];
}
