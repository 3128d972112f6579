/**
 * notify: from a run's end to each subscriber's call, when many runs settle together. Each
 * round starts 100 runs at once (plain calls, as request handlers would); each does 20 µs of
 * work on a thread and returns its own end time read on that thread, so the figure never
 * relies on the library's timestamps. With 2 threads they settle within a few ms of each
 * other (the spread is reported). Three subscribers listen (two on the function, one on the
 * loader); every (event, subscriber) pair is one sample. Measured with the default
 * `pollInterval` and with 0; p95 over all samples, min–max of the per-round p95.
 *
 * Baseline: the floor, not a strawman. The same 100 runs on raw Piscina (same threads, its
 * defaults), each with a `.then()` callback: the earliest main-thread code can learn that a run
 * ended. The ratio says what batching and bookkeeping add to that; the targets are absolute
 * (the default interval batches on purpose, so it is expected to be far above the floor).
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { createLoader, type UpdateEvent } from 'async-load';
import {
  epochNow,
  interleave,
  percentile,
  ratios,
  sleep,
  stat,
  type Figure,
  type SuiteOptions,
} from '../harness.js';

const RUNS = 100;
const WORK_US = 20;
const SUBSCRIBERS = 3;

export async function notify({ quick }: SuiteOptions): Promise<Figure[]> {
  const ROUNDS = quick ? 5 : 15;
  const threads = availableParallelism();
  const make = (pollInterval: number | undefined) => {
    const loader = createLoader(pollInterval === undefined ? {} : { pollInterval });
    const load = loader.asyncLoad((round: number, i: number, us: number) => {
      const end = performance.now() + us / 1000;
      while (performance.now() < end);
      return performance.timeOrigin + performance.now();
    });
    const samples: number[] = [];
    let heard = 0;
    let onHeard: (() => void) | undefined;
    const listen = (events: UpdateEvent<number>[]): void => {
      const at = epochNow();
      for (const e of events) samples.push(at - e.value!);
      heard += events.length;
      if (heard >= RUNS * SUBSCRIBERS) onHeard?.();
    };
    // Three distinct listener functions (one function subscribed twice may count once).
    load.subscribe((events) => listen(events));
    load.subscribe((events) => listen(events));
    loader.subscribe((events) => listen(events as UpdateEvent<number>[]));
    let round = 0;
    const spreads: number[] = [];
    const all: number[] = [];
    const once = async (r: number): Promise<number> => {
      samples.length = 0;
      heard = 0;
      // The timer also keeps the process alive while the announcements are due.
      let guard: NodeJS.Timeout | undefined;
      const done = new Promise<void>((resolve, reject) => {
        onHeard = resolve;
        guard = setTimeout(
          () => reject(new Error(`notify: heard ${heard} of ${RUNS * SUBSCRIBERS} announcements in 10 s`)),
          10_000,
        );
      }).finally(() => clearTimeout(guard));
      round++;
      for (let i = 0; i < RUNS; i++) load(round, i, WORK_US);
      await done;
      const ends = Array.from({ length: RUNS }, (_, i) => load.state(round, i, WORK_US).value!);
      if (r >= 0) {
        spreads.push(Math.max(...ends) - Math.min(...ends));
        all.push(...samples);
      }
      load.clear();
      await sleep(20 + Math.random() * 30);
      return percentile(samples, 95);
    };
    return { loader, once, spreads, all };
  };

  const byDefault = make(undefined);
  const zero = make(0);
  const piscina = new Piscina({
    filename: new URL('../fixtures/tasks.mjs', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
  });
  const floorAll: number[] = [];
  const floorOnce = async (r: number): Promise<number> => {
    const samples: number[] = [];
    await Promise.all(
      Array.from({ length: RUNS }, () =>
        (piscina.run(WORK_US, { name: 'workThenStamp' }) as Promise<number>).then((end) => {
          samples.push(epochNow() - end);
        }),
      ),
    );
    if (r >= 0) floorAll.push(...samples);
    await sleep(20 + Math.random() * 30);
    return percentile(samples, 95);
  };
  const rounds = await interleave({ byDefault: byDefault.once, zero: zero.once, floor: floorOnce }, ROUNDS);
  await Promise.all([byDefault.loader.close(), zero.loader.close(), piscina.destroy()]);

  const floor = {
    name: 'raw Piscina .then(), p95',
    stat: { ...stat(rounds.floor), median: percentile(floorAll, 95) },
  };
  const row = (label: string, c: typeof zero, perRound: number[], limit: number): Figure => {
    const p95 = percentile(c.all, 95);
    return {
      suite: 'notify',
      name: `run end → each subscriber call, ${label}, p95 (min–max of per-round p95)`,
      unit: 'ms',
      ours: { ...stat(perRound), median: p95 },
      baseline: floor,
      ratio: stat(ratios(perRound, rounds.floor)),
      target: `p95 ≤ ${limit} ms`,
      met: p95 <= limit,
      note: `${RUNS} runs settling within ${stat(c.spreads).median.toFixed(1)} ms (median spread; max ${stat(c.spreads).max.toFixed(1)}), ${SUBSCRIBERS} subscribers, median ${percentile(c.all, 50).toFixed(2)} ms`,
    };
  };
  return [
    row('default pollInterval (10 ms)', byDefault, rounds.byDefault, 12),
    row('pollInterval 0', zero, rounds.zero, 2),
  ];
}
