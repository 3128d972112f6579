// Runs through the BullMQ executor with the app and a worker in this process (cluster.test.ts
// runs them as separate processes, from the build): binary arguments, errors that keep their
// class, a job no worker takes within jobExpiry, a job deleted from Redis before it settled,
// and close() failing the runs still pending.

import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createLoader } from '../../src/create-loader.js';
import { bullmqExecutor } from '../../src/distributed/bullmq-executor.js';
import { redisInstalled, until } from './cluster.js';
import { redisWithWorker } from './in-process.js';

const installed = redisInstalled();

describe.skipIf(!installed)('runs through the BullMQ executor', { timeout: 60_000 }, () => {
  const context = redisWithWorker({ queue: 'runs', threads: 1 });

  it('carries binary arguments and results, and errors with their class', async () => {
    const loader = createLoader({
      executor: bullmqExecutor({ connection: context.redis.url, queue: 'runs' }),
    });
    try {
      const sum = loader.asyncLoad((a: Uint8Array, b: Float64Array) => {
        let total = 0;
        for (const x of a) total += x;
        for (const x of b) total += x;
        return { total, bytes: new Uint8Array([total % 256]) };
      });
      expect(await sum.wait(new Uint8Array([1, 2, 250]), new Float64Array([0.5, 0.25]))).toEqual({
        total: 253.75,
        bytes: new Uint8Array([253]),
      });
      const fail = loader.asyncLoad((why: string) => {
        throw new RangeError(why);
      });
      const error = await fail.wait('too far').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RangeError);
      expect((error as Error).message).toBe('too far');
    } finally {
      await loader.close();
    }
  });

  it('fails a run whose job no worker took within jobExpiry, naming the limit', async () => {
    const loader = createLoader({
      executor: bullmqExecutor({
        connection: context.redis.url,
        queue: 'nobody',
        jobExpiry: 300,
        sweepInterval: 50,
      }),
    });
    try {
      const idle = loader.asyncLoad((n: number) => n);
      const error = await idle.wait(1).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'ERR_ASYNC_LOAD_RUN_LOST' });
      expect((error as Error).message).toMatch(/^No worker took the run's job within jobExpiry \(300 ms\)/);
    } finally {
      await loader.close();
    }
  });

  it('fails a run whose job was deleted from Redis before it settled', async () => {
    const loader = createLoader({
      executor: bullmqExecutor({ connection: context.redis.url, queue: 'deleted', sweepInterval: 50 }),
    });
    const admin = new Redis(context.redis.port, '127.0.0.1');
    try {
      const idle = loader.asyncLoad((n: number) => n);
      const pending = idle.wait(1).catch((e: unknown) => e);
      // The job's hash, as BullMQ names it (bull:<queue>:<id>), once it is there.
      let jobKey: string | undefined;
      await until(async () => {
        const keys = await admin.keys('bull:deleted:*');
        jobKey = keys.find(
          (k) => /^bull:deleted:[^:]+$/.test(k) && !/:(id|meta|events|wait|marker)$/.test(k),
        );
        return jobKey !== undefined;
      }, 'the job in Redis');
      await admin.del(jobKey!);
      const error = await pending;
      expect(error).toMatchObject({ code: 'ERR_ASYNC_LOAD_RUN_LOST' });
      expect((error as Error).message).toMatch(/^The run's job is gone from Redis before it settled/);
    } finally {
      admin.disconnect();
      await loader.close();
    }
  });

  it('close() fails the runs still pending with LoaderClosedError', async () => {
    const loader = createLoader({
      executor: bullmqExecutor({ connection: context.redis.url, queue: 'never' }),
    });
    const idle = loader.asyncLoad((n: number) => n);
    const pending = [1, 2].map((n) => idle.wait(n).catch((e: unknown) => e));
    await loader.close();
    for (const error of await Promise.all(pending))
      expect(error).toMatchObject({ code: 'ERR_ASYNC_LOAD_CLOSED' });
  });
});
