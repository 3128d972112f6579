// The README's Redis ACL line is enough: with a user made by exactly that line (read from the
// README), an app and a worker run signed jobs, a second app serves the shared result, and a
// refreshing entry keeps its lease and runs again. A command or key the line forgot fails here.
// Skipped when redis-server is not installed (except under CI, where that fails).

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoader } from '../../src/create-loader.js';
import { bullmqExecutor } from '../../src/distributed/bullmq-executor.js';
import { startWorker, type WorkerHandle } from '../../src/distributed/worker-service.js';
import { redisInstalled, RedisServer } from './cluster.js';

const installed = redisInstalled();
const PASSWORD = 'acl-test-password';
const SECRET = 'acl-test-secret';

/** The README's `ACL SETUSER …` line, split into arguments, with the password filled in. */
function readmeAclArgs(): string[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const line = readme.split('\n').find((l) => l.startsWith('ACL SETUSER '));
  if (!line) throw new Error('README.md has no ACL SETUSER line');
  return line.replace('>PASSWORD', `>${PASSWORD}`).split(/\s+/).slice(1);
}

describe.skipIf(!installed)('the README ACL user', { timeout: 60_000 }, () => {
  let redis: RedisServer;
  let worker: WorkerHandle;
  let url: string;

  beforeAll(async () => {
    redis = await RedisServer.start();
    const [user] = readmeAclArgs().slice(1);
    expect(redis.cli('ACL', ...readmeAclArgs())).toBe('OK');
    url = `redis://${user}:${PASSWORD}@127.0.0.1:${redis.port}`;
    worker = startWorker({ connection: url, queue: 'reports', threads: 1, secret: SECRET });
    await worker.ready;
  }, 60_000);

  afterAll(async () => {
    await worker?.close(5_000);
    await redis?.stopAndClean();
  }, 60_000);

  it('runs, shares and refreshes with only the rights the line grants', async () => {
    const executor = () => bullmqExecutor({ connection: url, queue: 'reports', secret: SECRET });
    const a = createLoader({ executor: executor() });
    const b = createLoader({ executor: executor() });
    try {
      const square = a.asyncLoad((n: number) => n * n);
      expect(await square.wait(12)).toBe(144);
      const first = square.state(12);

      const squareB = b.asyncLoad((n: number) => n * n);
      expect(squareB(12)).toBeUndefined();
      expect(await squareB.wait(12)).toBe(144);
      // Served from the shared result, not run again.
      expect(squareB.state(12).startedAt).toBe(first.startedAt);

      const ticking = a.asyncLoad((n: number) => n + 1, { refreshEvery: 200 });
      const runs: number[] = [];
      const heard = new Promise<void>((resolve) => {
        ticking.subscribe((events) => {
          for (const event of events) if (event.startedAt !== undefined) runs.push(event.startedAt);
          if (runs.length >= 3) resolve();
        });
      });
      expect(await ticking.wait(1)).toBe(2);
      await heard;
      expect(new Set(runs).size).toBe(runs.length);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
