// Workers run source text read from Redis: with a secret they refuse unsigned, tampered and
// expired jobs; --modules-only refuses inline source; --allow restricts module locations.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue, QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFUSED, type JobData } from '../../src/distributed/job.js';
import { sign } from '../../src/distributed/signing.js';
import { AppProcess, ensureBuilt, jobData, redisInstalled, RedisServer, WorkerProcess } from './cluster.js';

const installed = redisInstalled();
const SECRET = 'correct horse battery staple';
const ALLOWED = fileURLToPath(new URL('./fixtures/allowed/', import.meta.url));

describe.skipIf(!installed)('signed jobs and worker policies', { timeout: 120_000 }, () => {
  let redis: RedisServer;
  const workers: WorkerProcess[] = [];
  const apps: AppProcess[] = [];
  let dir: string;

  async function app(env: Record<string, string>): Promise<AppProcess> {
    const a = await AppProcess.start(redis, env);
    apps.push(a);
    return a;
  }

  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'async-load-sec-'));
    redis = await RedisServer.start();
    workers.push(
      ...(await Promise.all([
        WorkerProcess.start(redis, ['--queue', 'signed'], { ASYNC_LOAD_SECRET: SECRET }),
        WorkerProcess.start(redis, ['--queue', 'modules', '--modules-only', '--allow', ALLOWED]),
      ])),
    );
  }, 120_000);

  afterAll(async () => {
    await Promise.all([...apps.map((a) => a.close()), ...workers.map((w) => w.stop())]);
    await redis?.stopAndClean();
  }, 60_000);

  it('runs jobs signed with the shared secret; refuses unsigned ones and other secrets', async () => {
    const signed = await app({ QUEUE: 'signed', SECRET });
    const ok = await signed.request({ op: 'wait', fn: 'count', args: [join(dir, 'a'), 'signed'] });
    expect(ok.ok).toBe(true);
    expect(ok.result.value.tag).toBe('signed');

    const unsigned = await app({ QUEUE: 'signed' });
    const refused = await unsigned.request({ op: 'wait', fn: 'count', args: [join(dir, 'b'), 'unsigned'] });
    expect(refused.error).toMatchObject({ name: 'JobRefusedError', code: 'ERR_ASYNC_LOAD_JOB_REFUSED' });
    expect(refused.error!.message).toMatch(/not signed/);

    const other = await app({ QUEUE: 'signed', SECRET: 'another secret' });
    const wrong = await other.request({ op: 'wait', fn: 'count', args: [join(dir, 'c'), 'other'] });
    expect(wrong.error).toMatchObject({ code: 'ERR_ASYNC_LOAD_JOB_REFUSED' });
    expect(wrong.error!.message).toMatch(/signature does not match/);
  });

  it('refuses a tampered job and an expired one, without running them', async () => {
    const queue = new Queue('signed', { connection: { host: '127.0.0.1', port: redis.port } });
    const events = new QueueEvents('signed', { connection: { host: '127.0.0.1', port: redis.port } });
    try {
      await events.waitUntilReady();
      const job = (run: string, exp: number): JobData => {
        const data = jobData(run, { exp });
        data.sig = sign(data, [], SECRET);
        return data;
      };
      const tampered = job('tampered-1', Date.now() + 60_000);
      tampered.fn = { kind: 'inline', source: '(x) => process.exit(1)' };
      const expired = job('expired-1', Date.now() - 1);
      const fresh = job('fresh-1', Date.now() + 60_000);
      const outcome = async (data: JobData): Promise<string> => {
        const added = await queue.add('run', data, { jobId: data.run });
        return added.waitUntilFinished(events, 30_000).then(
          () => 'completed',
          (error: Error) => error.message,
        );
      };
      expect(await outcome(fresh)).toBe('completed');
      expect(await outcome(tampered)).toBe(
        `${REFUSED}its signature does not match (tampered with, or signed with another secret)`,
      );
      expect(await outcome(expired)).toMatch(new RegExp(`^${REFUSED}it expired at`));
    } finally {
      await events.close();
      await queue.close();
    }
  });

  it('--modules-only refuses inline functions; --allow admits modules under its roots only', async () => {
    const a = await app({ QUEUE: 'modules' });
    const inline = await a.request({ op: 'wait', fn: 'count', args: [join(dir, 'd'), 'inline'] });
    expect(inline.error).toMatchObject({ code: 'ERR_ASYNC_LOAD_JOB_REFUSED' });
    expect(inline.error!.message).toMatch(/module tasks only/);
    const allowed = await a.request({ op: 'wait', fn: 'allowedTask', args: [21] });
    expect(allowed.result.value.doubled).toBe(42);
    const outside = await a.request({ op: 'wait', fn: 'outsideTask', args: [21] });
    expect(outside.error).toMatchObject({ code: 'ERR_ASYNC_LOAD_JOB_REFUSED' });
    expect(outside.error!.message).toMatch(/outside this worker's --allow roots/);
  });
});
