// Redis stops while a run is in flight, with the app and a worker in this process (cluster.test.ts
// does the same across processes, from the build): the pending run fails with
// RedisUnavailableError once Redis has not answered for unavailableAfter, not before; a call
// made while Redis is down fails at once; once Redis is back, work resumes by itself.
// Skipped when redis-server is not installed (except under CI, where that fails).

import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLoader } from '../../src/create-loader.js';
import { bullmqExecutor } from '../../src/distributed/bullmq-executor.js';
import { redisInstalled, until } from './cluster.js';
import { redisWithWorker } from './in-process.js';

const installed = redisInstalled();
const UNAVAILABLE_AFTER = 1_000;

/** Returns `tag`, once the file `gate` is gone. */
function held(tag: string, gate: string): string {
  const fs = require('node:fs') as typeof import('node:fs');
  const cell = new Int32Array(new SharedArrayBuffer(4));
  while (fs.existsSync(gate)) Atomics.wait(cell, 0, 0, 5);
  return tag;
}

describe.skipIf(!installed)('Redis stopped under a run', { timeout: 90_000 }, () => {
  const context = redisWithWorker({ queue: 'down', threads: 1 });
  const gate = join(tmpdir(), `async-load-redis-down-${process.pid}`);

  afterAll(() => rmSync(gate, { force: true }));

  it('fails the pending run after unavailableAfter, a new call at once, and works again once Redis is back', async () => {
    const loader = createLoader({
      executor: bullmqExecutor({
        connection: context.redis.url,
        queue: 'down',
        unavailableAfter: UNAVAILABLE_AFTER,
        sweepInterval: 50,
      }),
    });
    try {
      const load = loader.asyncLoad(held);
      writeFileSync(gate, '');
      const pending = load.wait('in flight', gate).catch((e: unknown) => e);
      await until(() => load.state('in flight', gate).status === 'running', 'the run to be submitted');
      // Pending for longer than unavailableAfter before Redis stops: the bound counts from
      // Redis's last answer, not from the run's start. (A wait in real time: that is the point.)
      await new Promise((resolve) => setTimeout(resolve, UNAVAILABLE_AFTER * 1.5));
      const stoppedAt = Date.now();
      context.redis.stop();
      const error = await pending;
      const failedAfter = Date.now() - stoppedAt;
      expect(error).toMatchObject({
        name: 'RedisUnavailableError',
        code: 'ERR_ASYNC_LOAD_REDIS_UNAVAILABLE',
      });
      expect(failedAfter).toBeGreaterThanOrEqual(UNAVAILABLE_AFTER - 100);
      // A call while Redis is down fails at once, not after unavailableAfter.
      const calledAt = Date.now();
      const down = await load.wait('while down', gate).catch((e: unknown) => e);
      expect(down).toMatchObject({ code: 'ERR_ASYNC_LOAD_REDIS_UNAVAILABLE' });
      expect(Date.now() - calledAt).toBeLessThan(UNAVAILABLE_AFTER * 0.8);
      rmSync(gate);
      await context.redis.restart();
      let attempt = 0;
      await until(
        async () => {
          const tag = `after-${attempt++}`;
          const value = await load.wait(tag, gate).catch(() => undefined);
          if (value !== undefined) expect(value).toBe(tag);
          return value !== undefined;
        },
        'work to resume after Redis restarted',
        60_000,
      );
    } finally {
      await loader.close();
    }
  });
});
