/**
 * distributed: `async-load/bullmq` on a local redis-server with two worker processes.
 *
 * - throughput: 2,000 trivial runs (`a => a + 1`, distinct arguments, all called at once,
 *   then every `wait()` awaited) vs raw BullMQ (`queue.add` + `job.waitUntilFinished`) on the
 *   same Redis, with two raw BullMQ worker processes of the same concurrency running the same
 *   function on their main thread. Interleaved rounds. Reported beside it: raw BullMQ whose two
 *   workers run the function on a Piscina thread each (bench/fixtures/raw-bullmq-piscina-worker.mjs),
 *   as BullMQ users must run CPU-bound functions: what the hop to a thread costs by itself.
 * - latency: one such call at a time, call → value, p50 per round, vs raw BullMQ add →
 *   waitUntilFinished.
 * - values: an 8 MiB Float64Array and a ~1 MB plain object stored in and read back from the
 *   same Redis, as results travel (pack → HSET → HGETALL → unpack), vs v8.serialize and
 *   JSON.stringify/parse through the same Redis.
 * - recovery: a worker killed (SIGKILL) while running a job, with the worker's default lock
 *   settings: time from the kill to the run starting on the other worker.
 *
 * Needs redis-server (Debian: apt-get install redis-server).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { createLoader } from 'async-load';
import { bullmqExecutor } from 'async-load/bullmq';
import { Wire } from '../../src/distributed/wire.js';
import { RedisServer, until, WorkerProcess } from '../../test/distributed/cluster.js';
import { interleave, percentile, ratios, stat, type Figure, type SuiteOptions } from '../harness.js';

const RAW_WORKER = new URL('../fixtures/raw-bullmq-worker.mjs', import.meta.url).pathname;
const RAW_THREAD_WORKER = new URL('../fixtures/raw-bullmq-piscina-worker.mjs', import.meta.url).pathname;
const CONCURRENCY = 8;

async function rawWorker(redis: RedisServer, file: string, queue: string): Promise<{ kill: () => void }> {
  const child = spawn(process.execPath, [file, redis.url, queue, String(CONCURRENCY)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await until(() => out.includes('ready'), 'a raw BullMQ worker');
  return { kill: () => child.kill('SIGTERM') };
}

export async function distributed({ quick }: SuiteOptions): Promise<Figure[]> {
  const RUNS = quick ? 500 : 2_000;
  const ROUNDS = quick ? 3 : 5;
  const SEQUENTIAL = quick ? 100 : 300;
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
  } catch {
    console.error('  distributed: redis-server is not installed (apt-get install redis-server); skipped');
    return [];
  }
  const redis = await RedisServer.start();
  const workers: WorkerProcess[] = [];
  const raws: { kill: () => void }[] = [];
  const figures: Figure[] = [];

  /** A figure of ours beside a baseline of the same rounds, as the per-round ratio. */
  const compare = (
    name: string,
    unit: string,
    ours: number[],
    [baselineName, baseline]: [string, number[]],
    target: string,
    met: (median: number) => boolean,
  ): void => {
    const ratio = stat(ratios(ours, baseline));
    figures.push({
      suite: 'distributed',
      name,
      unit,
      ours: stat(ours),
      baseline: { name: baselineName, stat: stat(baseline) },
      ratio,
      target,
      met: met(ratio.median),
    });
  };
  try {
    const fast = ['--concurrency', String(CONCURRENCY), '--threads', '1'];
    workers.push(
      ...(await Promise.all([WorkerProcess.start(redis, fast), WorkerProcess.start(redis, fast)])),
    );
    raws.push(
      ...(await Promise.all([
        rawWorker(redis, RAW_WORKER, 'bench-raw'),
        rawWorker(redis, RAW_WORKER, 'bench-raw'),
        rawWorker(redis, RAW_THREAD_WORKER, 'bench-raw-threads'),
        rawWorker(redis, RAW_THREAD_WORKER, 'bench-raw-threads'),
      ])),
    );
    const loader = createLoader({ executor: bullmqExecutor({ connection: redis.url, queue: 'async-load' }) });
    const add = loader.asyncLoad((a: number) => a + 1);
    const connection = { host: '127.0.0.1', port: redis.port };
    const queue = new Queue('bench-raw', { connection });
    // One 'closing' listener per waitUntilFinished in flight.
    queue.setMaxListeners(0);
    const events = new QueueEvents('bench-raw', { connection });
    await events.waitUntilReady();
    let base = 0;
    const raw = async (a: number): Promise<unknown> => {
      const job = await queue.add('add', a, { removeOnComplete: { age: 600 } });
      return job.waitUntilFinished(events, 60_000);
    };
    const threadQueue = new Queue('bench-raw-threads', { connection });
    threadQueue.setMaxListeners(0);
    const threadEvents = new QueueEvents('bench-raw-threads', { connection });
    await threadEvents.waitUntilReady();
    const rawThreads = async (a: number): Promise<unknown> => {
      const job = await threadQueue.add('add', a, { removeOnComplete: { age: 600 } });
      return job.waitUntilFinished(threadEvents, 60_000);
    };
    // Warm-up of every path.
    for (let i = 0; i < 50; i++) await Promise.all([add.wait(-1 - i), raw(-1 - i), rawThreads(-1 - i)]);

    // Throughput: RUNS calls at once, runs/s. Latency: one call at a time, p50 in ms.
    type Call = (a: number) => Promise<unknown>;
    const burst = (call: Call) => async (): Promise<number> => {
      const from = (base += RUNS);
      const t0 = performance.now();
      await Promise.all(Array.from({ length: RUNS }, (_, i) => call(from + i)));
      return RUNS / ((performance.now() - t0) / 1000);
    };
    const oneByOne = (call: Call) => async (): Promise<number> => {
      const xs: number[] = [];
      for (let i = 0; i < SEQUENTIAL; i++) {
        const a = ++base;
        const t0 = performance.now();
        await call(a);
        xs.push(performance.now() - t0);
      }
      return percentile(xs, 50);
    };
    const viaLoader: Call = (a) => add.wait(a);

    const tput = await interleave(
      { ours: burst(viaLoader), raw: burst(raw), threads: burst(rawThreads) },
      ROUNDS,
    );
    compare(
      `throughput, ${RUNS.toLocaleString('en-US')} trivial runs at once, 2 worker processes`,
      'runs/s',
      tput.ours,
      ['raw BullMQ add + waitUntilFinished', tput.raw],
      '≥ 0.8×',
      (median) => median >= 0.8,
    );
    compare(
      `throughput, ${RUNS.toLocaleString('en-US')} trivial runs at once, vs raw BullMQ running the function on a Piscina thread`,
      'runs/s',
      tput.ours,
      ['raw BullMQ + Piscina (1 thread per worker)', tput.threads],
      'reported',
      () => true,
    );

    const lat = await interleave(
      { ours: oneByOne(viaLoader), raw: oneByOne(raw), threads: oneByOne(rawThreads) },
      ROUNDS,
    );
    compare(
      `call → value, one at a time, p50 per round of ${SEQUENTIAL}`,
      'ms',
      lat.ours,
      ['raw BullMQ add → waitUntilFinished', lat.raw],
      '≤ 1.2×',
      (median) => median <= 1.2,
    );
    compare(
      `call → value, one at a time, p50 per round of ${SEQUENTIAL}, vs raw BullMQ running the function on a Piscina thread`,
      'ms',
      lat.ours,
      ['raw BullMQ + Piscina add → waitUntilFinished', lat.threads],
      'reported',
      () => true,
    );
    await Promise.all([events.close(), queue.close(), threadEvents.close(), threadQueue.close()]);
    await loader.close();

    // Values through the same Redis.
    const client = new Redis(redis.url);
    const wire = new Wire();
    const floats = new Float64Array((8 * 1024 * 1024) / 8).map((_, i) => i / 7);
    const plain = {
      rows: Array.from({ length: 7_000 }, (_, i) => ({
        id: i,
        name: `row ${i}`,
        score: i / 3,
        tags: ['a', 'b'],
      })),
    };
    const ours = async (value: unknown): Promise<number> => {
      const t0 = performance.now();
      const packed = wire.pack(value);
      const fields: (string | Buffer)[] = ['value', packed.text];
      packed.binaries.forEach((b, i) => fields.push(`b${i}`, b));
      await client.hset('bench:ours', ...fields);
      const hash = await client.hgetallBuffer('bench:ours');
      const binaries = packed.binaries.map((_, i) => hash[`b${i}`]!);
      wire.unpack(hash.value!.toString(), binaries);
      return performance.now() - t0;
    };
    const v8Way = async (value: unknown): Promise<number> => {
      const t0 = performance.now();
      await client.set('bench:v8', serialize(value));
      deserialize((await client.getBuffer('bench:v8'))!);
      return performance.now() - t0;
    };
    const jsonWay = async (value: unknown): Promise<number> => {
      const t0 = performance.now();
      await client.set('bench:json', JSON.stringify(value));
      JSON.parse((await client.get('bench:json'))!);
      return performance.now() - t0;
    };
    const f64 = await interleave({ ours: () => ours(floats), v8: () => v8Way(floats) }, ROUNDS * 2);
    compare(
      '8 MiB Float64Array through Redis and back',
      'ms',
      f64.ours,
      ['v8.serialize / deserialize', f64.v8],
      '≤ 2×',
      (median) => median <= 2,
    );
    const size = JSON.stringify(plain).length;
    const obj = await interleave({ ours: () => ours(plain), json: () => jsonWay(plain) }, ROUNDS * 2);
    compare(
      `${(size / 1e6).toFixed(2)} MB plain object through Redis and back`,
      'ms',
      obj.ours,
      ['JSON.stringify / parse', obj.json],
      '≤ 3×',
      (median) => median <= 3,
    );
    client.disconnect();

    // Recovery from a killed worker, with the worker's default lock settings.
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited()));
    workers.length = 0;
    const defaults = ['--lock-duration', '8000', '--stalled-interval', '4000'];
    workers.push(
      ...(await Promise.all([WorkerProcess.start(redis, defaults), WorkerProcess.start(redis, defaults)])),
    );
    const dir = mkdtempSync(join(tmpdir(), 'async-load-bench-'));
    const starts = join(dir, 'starts');
    const release = join(dir, 'release');
    const recovery = createLoader({ executor: bullmqExecutor({ connection: redis.url }) });
    const block = recovery.asyncLoad((file: string, rel: string) => {
      const fs = process.getBuiltinModule('node:fs');
      fs.appendFileSync(file, `${process.pid} ${Date.now()}\n`);
      const nap = new Int32Array(new SharedArrayBuffer(4));
      while (!fs.existsSync(rel)) Atomics.wait(nap, 0, 0, 20);
      return process.pid;
    });
    const lines = (): string[] =>
      existsSync(starts) ? readFileSync(starts, 'utf8').split('\n').filter(Boolean) : [];
    const done = block.wait(starts, release);
    await until(() => lines().length === 1, 'the run to start');
    const victim = workers.find((w) => w.pid === Number(lines()[0]!.split(' ')[0]))!;
    const killedAt = Date.now();
    victim.kill('SIGKILL');
    await until(() => lines().length === 2, 'the run to start again', 120_000);
    const recoveredMs = Number(lines()[1]!.split(' ')[1]) - killedAt;
    writeFileSync(release, '');
    await done;
    await recovery.close();
    figures.push({
      suite: 'distributed',
      name: 'kill -9 of the worker running a job → the run starts on another worker (default lock 8 s, stalled check 4 s)',
      unit: 'ms',
      ours: stat([recoveredMs]),
      target: '≤ 20 s',
      met: recoveredMs <= 20_000,
    });
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    for (const r of raws) r.kill();
    await Promise.all(workers.map((w) => w.exited()));
    await redis.stopAndClean();
  }
  return figures;
}
