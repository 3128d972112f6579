/**
 * refresh: refreshEvery 100 ms with runs of 30 ms, 50 refreshes. Each start is compared with
 * its schedule (previous actual start + 100 ms); and the 50th start with first start + 49 x
 * 100 ms (drift). For comparison, the original's design on the same schedule: a check every
 * interval/3 that fires once now >= last start + interval - 200 ms.
 */
import { createLoader, type UpdateEvent } from 'async-load';
import { percentile, sleep, stat, type Figure } from '../harness.js';

const EVERY = 100;
const REFRESHES = 50;

export async function refresh(): Promise<Figure[]> {
  const loader = createLoader({ threads: 2, pollInterval: 0 });
  const load = loader.asyncLoad(
    (ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end);
      return ms;
    },
    { refreshEvery: EVERY },
  );
  const starts: number[] = [];
  const done = new Promise<void>((resolve) =>
    load.subscribe((events: UpdateEvent<number>[]) => {
      for (const e of events) starts.push(e.startedAt!);
      if (starts.length >= REFRESHES + 1) resolve();
    }),
  );
  // Refresh timers never hold the process open (by design); this wait must.
  const keepAlive = setInterval(() => undefined, 1000);
  load(30);
  await done;
  clearInterval(keepAlive);
  await loader.close();
  const errors = starts.slice(1, REFRESHES + 1).map((s, i) => Math.abs(s - (starts[i]! + EVERY)));
  const drift = Math.abs(starts[REFRESHES - 1]! - (starts[0]! + (REFRESHES - 1) * EVERY));

  // The original's design, same runs on the same pool, driven by its own polling rule.
  const original = createLoader({ threads: 2, pollInterval: 0 });
  const once = original.asyncLoad((ms: number, _n: number) => {
    const end = Date.now() + ms;
    while (Date.now() < end);
    return ms;
  });
  const oStarts: number[] = [];
  let initTime = 0;
  let running = false;
  for (let n = 0; oStarts.length < 20; n++) {
    await sleep(EVERY / 3);
    if (!running && Date.now() >= initTime + EVERY - 200) {
      running = true;
      initTime = Date.now();
      once.wait(30, n).then(
        () => {
          oStarts.push(once.state(30, n).startedAt!);
          running = false;
        },
        () => undefined,
      );
    }
  }
  await original.close();
  const oErrors = oStarts.slice(1).map((s, i) => Math.abs(s - (oStarts[i]! + EVERY)));

  const p95 = percentile(errors, 95);
  return [
    {
      suite: 'refresh',
      name: 'distance of each start from its schedule, p95 over 50 (min–max)',
      unit: 'ms',
      ours: { ...stat(errors), median: p95 },
      baseline: {
        name: "original's design, p95",
        stat: { ...stat(oErrors), median: percentile(oErrors, 95) },
      },
      ratio: p95 / percentile(oErrors, 95),
      target: 'p95 ≤ 5 ms',
      met: p95 <= 5,
    },
    {
      suite: 'refresh',
      name: '50th start − (first + 49 × 100 ms)',
      unit: 'ms',
      ours: { median: drift, min: drift, max: drift },
      target: '≤ 10 ms',
      met: drift <= 10,
    },
  ];
}
