/**
 * A refresh handed over before its scheduled start while every thread is busy is held back by
 * the executor and queued at its start: it neither starts early nor holds a thread (waiting for
 * its time) while runs queued after it could go. Real threads, executor level, so the start
 * time is chosen directly; the busy run waits for a file.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, vi } from 'vitest';
import { now } from '../src/clock.js';
import type { Outcome } from '../src/executor.js';
import { resolveLoaderOptions } from '../src/options.js';
import { PoolExecutor } from '../src/pool-executor.js';
import { watchHostErrors } from './helpers.js';

watchHostErrors();

const block = `(startedAt, releaseAt) => {
  const fs = require('node:fs');
  fs.writeFileSync(startedAt, '');
  const nap = new Int32Array(new SharedArrayBuffer(4));
  while (!fs.existsSync(releaseAt)) Atomics.wait(nap, 0, 0, 2);
  return 'released';
}`;

it('a refresh due while every thread is busy lets runs queued after it go first, and starts on time', async () => {
  const executor = new PoolExecutor(resolveLoaderOptions({ threads: 1, onError: () => undefined }));
  const submit = (source: string, args: unknown[], notBefore?: number): Promise<Outcome> =>
    new Promise((resolve) =>
      executor.submit({ fn: { kind: 'inline', source }, args, encoded: false, notBefore }, resolve),
    );
  try {
    const dir = mkdtempSync(join(tmpdir(), 'async-load-busy-'));
    const started = join(dir, 'started');
    const release = join(dir, 'release');
    const busy = submit(block, [started, release]);
    await vi.waitFor(() => expect(existsSync(started)).toBe(true), { timeout: 20_000, interval: 5 });
    // Due well after the 100 ms a thread may wait for a start (so a thread handed the refresh
    // early starts it early), with a wide margin for a slow machine; queued before `other`.
    const due = now() + 1500;
    const refresh = submit('(n) => n', [1], due);
    const other = submit('(n) => n', [2]);
    writeFileSync(release, '');
    expect(await busy).toMatchObject({ ok: true, value: 'released' });
    const [r, o] = await Promise.all([refresh, other]);
    expect(o).toMatchObject({ ok: true, value: 2 });
    expect(r).toMatchObject({ ok: true, value: 1 });
    expect(r.startedAt!).toBeGreaterThanOrEqual(due);
    // The run queued after the refresh did not wait for the refresh's start.
    expect(o.startedAt!).toBeLessThan(r.startedAt!);
    expect(o.startedAt!).toBeLessThan(due);
  } finally {
    await executor.close();
  }
});

it('close() fails a held-back refresh with the others, and it never runs', async () => {
  const executor = new PoolExecutor(resolveLoaderOptions({ threads: 1, onError: () => undefined }));
  const dir = mkdtempSync(join(tmpdir(), 'async-load-busy-'));
  const started = join(dir, 'started');
  const outcomes: Outcome[] = [];
  executor.submit(
    { fn: { kind: 'inline', source: block }, args: [started, join(dir, 'never')], encoded: false },
    (o) => outcomes.push(o),
  );
  await vi.waitFor(() => expect(existsSync(started)).toBe(true), { timeout: 20_000, interval: 5 });
  const held = new Promise<Outcome>((resolve) =>
    executor.submit(
      { fn: { kind: 'inline', source: '(n) => n' }, args: [1], encoded: false, notBefore: now() + 60_000 },
      resolve,
    ),
  );
  await executor.close();
  const outcome = await held;
  expect(outcome.ok).toBe(false);
  expect((outcome as { error: Error }).error.name).toBe('LoaderClosedError');
  expect(outcome.startedAt).toBeUndefined();
});

it('a refresh due while thousands of calls wait goes before them', async () => {
  const { createLoader } = await import('../src/index.js');
  const l = createLoader({ threads: 2, maxEntries: 1e6, pollInterval: 0 });
  try {
    const refreshing = l.asyncLoad((k: string) => k, { refreshEvery: 300 });
    const calls = l.asyncLoad((x: number) => {
      const end = performance.now() + 0.2;
      while (performance.now() < end);
      return x;
    });
    const starts: number[] = [];
    refreshing.subscribe((events) => {
      for (const e of events) starts.push(e.startedAt!);
    });
    await refreshing.wait('r');
    const first = refreshing.state('r').startedAt!;
    // About 4 s of work for 2 threads, queued at once, before the refresh falls due.
    const backlog = Promise.all(Array.from({ length: 40_000 }, (_, i) => calls.wait(i)));
    await vi.waitFor(() => expect(starts.length).toBeGreaterThanOrEqual(2), {
      timeout: 30_000,
      interval: 20,
    });
    const backlogEnded = await backlog.then(() => now());
    // Started early in the backlog (behind it, it would have started as the backlog's last
    // runs did, at its very end).
    expect(starts[1]! - first).toBeLessThan((backlogEnded - first) / 2);
    expect(starts[1]! - first).toBeGreaterThanOrEqual(299);
  } finally {
    await l.close();
  }
  // About 6 s here; more under mutation testing's instrumentation, whose default is 10 s.
}, 60_000);
