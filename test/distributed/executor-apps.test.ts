// Two apps on one Redis, in this process (cluster.test.ts runs them as separate processes, from
// the build, where no mutation run reaches them): an app that holds an entry hears the other
// app's runs of it, whether the outcome travels in the note or is read from Redis; notes that
// bring nothing new are not delivered; a refresh whose lease another process holds waits for
// that process's run and settles with it, and runs itself once the lease lapses.
// Skipped when redis-server is not installed (except under CI, where that fails).

import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLoader } from '../../src/create-loader.js';
import { bullmqExecutor } from '../../src/distributed/bullmq-executor.js';
import { Keys } from '../../src/distributed/job.js';
import type { Loader } from '../../src/create-loader.js';
import type { UpdateEvent } from '../../src/entry.js';
import { redisInstalled, until } from './cluster.js';
import { redisWithWorker } from './in-process.js';

const installed = redisInstalled();
const QUEUE = 'apps';
const keys = new Keys(QUEUE);

/**
 * A fresh random number per run, padded to `size` characters (past 16 KiB the outcome is not
 * carried in the note). Held in flight while the file `gate` exists.
 */
function pick(tag: string, size: number, gate: string): string {
  const fs = require('node:fs') as typeof import('node:fs');
  const cell = new Int32Array(new SharedArrayBuffer(4));
  while (fs.existsSync(gate)) Atomics.wait(cell, 0, 0, 5);
  return `${tag}:${Math.random()}`.padEnd(size, '.');
}

describe.skipIf(!installed)('two apps on one Redis', { timeout: 60_000 }, () => {
  const context = redisWithWorker({ queue: QUEUE, threads: 1 });
  let admin: Redis;
  const loaders: Loader[] = [];
  const gate = join(tmpdir(), `async-load-apps-${process.pid}`);

  /** An app: a loader on its own executor. */
  function app(options: { leasePeriod?: number } = {}): Loader {
    const loader = createLoader({
      executor: bullmqExecutor({ connection: context.redis.url, queue: QUEUE, ...options }),
    });
    loaders.push(loader);
    return loader;
  }

  /** Runs `first`, and returns the id of the one entry it added to Redis. */
  async function entryOf(first: () => Promise<unknown>): Promise<string> {
    const before = new Set(await admin.keys(keys.result('*')));
    await first();
    const added = (await admin.keys(keys.result('*'))).filter((k) => !before.has(k));
    expect(added).toHaveLength(1);
    return added[0]!.slice(keys.result('').length);
  }

  beforeAll(() => {
    admin = new Redis(context.redis.port, '127.0.0.1');
  });

  afterEach(async () => {
    rmSync(gate, { force: true });
    await Promise.all(loaders.splice(0).map((l) => l.close()));
  });

  afterAll(() => admin?.disconnect());

  it.each([
    ['in the note', 10],
    ['read from Redis', 20_000],
  ])('an app holding an entry hears the other app run it (outcome %s)', async (_how, size) => {
    const a = app().asyncLoad(pick);
    const b = app().asyncLoad(pick);
    const first = await a.wait('heard', size, gate);
    // First sight in b: a's shared result is served, nothing runs again.
    expect(await b.wait('heard', size, gate)).toBe(first);
    expect(b.state('heard', size, gate)).toMatchObject({ status: 'complete', runs: 1 });
    const heard: UpdateEvent<string>[] = [];
    b.subscribe((events) => heard.push(...events));
    a.refresh('heard', size, gate);
    const second = await a.wait('heard', size, gate);
    expect(second).not.toBe(first);
    await until(() => heard.length > 0, "b's update");
    expect(heard).toHaveLength(1);
    expect(heard[0]).toMatchObject({ status: 'complete', value: second, runs: 2 });
    expect(b('heard', size, gate)).toBe(second);
  });

  it("two wrappers of one entry in an app both hear the other app's run, once each", async () => {
    const loader = app();
    const a1 = loader.asyncLoad(pick);
    const a2 = loader.asyncLoad(pick);
    const b = app().asyncLoad(pick);
    const first = await a1.wait('twice', 10, gate);
    // One entry in the app: the second wrapper is served the first one's result, with no run.
    expect(await a2.wait('twice', 10, gate)).toBe(first);
    expect(await b.wait('twice', 10, gate)).toBe(first);
    const heard: [string, UpdateEvent<string>][] = [];
    a1.subscribe((events) => heard.push(...events.map((e) => ['a1', e] as [string, UpdateEvent<string>])));
    a2.subscribe((events) => heard.push(...events.map((e) => ['a2', e] as [string, UpdateEvent<string>])));
    b.refresh('twice', 10, gate);
    const second = await b.wait('twice', 10, gate);
    expect(second).not.toBe(first);
    await until(() => heard.length >= 2, "the wrappers' updates");
    expect(heard.map(([who, e]) => [who, e.value]).sort()).toEqual([
      ['a1', second],
      ['a2', second],
    ]);
    for (const wrapper of [a1, a2]) {
      expect(wrapper('twice', 10, gate)).toBe(second);
      expect(wrapper.state('twice', 10, gate)).toMatchObject({ status: 'complete', runs: 2 });
    }
  });

  it('notes that bring nothing new are not delivered', async () => {
    const a = app().asyncLoad(pick);
    const b = app().asyncLoad(pick);
    const entry = await entryOf(() => a.wait('notes', 10, gate));
    const first = await b.wait('notes', 10, gate);
    const known = JSON.parse((await admin.hget(keys.result(entry), 'meta'))!) as { run: string };
    const heard: UpdateEvent<string>[] = [];
    b.subscribe((events) => heard.push(...events));
    const notes = [
      'not JSON',
      JSON.stringify({ entry: 5, run: 'r1' }),
      JSON.stringify({ entry, run: 5 }),
      JSON.stringify({ entry, run: 'r2', failed: 'a failure of a run nobody here waits for' }),
      JSON.stringify({ entry: 'an entry nobody here holds', run: 'r3' }),
      // The run b already has, with and without its outcome.
      JSON.stringify({ entry, run: known.run }),
      // Runs b does not know, whose outcome is not (well) in the note: what Redis holds is read,
      // and it is the run b has.
      JSON.stringify({ entry, run: 'r4' }),
      JSON.stringify({ entry, run: 'r5', text: 5, meta: { run: 'r5', ok: true, finishedAt: 1 } }),
      JSON.stringify({ entry, run: 'r6', text: '"x"', meta: 'not an object' }),
      JSON.stringify({ entry, run: 'r7', text: '"x"' }),
    ];
    for (const note of notes) await admin.publish(keys.settled(), note);
    // Then a run that is new: the only one b hears.
    a.refresh('notes', 10, gate);
    const second = await a.wait('notes', 10, gate);
    await until(() => heard.length > 0, "b's update");
    expect(heard.map((e) => e.value)).toEqual([second]);
    expect(second).not.toBe(first);
    expect(b.state('notes', 10, gate)).toMatchObject({ status: 'complete', value: second, runs: 2 });
  });

  it("a refresh whose lease another process holds settles with that process's run", async () => {
    const a = app().asyncLoad(pick);
    const b = app().asyncLoad(pick, { refreshEvery: 1_000 });
    const entry = await entryOf(() => b.wait('follow', 10, gate));
    await a.wait('follow', 10, gate);
    // Another process owns the entry's refreshes, for longer than this test waits.
    await admin.set(keys.lease(entry), 'another process', 'PX', 30_000);
    // a's run is held in flight until b's refresh is due and waits for the lease's owner.
    writeFileSync(gate, '');
    a.refresh('follow', 10, gate);
    await until(() => b.state('follow', 10, gate).status === 'running', "b's refresh");
    rmSync(gate);
    const second = await a.wait('follow', 10, gate);
    // b's refresh settles with a's run: b ran nothing itself, and did not wait for the lease.
    await until(() => b.state('follow', 10, gate).status === 'complete', "b's refresh to settle", 15_000);
    expect(b.state('follow', 10, gate)).toMatchObject({ value: second, runs: 2 });
  });

  it('a refresh whose lease lapses without a run runs itself once it has lapsed', async () => {
    const b = app().asyncLoad(pick, { refreshEvery: 300 });
    const entry = await entryOf(() => b.wait('lapse', 10, gate));
    const first = b('lapse', 10, gate);
    // Another process took the lease, and stops (it never runs the entry, never renews).
    const lapsesAt = Date.now() + 1_500;
    await admin.set(keys.lease(entry), 'a process that stopped', 'PX', 1_500);
    await until(() => b.state('lapse', 10, gate).runs === 2, "b's own refresh", 15_000);
    const state = b.state('lapse', 10, gate);
    expect(state.value).not.toBe(first);
    // Not before the lease lapsed (a small allowance for the two clocks' readings).
    expect(state.startedAt).toBeGreaterThanOrEqual(lapsesAt - 50);
    expect(await admin.get(keys.lease(entry))).not.toBe('a process that stopped');
  });
});
