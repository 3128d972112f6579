/**
 * source: what a function's size costs per run. 300 distinct runs, all issued at once and
 * awaited through wait(), of a 1 MiB inline function (a generated lookup table in its body,
 * as generated code has) against a tiny one doing the same work, on a default
 * `createLoader()`. The baseline is the tiny function on the same loader in the same rounds,
 * so the ratio is the price of the source text alone; each function's first runs (compiling
 * it on every thread) fall in the warm-up round.
 */
import { createLoader } from 'async-load';
import { interleave, ratios, stat, type Figure, type SuiteOptions } from '../harness.js';

export async function source({ quick }: SuiteOptions): Promise<Figure[]> {
  const RUNS = 300;
  const ROUNDS = quick ? 5 : 11;
  // 1 MiB of source: a table literal on a branch no run takes, so every run does the tiny
  // function's work and the difference is the source text alone (sending it, compiling it).
  const entries = Array.from({ length: (1024 * 1024) / 6 }, (_, i) => String(i % 9973).padStart(6, ' ')).join(
    ',',
  );
  const bigFn = (0, eval)(`(a) => { if (a < 0) return [${entries}][-a]; return a + 1; }`) as (
    a: number,
  ) => number;
  const bigSize = bigFn.toString().length;
  if (bigSize < 1024 * 1024) throw new Error(`source: the big function is only ${bigSize} characters`);
  const loader = createLoader();
  const bigLoad = loader.asyncLoad(bigFn);
  const tinyLoad = loader.asyncLoad((a: number) => a + 1);

  let next = 0;
  const batch = async (load: typeof tinyLoad): Promise<number> => {
    const base = (next += RUNS);
    const t0 = performance.now();
    await Promise.all(Array.from({ length: RUNS }, (_, i) => load.wait(base + i)));
    return performance.now() - t0;
  };
  const samples = await interleave({ big: () => batch(bigLoad), tiny: () => batch(tinyLoad) }, ROUNDS, 2);
  await loader.close();
  const ratio = stat(ratios(samples.big, samples.tiny));
  return [
    {
      suite: 'source',
      name: `${RUNS} runs of a ${(bigSize / 1024 / 1024).toFixed(2)} MiB inline function, wall time`,
      unit: 'ms',
      ours: stat(samples.big),
      baseline: { name: 'a tiny function, same runs', stat: stat(samples.tiny) },
      ratio,
      target: '≤ 1.2×',
      met: ratio.median <= 1.2,
    },
  ];
}
