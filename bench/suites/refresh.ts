/**
 * refresh: schedule keeping under real load. 100 entries, each `refreshEvery: 1000` with runs
 * of 5 ms, on a loader of 2 threads (a quarter of its capacity), for 20 intervals. Half the
 * entries are created together (a server starting up), half at random moments during the
 * first interval (requests arriving), so refreshes both queue behind each other and collide
 * at random, never the one-idle-entry best case. Each run reads its own start on its thread
 * and returns it, so nothing relies on the library's timestamps.
 *   - schedule error: |start − (previous start + 1000)|, the README's contract, p95 over
 *     every refresh of every entry (min–max over entries of their own p95);
 *   - drift: |start after 20 intervals − (first start + 20 × 1000)|, worst entry (median and
 *     min over entries beside it).
 *
 * Baseline: a competent hand-rolled refresher with the same contract, the same 100 entries
 * on raw Piscina (2 threads, its defaults): when a run resolves with its start, a setTimeout
 * for start + 1000 runs the next. (A bare `setInterval` per entry would be the strawman: it
 * measures from the timer, not from the run's start, and drifts by every late callback.)
 * Both pools are warmed first, so no thread start-up lands in either. Measured right after
 * ours, not interleaved, because the figure is about 20 consecutive intervals; so there is
 * one ratio, from one round each.
 */
import { Piscina } from 'piscina';
import { createLoader, type UpdateEvent } from 'async-load';
import { epochNow, percentile, sleep, stat, type Figure, type SuiteOptions } from '../harness.js';

const ENTRIES = 100;
const EVERY = 1000;
const RUN_MS = 5;
const THREADS = 2;

/** Creation delay of entry i: half at once, half at random during the first interval. */
function createdAt(count: number): number[] {
  return Array.from({ length: count }, (_, i) => (i < count / 2 ? 0 : Math.random() * EVERY));
}

interface Result {
  errors: number[];
  perEntryP95: number[];
  drifts: number[];
}

function analyse(starts: Map<number, number[]>, intervals: number): Result {
  const errors: number[] = [];
  const perEntryP95: number[] = [];
  const drifts: number[] = [];
  for (const s of starts.values()) {
    const mine = s.slice(1, intervals + 1).map((t, k) => Math.abs(t - (s[k]! + EVERY)));
    errors.push(...mine);
    perEntryP95.push(percentile(mine, 95));
    drifts.push(Math.abs(s[intervals]! - (s[0]! + intervals * EVERY)));
  }
  return { errors, perEntryP95, drifts };
}

async function ours(intervals: number): Promise<Result> {
  const loader = createLoader({ threads: THREADS });
  const load = loader.asyncLoad(
    (_id: number, ms: number) => {
      const start = performance.timeOrigin + performance.now();
      const end = performance.now() + ms;
      while (performance.now() < end);
      return start;
    },
    { refreshEvery: EVERY },
  );
  const warm = loader.asyncLoad((i: number) => i);
  await Promise.all(Array.from({ length: 20 }, (_, i) => warm.wait(i)));
  const starts = new Map<number, number[]>();
  let complete = 0;
  const done = new Promise<void>((resolve) =>
    load.subscribe((events: UpdateEvent<number>[]) => {
      for (const e of events) {
        if (e.status !== 'complete') throw new Error(`refresh: a run failed: ${String(e.error)}`);
        const id = e.args[0] as number;
        const list = starts.get(id) ?? [];
        list.push(e.value!);
        starts.set(id, list);
        if (list.length === intervals + 1 && ++complete === ENTRIES) resolve();
      }
    }),
  );
  // Refresh timers never hold the process open (by design); this wait must.
  const keepAlive = setInterval(() => undefined, 1000);
  await Promise.all(createdAt(ENTRIES).map((delay, id) => sleep(delay).then(() => load(id, RUN_MS))));
  await done;
  clearInterval(keepAlive);
  await loader.close();
  return analyse(starts, intervals);
}

async function handRolled(intervals: number): Promise<Result> {
  const piscina = new Piscina({
    filename: new URL('../fixtures/tasks.mjs', import.meta.url).href,
    minThreads: THREADS,
    maxThreads: THREADS,
  });
  await Promise.all(Array.from({ length: 20 }, () => piscina.run(1, { name: 'stampThenWork' })));
  const starts = new Map<number, number[]>();
  const timers = new Set<NodeJS.Timeout>();
  let complete = 0;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  let stopping = false;
  const failures: unknown[] = [];
  const run = (id: number): void => {
    void (piscina.run(RUN_MS, { name: 'stampThenWork' }) as Promise<number>).then(
      (start) => {
        const list = starts.get(id) ?? [];
        list.push(start);
        starts.set(id, list);
        if (list.length === intervals + 1 && ++complete === ENTRIES) finish();
        if (stopping) return;
        const timer = setTimeout(
          () => {
            timers.delete(timer);
            run(id);
          },
          start + EVERY - epochNow(),
        );
        timers.add(timer);
      },
      // Runs still queued when the pool is destroyed at the end fail; only earlier ones count.
      (error) => void (stopping || failures.push(error)),
    );
  };
  await Promise.all(createdAt(ENTRIES).map((delay, id) => sleep(delay).then(() => run(id))));
  await done;
  stopping = true;
  for (const t of timers) clearTimeout(t);
  await piscina.destroy();
  if (failures.length)
    throw new Error(`refresh: ${failures.length} hand-rolled runs failed`, { cause: failures[0] });
  return analyse(starts, intervals);
}

export async function refresh({ quick }: SuiteOptions): Promise<Figure[]> {
  const INTERVALS = quick ? 4 : 20;
  const o = await ours(INTERVALS);
  const b = await handRolled(INTERVALS);
  const p95 = percentile(o.errors, 95);
  const bp95 = percentile(b.errors, 95);
  const drift = stat(o.drifts);
  const bdrift = stat(b.drifts);
  const setup = `${ENTRIES} entries × ${INTERVALS} intervals of ${EVERY} ms, ${RUN_MS} ms runs, ${THREADS} threads`;
  return [
    {
      suite: 'refresh',
      name: `|start − (previous start + ${EVERY})|, p95 over all refreshes (min–max of per-entry p95)`,
      unit: 'ms',
      ours: { ...stat(o.perEntryP95), median: p95 },
      baseline: {
        name: 'raw Piscina + setTimeout from each start',
        stat: { ...stat(b.perEntryP95), median: bp95 },
      },
      ratio: { median: p95 / bp95, min: p95 / bp95, max: p95 / bp95 },
      target: 'p95 ≤ 5 ms',
      met: p95 <= 5,
      note: `${setup}; max ${stat(o.errors).max.toFixed(1)} ms`,
    },
    {
      suite: 'refresh',
      name: `drift after ${INTERVALS} intervals, worst entry (median–worst over entries)`,
      unit: 'ms',
      ours: { median: drift.max, min: drift.median, max: drift.max },
      baseline: {
        name: 'raw Piscina + setTimeout from each start',
        stat: { median: bdrift.max, min: bdrift.median, max: bdrift.max },
      },
      ratio: { median: drift.max / bdrift.max, min: drift.max / bdrift.max, max: drift.max / bdrift.max },
      target: 'worst ≤ 10 ms',
      met: drift.max <= 10,
    },
  ];
}
