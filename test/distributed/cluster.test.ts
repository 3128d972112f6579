// Two app processes and two worker processes on one real redis-server: the same calls as a
// local loader, with runs deduplicated and results shared across processes, surviving a
// killed worker and a Redis restart. Skipped when redis-server is not installed (except
// under CI, where that fails).

import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppProcess, ensureBuilt, redisInstalled, RedisServer, until, WorkerProcess } from './cluster.js';

const installed = redisInstalled();

describe.skipIf(!installed)('bullmqExecutor across processes', { timeout: 120_000 }, () => {
  let redis: RedisServer;
  const workers: WorkerProcess[] = [];
  const apps: AppProcess[] = [];
  let dir: string;

  const file = (name: string): string => join(dir, name);
  const lines = (path: string): string[] =>
    existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [];

  async function worker(args: string[] = [], env: Record<string, string> = {}): Promise<WorkerProcess> {
    const w = await WorkerProcess.start(redis, args, env);
    workers.push(w);
    return w;
  }

  async function app(env: Record<string, string> = {}): Promise<AppProcess> {
    const a = await AppProcess.start(redis, env);
    apps.push(a);
    return a;
  }

  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'async-load-dist-'));
    redis = await RedisServer.start();
    await Promise.all([worker(), worker()]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([...apps.map((a) => a.close()), ...workers.map((w) => w.stop())]);
    await redis?.stopAndClean();
  }, 60_000);

  it('two app processes making 1,000 identical calls each start one run, and see one result', async () => {
    const [a, b] = await Promise.all([app(), app()]);
    const runs = file('dedupe.txt');
    const args = [runs, 'one'];
    const [ra, rb] = await Promise.all([
      a.request({ op: 'burst', fn: 'count', args, times: 1_000 }),
      b.request({ op: 'burst', fn: 'count', args, times: 1_000 }),
    ]);
    expect(ra.ok && rb.ok).toBe(true);
    expect(readFileSync(runs, 'utf8')).toBe('x');
    expect(ra.result.value).toEqual(rb.result.value);
    expect(ra.result.value.tag).toBe('one');
    expect(ra.result.value.bytes).toEqual({ view: 'Float64Array', values: [1.5, 3] });
    expect(ra.result.state.startedAt).toBe(rb.result.state.startedAt);
    expect(ra.result.undefinedCalls).toBe(1_000);

    // A process that never saw the entry serves the shared result: its first call returns
    // undefined and fetches, and nothing runs again.
    const c = await app();
    const rc = await c.request({ op: 'burst', fn: 'count', args, times: 1 });
    expect(rc.result.undefinedCalls).toBe(1);
    expect(rc.result.value).toEqual(ra.result.value);
    expect(rc.result.state.startedAt).toBe(ra.result.state.startedAt);
    expect(readFileSync(runs, 'utf8')).toBe('x');
  });

  it('subscribers in every process hear the runs of entries they hold, whichever process started them', async () => {
    const a = apps[0] ?? (await app());
    const b = apps[1] ?? (await app());
    const runs = file('subscribers.txt');
    const args = [runs, 'sub'];
    await a.request({ op: 'wait', fn: 'count', args });
    await b.request({ op: 'wait', fn: 'count', args });
    await b.request({ op: 'subscribe' });
    await a.request({ op: 'refresh', fn: 'count', args });
    await until(
      async () => (await b.request({ op: 'events' })).result.length > 0,
      'B to hear the run A started',
    );
    const fromA = await a.request({ op: 'wait', fn: 'count', args });
    const heard = (await b.request({ op: 'events' })).result;
    expect(heard).toHaveLength(1);
    expect(heard[0]).toMatchObject({ status: 'complete', startedAt: fromA.result.state.startedAt, runs: 2 });
    expect(readFileSync(runs, 'utf8')).toBe('xx');
  });

  it('errors keep class, code and cause; timeout counts from the start on a worker thread', async () => {
    const a = apps[0] ?? (await app());
    const failed = await a.request({ op: 'wait', fn: 'fail', args: ['why'] });
    expect(failed.ok).toBe(false);
    expect(failed.error).toMatchObject({
      name: 'RangeError',
      isRangeError: true,
      code: 'E_FAILED',
      message: 'failed: why',
      cause: 'the cause',
    });
    const spun = await a.request({ op: 'wait', fn: 'spin', args: [] });
    expect(spun.error).toMatchObject({ name: 'TimeoutError', code: 'ERR_ASYNC_LOAD_TIMEOUT' });
  });

  it('values JSON cannot carry reach the worker thread and come back intact (binary as raw bytes)', async () => {
    const reply = await (apps[0] ?? (await app())).request({ op: 'echo', fn: 'echo' });
    expect(reply.ok).toBe(true);
    expect(reply.result.kinds).toEqual(['[object Object]', '[object Uint8Array]']);
    for (const [name, ok] of Object.entries(reply.result.checks as Record<string, boolean>))
      expect([name, ok]).toEqual([name, true]);
  });

  it('a worker killed mid-run: the run completes on another worker', async () => {
    const a = apps[0] ?? (await app());
    const starts = file('kill-starts.txt');
    const release = file('kill-release');
    const pending = a.request({ op: 'wait', fn: 'block', args: [starts, release, 'k'] });
    await until(() => lines(starts).length === 1, 'the run to start');
    const victim = workers.find((w) => w.pid === Number(lines(starts)[0]))!;
    expect(victim).toBeDefined();
    victim.kill('SIGKILL');
    await victim.exited();
    writeFileSync(release, '');
    const reply = await pending;
    expect(reply.ok).toBe(true);
    expect(reply.result.value.tag).toBe('k');
    expect(reply.result.value.pid).not.toBe(victim.pid);
    expect(lines(starts)).toHaveLength(2);
    workers.splice(workers.indexOf(victim), 1);
    await worker();
  });

  it('a worker stopped with SIGTERM finishes its running job, then exits cleanly', async () => {
    const a = apps[0] ?? (await app());
    const starts = file('term-starts.txt');
    const release = file('term-release');
    const pending = a.request({ op: 'wait', fn: 'block', args: [starts, release, 'term'] });
    await until(() => lines(starts).length === 1, 'the run to start');
    const running = workers.find((w) => w.pid === Number(lines(starts)[0]))!;
    running.kill('SIGTERM');
    await running.waitFor('stopping');
    writeFileSync(release, '');
    expect(await running.exited()).toBe(0);
    const reply = await pending;
    expect(reply.result.value).toEqual({ tag: 'term', pid: running.pid });
    expect(lines(starts)).toHaveLength(1);
    workers.splice(workers.indexOf(running), 1);
    await worker();
  });

  it("with the default lock settings, a killed worker's run completes elsewhere within 20 s", async () => {
    // Workers with the defaults (lock 8 s, stalled check 4 s) in place of the tests' short ones.
    const defaults = ['--lock-duration', '8000', '--stalled-interval', '4000'];
    const fresh = await Promise.all([worker(defaults), worker(defaults)]);
    for (const old of workers.filter((w) => !fresh.includes(w))) {
      await old.stop();
      workers.splice(workers.indexOf(old), 1);
    }
    const a = apps[0] ?? (await app());
    const starts = file('default-starts.txt');
    const blocked = file('default-release');
    const pending = a.request({ op: 'wait', fn: 'block', args: [starts, blocked, 'd'] }, 90_000);
    await until(() => lines(starts).length === 1, 'the run to start');
    const victim = workers.find((w) => w.pid === Number(lines(starts)[0]))!;
    const killedAt = Date.now();
    victim.kill('SIGKILL');
    await victim.exited();
    workers.splice(workers.indexOf(victim), 1);
    await until(() => lines(starts).length === 2, 'the run to start again', 60_000);
    const recoveredMs = Date.now() - killedAt;
    writeFileSync(blocked, '');
    expect((await pending).result.value.tag).toBe('d');
    expect(recoveredMs).toBeLessThan(20_000 + 2_000);
    // Back to two workers with the tests' short lock settings.
    for (const w of [...workers]) {
      await w.stop();
      workers.splice(workers.indexOf(w), 1);
    }
    await Promise.all([worker(), worker()]);
  });

  it('a run lost with its worker twice fails with WorkerCrashedError', async () => {
    await worker();
    const a = apps[0] ?? (await app());
    const starts = file('twice-starts.txt');
    const release = file('twice-release');
    const pending = a.request({ op: 'wait', fn: 'block', args: [starts, release, 't'] });
    for (const n of [1, 2]) {
      await until(() => lines(starts).length === n, `start ${n}`);
      const victim = workers.find((w) => w.pid === Number(lines(starts)[n - 1]))!;
      victim.kill('SIGKILL');
      await victim.exited();
      workers.splice(workers.indexOf(victim), 1);
    }
    const reply = await pending;
    expect(reply.ok).toBe(false);
    expect(reply.error).toMatchObject({ name: 'WorkerCrashedError', code: 'ERR_ASYNC_LOAD_WORKER_CRASHED' });
    writeFileSync(release, '');
    while (workers.length < 2) await worker();
  });

  it('refreshes across processes once per interval, never two runs at once', async () => {
    const [a, b] = apps;
    const starts = file('refresh.txt');
    await Promise.all([
      a!.request({ op: 'wait', fn: 'refreshing', args: [starts] }),
      b!.request({ op: 'wait', fn: 'refreshing', args: [starts] }),
    ]);
    await until(() => lines(starts).length >= 4, 'four runs', 30_000);
    const times = lines(starts).map(Number);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // Every 1,500 ms from the previous start; a second run in the same interval would be a gap near 0.
    for (const gap of gaps) expect(gap).toBeGreaterThan(1_000);
  });

  it('a run no worker takes fails with RunLostError after jobExpiry instead of waiting forever', async () => {
    const a = await app({ QUEUE: 'no-workers', JOB_EXPIRY: '1500' });
    const reply = await a.request({ op: 'wait', fn: 'count', args: [file('nobody.txt'), 'nobody'] });
    expect(reply.error).toMatchObject({ name: 'RunLostError', code: 'ERR_ASYNC_LOAD_RUN_LOST' });
    expect(reply.error!.message).toMatch(/No worker took/);
  });

  it('close() fails every pending run with LoaderClosedError', async () => {
    const a = await app();
    const starts = file('close-starts.txt');
    const release = file('close-release');
    const pending = a.request({ op: 'wait', fn: 'block', args: [starts, release, 'c'] });
    const queued = a.request({ op: 'wait', fn: 'count', args: [file('close-count.txt'), 'queued'] });
    await until(() => lines(starts).length === 1, 'the run to start');
    await a.request({ op: 'close' });
    expect((await pending).error).toMatchObject({ name: 'LoaderClosedError', code: 'ERR_ASYNC_LOAD_CLOSED' });
    const second = await queued;
    // The quick one may have finished before close(); if not, it failed the same way.
    if (!second.ok) expect(second.error).toMatchObject({ code: 'ERR_ASYNC_LOAD_CLOSED' });
    writeFileSync(release, '');
  });

  it('Redis stopped mid-run: pending calls fail with RedisUnavailableError; after it returns, work resumes', async () => {
    const a = await app({ UNAVAILABLE_AFTER: '2000' });
    const starts = file('redis-starts.txt');
    const release = file('redis-release');
    const pending = a.request({ op: 'wait', fn: 'block', args: [starts, release, 'r'] });
    await until(() => lines(starts).length === 1, 'the run to start');
    redis.stop();
    const reply = await pending;
    expect(reply.error).toMatchObject({ code: 'ERR_ASYNC_LOAD_REDIS_UNAVAILABLE' });
    // A call while Redis is down fails at once (no offline queue).
    const down = await a.request({ op: 'wait', fn: 'count', args: [file('down.txt'), 'down'] }, 15_000);
    expect(down.error).toMatchObject({ code: 'ERR_ASYNC_LOAD_REDIS_UNAVAILABLE' });
    writeFileSync(release, '');
    await redis.restart();
    // Work resumes by itself once the clients have reconnected; every result is the caller's own.
    let attempt = 0;
    let value: { tag: string } | undefined;
    await until(
      async () => {
        const tag = `after-${attempt++}`;
        const r = await a.request({ op: 'wait', fn: 'count', args: [file('after.txt'), tag] });
        if (r.ok) {
          expect(r.result.value.tag).toBe(tag);
          value = r.result.value;
        }
        return r.ok;
      },
      'work to resume after Redis restarted',
      60_000,
    );
    expect(value).toBeDefined();
  });
});
