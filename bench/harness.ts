/**
 * Measuring helpers shared by the suites. The rule every suite follows: a figure with a
 * baseline is measured side by side with it in the same process, in interleaved rounds, and
 * the comparison is the median and min–max of the per-round ratios (never a ratio of
 * medians, which can pair ours' good round with the baseline's bad one).
 */

export interface Stat {
  median: number;
  min: number;
  max: number;
}

/** What every suite receives from the runner. */
export interface SuiteOptions {
  /** Smaller sizes and fewer rounds, for smoke runs (figures are indicative only). */
  quick: boolean;
}

export function stat(samples: readonly number[]): Stat {
  if (!samples.length) return { median: NaN, min: NaN, max: NaN };
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(samples: readonly number[], p: number): number {
  if (!samples.length) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function mean(samples: readonly number[]): number {
  let s = 0;
  for (const x of samples) s += x;
  return s / samples.length;
}

/** Per-round ratios a[i] / b[i] of two sample lists taken in the same rounds. */
export function ratios(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length) throw new Error(`ratios: ${a.length} rounds against ${b.length}`);
  return a.map((x, i) => x / b[i]!);
}

/** A single value as a Stat (a figure measured once). */
export function once(value: number): Stat {
  return { median: value, min: value, max: value };
}

/**
 * Runs each contender once per round, `warmup` rounds unrecorded first. The order within a
 * round rotates, so no contender always runs first (on a cold cache) or right after another's
 * garbage; a change in the machine's load during a round hits every contender alike.
 */
export async function interleave<K extends string>(
  contenders: Record<K, (round: number) => Promise<number> | number>,
  rounds: number,
  warmup = 1,
): Promise<Record<K, number[]>> {
  const names = Object.keys(contenders) as K[];
  const samples = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  for (let r = -warmup; r < rounds; r++) {
    const shift = ((r % names.length) + names.length) % names.length;
    const order = [...names.slice(shift), ...names.slice(0, shift)];
    for (const name of order) {
      const value = await contenders[name](r);
      if (r >= 0) samples[name].push(value);
    }
  }
  return samples;
}

/** One row of the results: ours, optionally beside a baseline measured in the same rounds. */
export interface Figure {
  suite: string;
  name: string;
  unit: string;
  /** Median [min–max] over rounds (or a percentile, as the name says). */
  ours: Stat;
  baseline?: { name: string; stat: Stat };
  /** Per-round ours / baseline ratios: median [min–max]. */
  ratio?: Stat;
  target: string;
  met: boolean;
  note?: string;
}

export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

export function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Collects garbage twice (needs --expose-gc) and returns the heap in use. */
export function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('this suite needs node --expose-gc (npm run bench passes it)');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
