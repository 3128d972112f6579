// What a worker does with each job it takes from Redis, tested in process (security.test.ts
// tests the same policies through the built command): a job of an unknown shape, with its
// binary arguments gone, or with arguments that are not an array is refused with its reason;
// --modules-only refuses inline source; --allow admits module files under its roots only (a
// root does not admit a sibling folder whose name starts with it); every refusal is announced
// on the settled channel, so the app's waiters hear of it at once.

import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_VERSION, Keys, REFUSED, type JobData } from '../../src/distributed/job.js';
import { startWorker, type WorkerHandle } from '../../src/distributed/worker-service.js';
import { Wire } from '../../src/distributed/wire.js';
import { decode } from '../../src/codec.js';
import { OptionError, UnsendableValueError } from '../../src/errors.js';
import { jobData, redisInstalled, RedisServer } from './cluster.js';

const installed = redisInstalled();
// The allowed root without its trailing separator: the worker must add one.
const ALLOWED = fileURLToPath(new URL('./fixtures/allowed', import.meta.url));
const ALLOWED_TASK = pathToFileURL(join(ALLOWED, 'task.mjs')).href;
// A sibling of the root whose name starts with the root's.
const BESIDE = pathToFileURL(`${ALLOWED}-not/task.mjs`).href;
const UNKNOWN_FORMAT = `${REFUSED}it is not an async-load job of a format this worker knows`;

describe('startWorker: allow', () => {
  it.each([[['']], [[5]], [['dir', '']], ['dir']])('refuses allow %j, naming it', (allow) => {
    let error: unknown;
    try {
      startWorker({ connection: 'redis://127.0.0.1:1', allow: allow as string[] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OptionError);
    expect(error).toMatchObject({ option: 'allow', value: allow });
  });
});

describe.skipIf(!installed)('the jobs a worker takes', { timeout: 60_000 }, () => {
  let redis: RedisServer;
  const workers: WorkerHandle[] = [];
  const queues: Queue[] = [];
  const events: QueueEvents[] = [];
  const wire = new Wire();
  let seq = 0;

  beforeAll(async () => {
    redis = await RedisServer.start();
    workers.push(
      startWorker({ connection: redis.url, queue: 'plain', threads: 1 }),
      startWorker({
        connection: redis.url,
        queue: 'modules',
        threads: 1,
        modulesOnly: true,
        allow: [ALLOWED],
      }),
    );
    await Promise.all(workers.map((w) => w.ready));
  }, 60_000);

  afterAll(async () => {
    await Promise.all([...events.map((e) => e.close()), ...queues.map((q) => q.close())]);
    await Promise.all(workers.map((w) => w.close(5_000)));
    await redis?.stopAndClean();
  }, 60_000);

  function job(fields: Partial<JobData> = {}): JobData {
    return jobData(`run-${++seq}`, { args: wire.pack([41]).text, ...fields });
  }

  /** Adds `data` to `queue`; resolves with the job's return value, or the reason it failed. */
  async function outcome(queue: string, data: unknown): Promise<{ returned?: unknown; failed?: string }> {
    let q = queues.find((x) => x.name === queue);
    let e = events.find((x) => x.name === queue);
    if (!q || !e) {
      queues.push((q = new Queue(queue, { connection: { host: '127.0.0.1', port: redis.port } })));
      events.push((e = new QueueEvents(queue, { connection: { host: '127.0.0.1', port: redis.port } })));
      await e.waitUntilReady();
    }
    const added = await q.add('run', data, { jobId: `job-${++seq}` });
    return added.waitUntilFinished(e, 30_000).then(
      (returned: unknown) => ({ returned }),
      (error: Error) => ({ failed: error.message }),
    );
  }

  /** The value a completed job's inline result holds. */
  function value(returned: unknown): unknown {
    const r = returned as { text: string; meta: { ok: boolean } };
    expect(r.meta.ok).toBe(true);
    return wire.unpack(r.text, []);
  }

  it('runs a well-formed job and returns its value inline', async () => {
    const data = job();
    const { returned } = await outcome('plain', data);
    expect(returned).toMatchObject({ run: data.run });
    expect(value(returned)).toBe(42);
  });

  it.each<[string, (data: JobData) => unknown]>([
    ['another version', (d) => ({ ...d, v: JOB_VERSION + 1 })],
    ['a run id that is not a string', (d) => ({ ...d, run: 7 })],
    ['arguments that are not text', (d) => ({ ...d, args: [41] })],
    ['an entry that is not a string', (d) => ({ ...d, entry: 7 })],
    ['an expiry that is not a number', (d) => ({ ...d, exp: String(d.exp) })],
    ['a binary count that is not an integer', (d) => ({ ...d, bins: 0.5 })],
    ['an inline function without source', (d) => ({ ...d, fn: { kind: 'inline' } })],
    ['an inline function whose source is not text', (d) => ({ ...d, fn: { kind: 'inline', source: 5 } })],
    ['a module function without a URL', (d) => ({ ...d, fn: { kind: 'module', exportName: 'double' } })],
    ['a module function without an export', (d) => ({ ...d, fn: { kind: 'module', url: ALLOWED_TASK } })],
    ['a function of another kind', (d) => ({ ...d, fn: { kind: 'other', source: '(x) => x' } })],
    ['no function', (d) => ({ ...d, fn: undefined })],
    ['a string', () => 'not a job'],
  ])('refuses a job with %s', async (_what, corrupt) => {
    expect(await outcome('plain', corrupt(job()))).toEqual({ failed: UNKNOWN_FORMAT });
  });

  it('runs a module function when it is well formed', async () => {
    const data = job({
      fn: { kind: 'module', url: ALLOWED_TASK, exportName: 'double' },
      args: wire.pack([21]).text,
    });
    expect(value((await outcome('plain', data)).returned)).toMatchObject({ doubled: 42 });
  });

  it('reads binary arguments from Redis, and refuses the job once they are gone', async () => {
    const bytes = Buffer.from([1, 2, 3, 250]);
    const packed = wire.pack([bytes]);
    expect(packed.binaries).toHaveLength(1);
    const client = new Redis(redis.port, '127.0.0.1');
    try {
      const keys = new Keys('plain');
      const kept = job({
        fn: { kind: 'inline', source: '(b) => Array.from(b).reduce((s, x) => s + x, 0)' },
        args: packed.text,
        bins: 1,
      });
      await client.hset(keys.args(kept.run), 'b0', packed.binaries[0]!);
      expect(value((await outcome('plain', kept)).returned)).toBe(256);
      // Deleted once the run is over: nothing is left behind in Redis.
      expect(await client.exists(keys.args(kept.run))).toBe(0);

      // Two leaves announced, one stored.
      const partial = job({ args: packed.text, bins: 2 });
      await client.hset(keys.args(partial.run), 'b0', packed.binaries[0]!);
      expect(await outcome('plain', partial)).toEqual({
        failed: `${REFUSED}its binary arguments are gone from Redis (expired?)`,
      });
    } finally {
      client.disconnect();
    }
  });

  it('reports a thrown error or a result it cannot send as a failed outcome, not a failed job', async () => {
    for (const [source, Class, message] of [
      ['() => { throw new RangeError("no") }', RangeError, 'no'],
      ['() => () => 1', UnsendableValueError, /function/],
    ] as const) {
      const { returned } = await outcome('plain', job({ fn: { kind: 'inline', source } }));
      const r = returned as { text: string; meta: { ok: boolean; encoded: boolean } };
      expect(r.meta.ok).toBe(false);
      const packed = wire.unpack(r.text, []);
      const error = r.meta.encoded ? decode(packed) : packed;
      expect(error).toBeInstanceOf(Class);
      expect((error as Error).message).toMatch(message);
    }
  });

  it('returns a result inline up to 16 KiB of text, and leaves a larger or binary one in Redis', async () => {
    const at = (chars: number, source: string) =>
      job({ fn: { kind: 'inline', source }, args: wire.pack([chars]).text });
    // JSON text of a string: its quotes and the format letter add 3 characters.
    const inline = (await outcome('plain', at(16 * 1024 - 3, '(n) => "x".repeat(n)'))).returned;
    expect(value(inline)).toHaveLength(16 * 1024 - 3);
    for (const data of [at(16 * 1024 - 2, '(n) => "x".repeat(n)'), at(4, '(n) => new Uint8Array(n)')]) {
      const { returned } = await outcome('plain', data);
      expect(returned).toEqual({ run: data.run });
      const client = new Redis(redis.port, '127.0.0.1');
      try {
        expect(await client.hexists(new Keys('plain').result(data.entry), 'value')).toBe(1);
      } finally {
        client.disconnect();
      }
    }
  });

  it("serves an entry's newer successful outcome instead of running it again", async () => {
    const first = job();
    const ran = (await outcome('plain', first)).returned as { meta: { startedAt: number } };
    const startedAt = ran.meta.startedAt;
    // The app had seen nothing (no `after`), or an older outcome: served.
    for (const after of [undefined, startedAt - 1]) {
      const again = job({ entry: first.entry, after });
      expect((await outcome('plain', again)).returned).toEqual({ run: again.run, served: first.run });
    }
    // The app had seen this very outcome: it runs.
    const fresh = job({ entry: first.entry, after: startedAt });
    expect(value((await outcome('plain', fresh)).returned)).toBe(42);
    // A failed outcome is never served.
    const failing = job({ fn: { kind: 'inline', source: '() => { throw new Error("x") }' } });
    await outcome('plain', failing);
    const retry = job({ entry: failing.entry });
    expect(value((await outcome('plain', retry)).returned)).toBe(42);
  });

  it('refuses arguments that are not an array', async () => {
    expect(await outcome('plain', job({ args: wire.pack(41).text }))).toEqual({
      failed: `${REFUSED}its arguments are not an array`,
    });
  });

  it('--modules-only refuses inline source; --allow admits modules under its roots only', async () => {
    expect(await outcome('modules', job())).toEqual({
      failed: `${REFUSED}this worker runs module tasks only (--modules-only)`,
    });
    const allowed = job({
      fn: { kind: 'module', url: ALLOWED_TASK, exportName: 'double' },
      args: wire.pack([4]).text,
    });
    expect(value((await outcome('modules', allowed)).returned)).toMatchObject({ doubled: 8 });
    const beside = job({ fn: { kind: 'module', url: BESIDE, exportName: 'double' } });
    expect(await outcome('modules', beside)).toEqual({
      failed: `${REFUSED}module ${BESIDE} is outside this worker's --allow roots`,
    });
    const remote = 'https://example.com/task.mjs';
    expect(
      await outcome('modules', job({ fn: { kind: 'module', url: remote, exportName: 'double' } })),
    ).toEqual({
      failed: `${REFUSED}module ${remote} is not a file URL, and this worker allows only modules under its --allow roots`,
    });
  });

  it('announces a refused job on the settled channel, with its run, entry and reason', async () => {
    const listener = new Redis(redis.port, '127.0.0.1');
    try {
      const heard = new Promise<unknown>((resolve) =>
        listener.on('message', (_channel, text: string) => resolve(JSON.parse(text))),
      );
      await listener.subscribe(new Keys('modules').settled());
      const data = job();
      await outcome('modules', data);
      expect(await heard).toEqual({
        run: data.run,
        entry: data.entry,
        failed: `${REFUSED}this worker runs module tasks only (--modules-only)`,
      });
    } finally {
      listener.disconnect();
    }
  });
});
