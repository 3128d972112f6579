/**
 * Refreshes on real threads never start before their scheduled time: the coordinator hands a
 * refresh over a little early and the thread waits out the rest. Only a lower bound is checked
 * (how late a start is depends on the machine); the schedule is rebuilt from the starts the
 * events report, by the documented rule: the next refresh is due `refreshEvery` after the
 * scheduled start when the run started at most 1/40 of the interval (1 ms here) after it, else
 * after its actual start.
 */
import { afterAll, expect, it } from 'vitest';
import { createLoader, type UpdateEvent } from '../src/index.js';
import { watchHostErrors } from './helpers.js';

const loader = createLoader({ threads: 1, pollInterval: 0 });
afterAll(() => loader.close());
watchHostErrors();

const EVERY = 40;
const RUNS = 6;

it('starts no refresh before its scheduled time', async () => {
  const tick = loader.asyncLoad((n: number) => n, { refreshEvery: EVERY });
  const starts: number[] = [];
  let done!: () => void;
  const enough = new Promise<void>((resolve) => (done = resolve));
  const unsubscribe = tick.subscribe((events: UpdateEvent<number>[]) => {
    for (const event of events) if (event.startedAt !== undefined) starts.push(event.startedAt);
    if (starts.length >= RUNS) done();
  });
  tick(1);
  await enough;
  unsubscribe();
  tick.clear();
  let anchor = starts[0]!;
  for (const start of starts.slice(1, RUNS)) {
    const due = anchor + EVERY;
    // 0.2 ms for the clocks the two threads read.
    expect(start).toBeGreaterThanOrEqual(due - 0.2);
    anchor = start - due <= 1 ? due : start;
  }
});
