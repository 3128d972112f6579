/** Measuring helpers shared by the suites: repeat, take the median with min and max. */

export interface Stat {
  median: number;
  min: number;
  max: number;
}

export function stat(samples: number[]): Stat {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Runs `once` `warmup` times unmeasured, then `repeats` times; each call returns its own measurement. */
export async function repeat(
  once: (round: number) => Promise<number> | number,
  repeats: number,
  warmup = 1,
): Promise<Stat> {
  for (let i = 0; i < warmup; i++) await once(-1 - i);
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) samples.push(await once(i));
  return stat(samples);
}

/** One row of the results: ours against a baseline, with the target and whether it was met. */
export interface Figure {
  suite: string;
  name: string;
  unit: string;
  ours: Stat;
  baseline?: { name: string; stat: Stat };
  /** ours / baseline median, when there is a baseline. */
  ratio?: number;
  target: string;
  met: boolean;
  note?: string;
}

export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

export function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
