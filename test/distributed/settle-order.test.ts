// How runs settle. However their messages are ordered: the worker may finish a job, and its
// note (pub/sub) reach the app, before the reply to the app's own `add` does. A proxy between
// the app and Redis holds back the replies on the command connection only; the sweep is set
// to a minute, so a run that missed its note would wait for it. And what the sweep costs: a
// job that stays queued is checked after one interval, then after twice as long each time.
// Skipped when redis-server is not installed (except under CI, where that fails).

import { createServer, connect as tcp, type Server, type Socket } from 'node:net';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoader } from '../../src/create-loader.js';
import { bullmqExecutor } from '../../src/distributed/bullmq-executor.js';
import { JOB_VERSION, type JobData, type SettledNote } from '../../src/distributed/job.js';
import { Wire } from '../../src/distributed/wire.js';
import { startWorker } from '../../src/distributed/worker-service.js';
import { ensureBuilt, redisInstalled, RedisServer, WorkerProcess } from './cluster.js';

const installed = redisInstalled();
const HOLD_MS = 400;

/**
 * Forwards to Redis; replies are held back HOLD_MS on connections that have not subscribed
 * or read a stream (those carry the notes and events, which pass at once).
 */
function slowRepliesProxy(port: number): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((client) => {
    const upstream = tcp(port, '127.0.0.1');
    sockets.push(client, upstream);
    let listening = false;
    client.on('data', (d: Buffer) => {
      if (/SUBSCRIBE|XREAD/i.test(d.toString('latin1'))) listening = true;
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (listening) client.write(d);
      else setTimeout(() => client.writable && client.write(d), HOLD_MS);
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0, sockets });
    }),
  );
}

describe.skipIf(!installed)('settling regardless of message order', { timeout: 60_000 }, () => {
  let redis: RedisServer;
  let worker: WorkerProcess;
  let proxy: Awaited<ReturnType<typeof slowRepliesProxy>>;

  beforeAll(async () => {
    ensureBuilt();
    redis = await RedisServer.start();
    worker = await WorkerProcess.start(redis);
    proxy = await slowRepliesProxy(redis.port);
  }, 60_000);

  afterAll(async () => {
    await worker?.stop();
    for (const s of proxy?.sockets ?? []) s.destroy();
    proxy?.server.close();
    await redis?.stopAndClean();
  }, 60_000);

  it('settles runs whose job finished before the reply to their add arrived', async () => {
    const loader = createLoader({
      executor: bullmqExecutor({ connection: `redis://127.0.0.1:${proxy.port}`, sweepInterval: 60_000 }),
    });
    try {
      const twice = loader.asyncLoad((n: number) => n * 2);
      const t0 = performance.now();
      const values = await Promise.all([1, 2, 3, 4, 5].map((n) => twice.wait(n)));
      expect(values).toEqual([2, 4, 6, 8, 10]);
      // Replies take HOLD_MS; a run that waited for the sweep would take a minute.
      expect(performance.now() - t0).toBeLessThan(20_000);
    } finally {
      await loader.close();
    }
  });

  it('checks a queued job less and less often', async () => {
    const loader = createLoader({
      executor: bullmqExecutor({ connection: redis.url, queue: 'nobody-works-here', sweepInterval: 100 }),
    });
    const admin = new Redis(redis.url);
    try {
      const idle = loader.asyncLoad((n: number) => n);
      const pending = idle.wait(1).catch((error: unknown) => error);
      await admin.config('RESETSTAT');
      const t0 = performance.now();
      // Checks at about 100, 200, 400, 800 and 1,600 ms of waiting; every interval would be 20.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const stats = await admin.info('commandstats');
      const elapsed = performance.now() - t0;
      const checks = Number(/cmdstat_hmget:calls=(\d+)/.exec(stats)?.[1] ?? 0);
      expect(checks).toBeGreaterThanOrEqual(3);
      expect(checks).toBeLessThanOrEqual(Math.ceil(Math.log2(elapsed / 100)) + 3);
      await loader.close();
      expect(await pending).toMatchObject({ code: 'ERR_ASYNC_LOAD_CLOSED' });
    } finally {
      admin.disconnect();
      await loader.close();
    }
  });

  it('announces a job it serves from a newer outcome instead of running it', async () => {
    const loader = createLoader({ executor: bullmqExecutor({ connection: redis.url, queue: 'served' }) });
    const admin = new Redis(redis.url);
    const listener = new Redis(redis.url);
    const queue = new Queue('served', { connection: { host: '127.0.0.1', port: redis.port } });
    const servedWorker = startWorker({ connection: redis.url, queue: 'served', threads: 1 });
    try {
      await servedWorker.ready;
      const triple = loader.asyncLoad((n: number) => n * 3);
      expect(await triple.wait(5)).toBe(15);
      const [resultKey] = await admin.keys('asyncload:served:r:*');
      const entry = resultKey!.slice('asyncload:served:r:'.length);
      const heard = new Promise<SettledNote>((resolve) => {
        listener.on('message', (_channel: string, text: string) => {
          const note = JSON.parse(text) as SettledNote;
          if (note.run === 'late-run') resolve(note);
        });
      });
      await listener.subscribe('asyncload:served:settled');
      // A job for the same entry, added as if after the app's look found nothing: the worker
      // finds the stored outcome, serves it, and says so on the channel.
      const data: JobData = {
        v: JOB_VERSION,
        run: 'late-run',
        fn: { kind: 'inline', source: '(n) => n * 3' },
        args: new Wire().pack([5]).text,
        bins: 0,
        encoded: false,
        entry,
        exp: Date.now() + 60_000,
      };
      await queue.add('run', data, { jobId: 'late-run' });
      const note = await heard;
      const stored = JSON.parse((await admin.hget(resultKey!, 'meta'))!) as { run: string };
      expect(note).toEqual({ run: 'late-run', served: stored.run, entry });
      // Served, not run: still one run of the entry.
      expect(JSON.parse((await admin.hget(resultKey!, 'meta'))!)).toEqual(stored);
    } finally {
      await servedWorker.close(5_000);
      await queue.close();
      listener.disconnect();
      admin.disconnect();
      await loader.close();
    }
  });

  it('waits out a dropped connection while runs are being added, as pending runs', async () => {
    // No worker on this queue: the runs stay pending, and only the drops could fail them.
    const RUNS = 5_000;
    const loader = createLoader({
      maxEntries: RUNS,
      executor: bullmqExecutor({ connection: redis.url, queue: 'dropped', unavailableAfter: 10_000 }),
    });
    const admin = new Redis(redis.url);
    const queue = new Queue('dropped', { connection: { host: '127.0.0.1', port: redis.port } });
    try {
      const echo = loader.asyncLoad((n: number) => n);
      const failures: unknown[] = [];
      const pending = Array.from({ length: RUNS }, (_, i) =>
        echo.wait(i).catch((error: unknown) => void failures.push(error)),
      );
      // From before the first job is added until the last, the app's connections are cut every
      // few milliseconds (the caller's own is spared): commands in flight fail, and ioredis
      // reconnects at once. Cutting from the start, not from the first job seen, so that the
      // cuts cannot all come after the adding on a loaded machine.
      let kills = 0;
      let added = 0;
      const deadline = Date.now() + 20_000;
      while ((added = await queue.getWaitingCount()) < RUNS && Date.now() < deadline) {
        await admin.call('CLIENT', 'KILL', 'TYPE', 'normal');
        kills++;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect({ added, failures: failures.length }).toEqual({ added: RUNS, failures: 0 });
      expect(kills).toBeGreaterThan(0);
      await loader.close();
      await Promise.all(pending);
      expect(failures).toHaveLength(RUNS);
    } finally {
      await queue.close();
      admin.disconnect();
      await loader.close();
    }
  });
});
