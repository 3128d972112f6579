/**
 * One entry's state machine on its own: what each action does to its state, its waiters, its
 * run and its refresh timer, and the event a settled run produces.
 */
import { describe, expect, it } from 'vitest';
import { deriveKey } from '../src/key.js';
import { Entry } from '../src/entry.js';
import type { Outcome, RunHandle } from '../src/executor.js';
import type { Registration } from '../src/registration.js';

function entry(key?: string): Entry {
  const registration = { prefix: '0|', options: key === undefined ? {} : { key } } as unknown as Registration;
  // A real key text: events rebuild their arguments from it.
  const { text } = deriveKey('0|', [1, 'two']);
  return new Entry(registration, { text, single: undefined }, [1, 'two'], undefined, [1, 'two'], false);
}

/** A run handle that records cancellation and reports a start time once set. */
function handle(): RunHandle & { cancelled: Error[]; started: number | undefined } {
  const h = {
    cancelled: [] as Error[],
    started: undefined as number | undefined,
    startedAt: () => h.started,
    cancel: (reason: Error) => {
      h.cancelled.push(reason);
    },
  };
  return h;
}

const ok = (value: unknown, startedAt: number | undefined, finishedAt: number): Outcome =>
  startedAt === undefined
    ? { ok: false, error: new Error('never started'), startedAt, finishedAt }
    : { ok: true, value, startedAt, finishedAt };

describe('dispatch', () => {
  it('starts idle, with no runs', () => {
    expect(entry().state()).toEqual({
      status: 'idle',
      value: undefined,
      error: undefined,
      startedAt: undefined,
      finishedAt: undefined,
      runs: 0,
    });
  });

  it('start: running, the previous run times cleared, startedAt read from the run while it runs', () => {
    const e = entry();
    const first = handle();
    e.dispatch({ type: 'start', run: first });
    e.dispatch({ type: 'settle', outcome: ok('a', 100, 150) });
    const second = handle();
    e.dispatch({ type: 'start', run: second });
    expect(e.state()).toMatchObject({
      status: 'running',
      value: 'a',
      startedAt: undefined,
      finishedAt: undefined,
      runs: 1,
    });
    second.started = 200;
    expect(e.state().startedAt).toBe(200);
  });

  it('settle ok: complete, value, times, one more run, waiters resolved, an earlier failure cleared', async () => {
    const e = entry();
    e.dispatch({ type: 'start', run: handle() });
    e.dispatch({
      type: 'settle',
      outcome: { ok: false, error: new Error('bad'), startedAt: 1, finishedAt: 2 },
    });
    e.dispatch({ type: 'start', run: handle() });
    const waiting = [e.waitForRun(), e.waitForRun()];
    e.dispatch({ type: 'settle', outcome: ok('v', 10, 25) });
    await expect(Promise.all(waiting)).resolves.toEqual(['v', 'v']);
    expect(e.failure).toBeUndefined();
    expect(e.run).toBeUndefined();
    expect(e.state()).toEqual({
      status: 'complete',
      value: 'v',
      error: undefined,
      startedAt: 10,
      finishedAt: 25,
      runs: 2,
    });
  });

  it('settle error: error status and error, the last good value kept, waiters rejected', async () => {
    const e = entry();
    e.dispatch({ type: 'start', run: handle() });
    e.dispatch({ type: 'settle', outcome: ok('good', 1, 2) });
    e.dispatch({ type: 'start', run: handle() });
    const waiting = e.waitForRun();
    const error = new Error('bad');
    e.dispatch({ type: 'settle', outcome: { ok: false, error, startedAt: 3, finishedAt: 4 } });
    await expect(waiting).rejects.toBe(error);
    expect(e.failure).toEqual({ error });
    expect(e.state()).toEqual({
      status: 'error',
      value: 'good',
      error,
      startedAt: 3,
      finishedAt: 4,
      runs: 2,
    });
  });

  it('reports no error while a run after a failed one is in flight (calls still throw it)', () => {
    const e = entry();
    e.dispatch({ type: 'start', run: handle() });
    const error = new Error('bad');
    e.dispatch({ type: 'settle', outcome: { ok: false, error, startedAt: 1, finishedAt: 2 } });
    e.dispatch({ type: 'start', run: handle() });
    expect(e.state()).toMatchObject({ status: 'running', error: undefined });
    expect(e.failure).toEqual({ error });
  });

  it('waiters of one run do not hear the next one', async () => {
    const e = entry();
    e.dispatch({ type: 'start', run: handle() });
    const first = e.waitForRun();
    e.dispatch({ type: 'settle', outcome: ok(1, 1, 2) });
    e.dispatch({ type: 'start', run: handle() });
    const second = e.waitForRun();
    e.dispatch({ type: 'settle', outcome: ok(2, 3, 4) });
    await expect(first).resolves.toBe(1);
    await expect(second).resolves.toBe(2);
  });

  it('remove with an error: run cancelled with it, waiters rejected, refresh stopped', async () => {
    const e = entry();
    const run = handle();
    e.dispatch({ type: 'start', run });
    const cancelledTimers: number[] = [];
    e.refreshTimer = { cancel: () => cancelledTimers.push(1) };
    const waiting = e.waitForRun();
    const error = new Error('cleared');
    e.dispatch({ type: 'remove', error });
    await expect(waiting).rejects.toBe(error);
    expect(run.cancelled).toEqual([error]);
    expect(cancelledTimers).toHaveLength(1);
    expect(e.refreshTimer).toBeUndefined();
    expect(e.removed).toBe(true);
  });

  it('remove without an error (expiry): the run goes on and its waiters still get its outcome', async () => {
    const e = entry();
    const run = handle();
    e.dispatch({ type: 'start', run });
    let timerCancelled = false;
    e.refreshTimer = { cancel: () => (timerCancelled = true) };
    const waiting = e.waitForRun();
    e.dispatch({ type: 'remove', error: undefined });
    expect(run.cancelled).toEqual([]);
    expect(timerCancelled).toBe(true);
    expect(e.removed).toBe(true);
    e.dispatch({ type: 'settle', outcome: ok('late', 1, 2) });
    await expect(waiting).resolves.toBe('late');
  });
});

describe('event', () => {
  it('describes a complete run: key, args, value, times, duration, runs', () => {
    const e = entry('k');
    e.dispatch({ type: 'start', run: handle() });
    e.dispatch({ type: 'settle', outcome: ok('v', 100, 130) });
    expect(e.event()).toEqual({
      key: 'k',
      args: [1, 'two'],
      status: 'complete',
      value: 'v',
      error: undefined,
      startedAt: 100,
      finishedAt: 130,
      duration: 30,
      runs: 1,
    });
  });

  it('describes a failed run with its error and the last good value; no duration if it never started', () => {
    const e = entry();
    e.dispatch({ type: 'start', run: handle() });
    e.dispatch({ type: 'settle', outcome: ok('good', 1, 2) });
    e.dispatch({ type: 'start', run: handle() });
    e.dispatch({ type: 'settle', outcome: ok(undefined, undefined, 50) });
    const event = e.event();
    expect(event).toMatchObject({
      key: undefined,
      status: 'error',
      value: 'good',
      startedAt: undefined,
      finishedAt: 50,
      runs: 2,
    });
    expect(event.duration).toBeUndefined();
    expect(event.error).toBeInstanceOf(Error);
  });
});
