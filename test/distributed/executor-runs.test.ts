// Runs through the BullMQ executor with the app and a worker in this process (cluster.test.ts
// runs them as separate processes, from the build): binary arguments, errors that keep their
// class, a job no worker takes within jobExpiry, a job deleted from Redis before it settled,
// jobs that ended with no note (found by the executor's own check), and close() failing the
// runs still pending.

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
      await admin.del(await jobKeyOf(admin, 'deleted'));
      const error = await pending;
      expect(error).toMatchObject({ code: 'ERR_ASYNC_LOAD_RUN_LOST' });
      expect((error as Error).message).toMatch(/^The run's job is gone from Redis before it settled/);
    } finally {
      admin.disconnect();
      await loader.close();
    }
  });

  it.each([
    [
      'completed, its result gone from Redis',
      'ended-gone',
      { returnvalue: '{}' },
      'ERR_ASYNC_LOAD_RUN_LOST',
      /^The run completed but its result is gone from Redis \(expired or deleted\)/,
    ],
    [
      'failed as stalled twice',
      'ended-stalled',
      { failedReason: 'job stalled more than allowable limit' },
      'ERR_ASYNC_LOAD_WORKER_CRASHED',
      /^The run was lost twice with the worker running it \(killed, or it stopped renewing its lock\)/,
    ],
    [
      'failed for another reason',
      'ended-failed',
      { failedReason: 'out of luck' },
      'ERR_ASYNC_LOAD_WORKER_CRASHED',
      /^The job failed on its worker: out of luck$/,
    ],
  ])(
    'settles a run whose job ended with no note (%s) when it checks the job',
    async (_how, queue, fields, code, message) => {
      // No worker on this queue: the job is marked as ended by hand, as BullMQ would, and no note
      // announces it, so only the executor's own check of the job settles the run.
      const loader = createLoader({
        executor: bullmqExecutor({ connection: context.redis.url, queue, sweepInterval: 50 }),
      });
      const admin = new Redis(context.redis.port, '127.0.0.1');
      try {
        const pending = loader
          .asyncLoad((n: number) => n)
          .wait(1)
          .catch((e: unknown) => e);
        await admin.hset(await jobKeyOf(admin, queue), { finishedOn: Date.now(), ...fields });
        const error = await pending;
        expect(error).toMatchObject({ code });
        expect((error as Error).message).toMatch(message);
        if ('failedReason' in fields)
          expect((error as Error).cause).toMatchObject({ message: fields.failedReason });
      } finally {
        admin.disconnect();
        await loader.close();
      }
    },
  );

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

/** The hash of the one job on `queue`, as BullMQ names it (bull:<queue>:<id>), once it is there. */
async function jobKeyOf(admin: Redis, queue: string): Promise<string> {
  let jobKey: string | undefined;
  const own = new RegExp(`^bull:${queue}:[^:]+$`);
  await until(async () => {
    const keys = await admin.keys(`bull:${queue}:*`);
    jobKey = keys.find((k) => own.test(k) && !/:(id|meta|events|wait|marker)$/.test(k));
    return jobKey !== undefined;
  }, 'the job in Redis');
  return jobKey!;
}
