// Jobs a worker refuses, as the app sees them, in process: a job signed with another secret, or
// not signed for a worker that requires it, fails its run with JobRefusedError carrying the
// worker's reason (the announced failure, mapped by the executor), and the entry
// holds the error, with no start time: nothing of it ran.
// Skipped when redis-server is not installed (except under CI, where that fails).

import { describe, expect, it } from 'vitest';
import { createLoader } from '../../src/create-loader.js';
import { bullmqExecutor } from '../../src/distributed/bullmq-executor.js';
import { JobRefusedError } from '../../src/errors.js';
import { redisInstalled } from './cluster.js';
import { redisWithWorker } from './in-process.js';

const installed = redisInstalled();

describe.skipIf(!installed)('jobs the worker refuses', { timeout: 60_000 }, () => {
  const context = redisWithWorker({ queue: 'signed', threads: 1, secret: "the worker's secret" });

  it.each([
    [
      'signed with another secret',
      'another secret',
      'its signature does not match (tampered with, or signed with another secret)',
    ],
    ['not signed', undefined, 'it is not signed and this worker requires signed jobs'],
  ])('a job %s fails its run with JobRefusedError and the reason', async (_how, secret, reason) => {
    const loader = createLoader({
      executor: bullmqExecutor({
        connection: context.redis.url,
        queue: 'signed',
        ...(secret !== undefined && { secret }),
      }),
    });
    try {
      const load = loader.asyncLoad((n: number) => n + 1);
      const error = await load.wait(1).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JobRefusedError);
      expect(error).toMatchObject({ code: 'ERR_ASYNC_LOAD_JOB_REFUSED' });
      expect((error as Error).message).toBe(`async-load refused the job: ${reason}`);
      expect(load.state(1)).toMatchObject({ status: 'error', value: undefined, startedAt: undefined });
    } finally {
      await loader.close();
    }
  });
});
