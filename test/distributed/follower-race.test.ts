// A refresh that follows another process's lease, when that process's run is announced while
// this refresh is still asking for the lease: the announcement finds no follower yet, and this
// process remembers the run as known. The follower's second look must still take that run (it
// started after what the refresh began with), not wait for the lease to lapse (30 s here).
// Skipped when redis-server is not installed (except under CI, where that fails).

import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLoader, type Loader } from '../../src/create-loader.js';
import { bullmqExecutor } from '../../src/distributed/bullmq-executor.js';
import { Keys } from '../../src/distributed/job.js';
import { Leases } from '../../src/distributed/lease.js';
import type { Outcome } from '../../src/executor.js';
import { redisInstalled, until } from './cluster.js';
import { redisWithWorker } from './in-process.js';

const installed = redisInstalled();
const QUEUE = 'follower-race';
const keys = new Keys(QUEUE);

/** A fresh random value per run, held in flight while the file `gate` exists. */
function held(tag: string, gate: string): string {
  const fs = require('node:fs') as typeof import('node:fs');
  const cell = new Int32Array(new SharedArrayBuffer(4));
  while (fs.existsSync(gate)) Atomics.wait(cell, 0, 0, 5);
  return `${tag}:${Math.random()}`;
}

describe.skipIf(!installed)(
  'a follower whose lease owner ran while it asked for the lease',
  { timeout: 60_000 },
  () => {
    const context = redisWithWorker({ queue: QUEUE, threads: 1 });
    let admin: Redis;
    const loaders: Loader[] = [];
    const gate = join(tmpdir(), `async-load-follower-race-${process.pid}`);

    beforeAll(() => {
      admin = new Redis(context.redis.port, '127.0.0.1');
    });
    afterEach(async () => {
      vi.restoreAllMocks();
      rmSync(gate, { force: true });
      await Promise.all(loaders.splice(0).map((l) => l.close()));
    });
    afterAll(() => admin?.disconnect());

    it('settles with that run, at once, not when the lease lapses', async () => {
      const a = createLoader({ executor: bullmqExecutor({ connection: context.redis.url, queue: QUEUE }) });
      // b's executor, with what it delivers to its loader watched: the announcement of a's run.
      const executor = bullmqExecutor({ connection: context.redis.url, queue: QUEUE });
      let announced!: () => void;
      const announcement = new Promise<void>((resolve) => (announced = resolve));
      const watch = executor.watch!.bind(executor);
      executor.watch = (holds, deliver) =>
        watch(holds, (entry: string, outcome: Outcome) => {
          deliver(entry, outcome);
          announced();
        });
      const b = createLoader({ executor });
      loaders.push(a, b);
      const fa = a.asyncLoad(held);
      const fb = b.asyncLoad(held, { refreshEvery: 1_000 });
      const before = new Set(await admin.keys(keys.result('*')));
      const first = await fb.wait('race', gate);
      const [resultKey] = (await admin.keys(keys.result('*'))).filter((k) => !before.has(k));
      const entry = resultKey!.slice(keys.result('').length);
      expect(await fa.wait('race', gate)).toBe(first);
      // Another process owns the entry's refreshes, for longer than this test waits.
      await admin.set(keys.lease(entry), 'another process', 'PX', 30_000);
      // b's refresh asks for the lease only once a's run has been announced to b.
      const take = Leases.prototype.take;
      vi.spyOn(Leases.prototype, 'take').mockImplementation(async function (this: Leases, id: string) {
        await announcement;
        return take.call(this, id);
      });
      writeFileSync(gate, '');
      fa.refresh('race', gate);
      await until(() => fb.state('race', gate).status === 'running', "b's refresh");
      rmSync(gate);
      const second = await fa.wait('race', gate);
      await until(() => fb.state('race', gate).status === 'complete', "b's refresh to settle", 10_000);
      expect(fb.state('race', gate)).toMatchObject({ value: second, runs: 2 });
    });
  },
);
