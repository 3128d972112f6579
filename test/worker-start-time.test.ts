/**
 * A run with a start time (a refresh, `notBefore`) waits on its thread until then, at most
 * MAX_START_WAIT_MS, and reports when it reached the thread (`arrivedAt`, from which the
 * coordinator learns how early to hand refreshes over); a run without one neither waits nor
 * reports it. Executor level, so the start time is chosen directly.
 */
import { afterAll, expect, it } from 'vitest';
import { now } from '../src/clock.js';
import type { Outcome } from '../src/executor.js';
import { resolveLoaderOptions } from '../src/options.js';
import { PoolExecutor } from '../src/pool-executor.js';
import { MAX_START_WAIT_MS } from '../src/protocol.js';
import { watchHostErrors } from './helpers.js';

watchHostErrors();

const executor = new PoolExecutor(resolveLoaderOptions({ threads: 1, onError: () => undefined }));
afterAll(() => executor.close());
const submit = (notBefore?: number): Promise<Outcome> =>
  new Promise((resolve) =>
    executor.submit(
      { fn: { kind: 'inline', source: '(n) => n' }, args: [1], encoded: false, notBefore },
      resolve,
    ),
  );

it('without a start time: no arrival reported', async () => {
  const outcome = await submit();
  expect(outcome).toMatchObject({ ok: true, value: 1 });
  expect(outcome.arrivedAt).toBeUndefined();
});

it('a start time already past: starts at once, and reports its arrival', async () => {
  const outcome = await submit(now() - 1000);
  expect(outcome.ok).toBe(true);
  expect(outcome.arrivedAt).toBeTypeOf('number');
  expect(outcome.arrivedAt!).toBeLessThanOrEqual(outcome.startedAt!);
  // No wait: far less than the longest a thread may wait for a start.
  expect(outcome.startedAt! - outcome.arrivedAt!).toBeLessThan(MAX_START_WAIT_MS / 2);
});

it('a start time a little ahead: the thread waits for it', async () => {
  const due = now() + 40;
  const outcome = await submit(due);
  expect(outcome.ok).toBe(true);
  expect(outcome.startedAt!).toBeGreaterThanOrEqual(due);
  expect(outcome.arrivedAt!).toBeLessThanOrEqual(outcome.startedAt!);
});
