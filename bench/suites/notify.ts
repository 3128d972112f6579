/**
 * notify: from the moment a run finishes on its thread (its own clock reading) to the
 * subscriber's callback on the main thread, with pollInterval 0 and with the default. The
 * original polled every 500 ms; its latency is the wait for the next poll, measured here with
 * the same runs and a 500 ms poller.
 */
import { createLoader, type UpdateEvent } from 'async-load';
import { epochNow, sleep, stat, type Figure } from '../harness.js';

const RUNS = 40;

async function latencies(pollInterval: number): Promise<number[]> {
  const loader = createLoader({ threads: 2, pollInterval });
  const load = loader.asyncLoad((n: number) => n);
  const samples: number[] = [];
  let resolveOne: (() => void) | undefined;
  load.subscribe((events: UpdateEvent<number>[]) => {
    const at = epochNow();
    for (const e of events) samples.push(at - e.finishedAt);
    resolveOne?.();
  });
  await load.wait(-1);
  await sleep(pollInterval + 20);
  samples.length = 0;
  for (let i = 0; i < RUNS; i++) {
    const heard = new Promise<void>((r) => (resolveOne = r));
    load(i);
    await heard;
    await sleep(Math.random() * 5);
  }
  await loader.close();
  return samples;
}

async function originalDesign(): Promise<number[]> {
  // Same runs; completion is noticed by a check every 500 ms, as the original's fragment did.
  const loader = createLoader({ threads: 2, pollInterval: 0 });
  const load = loader.asyncLoad((n: number) => n);
  const samples: number[] = [];
  let watching = -1;
  // One poller for the whole page, as the original's fragment ran on its own schedule.
  const poller = setInterval(() => {
    const s = load.state(watching);
    if (watching >= 0 && s.status === 'complete') {
      samples.push(epochNow() - s.finishedAt!);
      watching = -1;
    }
  }, 500);
  for (let i = 0; i < 10; i++) {
    await sleep(Math.random() * 500);
    watching = i;
    load(i);
    while (samples.length <= i) await sleep(20);
  }
  clearInterval(poller);
  await loader.close();
  return samples;
}

export async function notify(): Promise<Figure[]> {
  const original = stat(await originalDesign());
  // pollInterval, how it is named, and the target median in ms (the interval itself, or 2 ms at 0).
  const settings: [number, string, number][] = [
    [0, 'pollInterval 0', 2],
    [10, 'default pollInterval (10 ms)', 10],
  ];
  const figures: Figure[] = [];
  for (const [interval, label, limit] of settings) {
    const ours = stat(await latencies(interval));
    figures.push({
      suite: 'notify',
      name: `finish → subscriber, ${label}`,
      unit: 'ms',
      ours,
      baseline: { name: 'original 500 ms poll', stat: original },
      ratio: ours.median / original.median,
      target: `median ≤ ${limit} ms`,
      met: ours.median <= limit,
    });
  }
  return figures;
}
