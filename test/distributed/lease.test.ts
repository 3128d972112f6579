// Refresh across processes: one owner per entry through a lease in Redis. First the lease on
// its own (lease.ts against a real redis-server), then app processes and worker processes:
// refreshes once per interval and never two at once, the owner killed and another taking over
// within one lease period, and refreshing stopping when no process reads the entry any more.
// Skipped when redis-server is not installed (except under CI, where that fails).

import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/distributed/job.js';
import { Leases } from '../../src/distributed/lease.js';
import { AppProcess, ensureBuilt, redisInstalled, RedisServer, until, WorkerProcess } from './cluster.js';

const installed = redisInstalled();

describe.skipIf(!installed)('refresh leases', { timeout: 60_000 }, () => {
  let redis: RedisServer;
  let dir: string;
  const clients: Redis[] = [];
  const workers: WorkerProcess[] = [];
  const apps: AppProcess[] = [];

  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'async-load-lease-'));
    redis = await RedisServer.start();
    workers.push(...(await Promise.all([WorkerProcess.start(redis), WorkerProcess.start(redis)])));
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await Promise.all([...apps.map((a) => a.close()), ...workers.map((w) => w.stop())]);
    await redis?.stopAndClean();
  }, 60_000);

  function client(): Redis {
    const c = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  }

  describe('lease.ts', () => {
    const keys = new Keys('unit');
    const PERIOD = 600;

    it('one holder at a time; taking again renews; the others learn when it would lapse', async () => {
      const a = new Leases(client(), keys, PERIOD, () => true);
      const b = new Leases(client(), keys, PERIOD, () => true);
      expect(await a.take('e1')).toEqual({ owner: true });
      const other = await b.take('e1');
      expect(other.owner).toBe(false);
      if (!other.owner) {
        expect(other.retryIn).toBeGreaterThan(0);
        expect(other.retryIn).toBeLessThanOrEqual(PERIOD);
      }
      expect(await a.take('e1')).toEqual({ owner: true });
      expect(a.owns('e1') && !b.owns('e1')).toBe(true);
      // The value names the holder's host and pid (and a random part).
      expect(redis.cli('get', keys.lease('e1'))).toBe(a.holder);
      expect(a.holder).toContain(`/${process.pid}/`);
      await Promise.all([a.close(), b.close()]);
    });

    it('the holder renews its lease for as long as its loader has the entry, then gives it up', async () => {
      let held = true;
      const a = new Leases(client(), keys, PERIOD, () => held);
      const b = new Leases(client(), keys, PERIOD, () => true);
      await a.take('e2');
      // Three periods: without renewal it would have lapsed twice over.
      const until3 = Date.now() + 3 * PERIOD;
      await until(() => {
        expect(redis.cli('get', keys.lease('e2'))).toBe(a.holder);
        return Date.now() > until3;
      }, 'three lease periods');
      expect((await b.take('e2')).owner).toBe(false);
      held = false;
      await until(() => redis.cli('exists', keys.lease('e2')) === '0', 'the lease to be given up', 5_000);
      expect(a.owns('e2')).toBe(false);
      expect(await b.take('e2')).toEqual({ owner: true });
      await Promise.all([a.close(), b.close()]);
    });

    it('a lease its loader let go is deleted at the next renewal, not left to lapse', async () => {
      // A long period, so that deletion (within a third of it) and lapsing (two thirds at the
      // earliest) are far apart even on a loaded machine.
      const LONG = 3_000;
      let held = true;
      const a = new Leases(client(), keys, LONG, () => held);
      await a.take('e7');
      held = false;
      const letGo = Date.now();
      await until(() => redis.cli('exists', keys.lease('e7')) === '0', 'the lease to be given up', 10_000);
      expect(Date.now() - letGo).toBeLessThan((LONG * 2) / 3 - 100);
      await a.close();
    });

    it('a holder that dies: another takes the lease within one period', async () => {
      const dying = client();
      const a = new Leases(dying, keys, PERIOD, () => true);
      const b = new Leases(client(), keys, PERIOD, () => true);
      await a.take('e3');
      // Gone without a word: no release, no more renewals (they fail quietly).
      dying.disconnect();
      const died = Date.now();
      await until(async () => (await b.take('e3')).owner, 'b to take the lease', 5_000);
      expect(Date.now() - died).toBeLessThanOrEqual(PERIOD + 500);
      await Promise.all([a.close(), b.close()]);
    });

    it('a lease lost to another holder is noticed at the next renewal and never renewed over it', async () => {
      const a = new Leases(client(), keys, PERIOD, () => true);
      await a.take('e4');
      redis.cli('set', keys.lease('e4'), 'someone-else', 'px', '60000');
      await until(() => !a.owns('e4'), 'a to notice', 5_000);
      expect(redis.cli('get', keys.lease('e4'))).toBe('someone-else');
      const turn = await a.take('e4');
      expect(turn.owner).toBe(false);
      await a.close();
      // close() gives up only its own leases.
      expect(redis.cli('get', keys.lease('e4'))).toBe('someone-else');
    });

    it("others retry when the holder's lease lapses, or after a period when it never does", async () => {
      const b = new Leases(client(), keys, PERIOD, () => true);
      redis.cli('set', keys.lease('e8'), 'someone-else', 'px', '200');
      const soon = await b.take('e8');
      expect(soon.owner).toBe(false);
      if (!soon.owner) {
        expect(soon.retryIn).toBeGreaterThan(0);
        expect(soon.retryIn).toBeLessThanOrEqual(200);
      }
      // Set by hand without an expiry (PTTL -1): a full period, not at once.
      redis.cli('set', keys.lease('e9'), 'someone-else');
      expect(await b.take('e9')).toEqual({ owner: false, retryIn: PERIOD });
      await b.close();
    });

    it('takes no lease once closed', async () => {
      const a = new Leases(client(), keys, PERIOD, () => true);
      await a.close();
      expect((await a.take('e10')).owner).toBe(false);
      expect(a.owns('e10')).toBe(false);
      // Nor leaves one in Redis, which would keep every other process waiting a period.
      expect(redis.cli('exists', keys.lease('e10'))).toBe('0');
    });

    it('gives up a lease taken while close() ran', async () => {
      const a = new Leases(client(), keys, PERIOD, () => true);
      // The take's command is on its way when close() starts.
      const taking = a.take('e11');
      await a.close();
      expect((await taking).owner).toBe(false);
      expect(a.owns('e11')).toBe(false);
      expect(redis.cli('exists', keys.lease('e11'))).toBe('0');
    });

    it('close() gives up every lease held, so others take over at once', async () => {
      const a = new Leases(client(), keys, PERIOD, () => true);
      const b = new Leases(client(), keys, PERIOD, () => true);
      await Promise.all([a.take('e5'), a.take('e6')]);
      await a.close();
      expect(redis.cli('exists', keys.lease('e5'), keys.lease('e6'))).toBe('0');
      expect(await b.take('e5')).toEqual({ owner: true });
      await b.close();
    });
  });

  describe('across processes', () => {
    const REFRESH = 1_000;
    const LEASE = 1_500;
    const BUSY = 300;

    interface Run {
      start: number;
      end: number | undefined;
      pid: number;
    }

    /** The runs a ticks file records, checking that no run started before the previous ended. */
    function runs(file: string): Run[] {
      if (!existsSync(file)) return [];
      const out: Run[] = [];
      for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
        const [kind, t, pid] = line.split(' ');
        const last = out.at(-1);
        if (kind === 's') {
          if (last && last.end === undefined) throw new Error(`two runs at once in ${file}:\n${line}`);
          out.push({ start: Number(t), end: undefined, pid: Number(pid) });
        } else if (last) last.end = Number(t);
      }
      return out;
    }

    const gaps = (list: Run[]): number[] => list.slice(1).map((r, i) => r.start - list[i]!.start);

    async function app(env: Record<string, string> = {}): Promise<AppProcess> {
      const a = await AppProcess.start(redis, {
        LEASE_PERIOD: String(LEASE),
        REFRESH_EVERY: String(REFRESH),
        ...env,
      });
      apps.push(a);
      return a;
    }

    const leaseKeys = (): string[] =>
      redis.cli('--scan', '--pattern', 'asyncload:async-load:l:*').split('\n').filter(Boolean);

    /** The pid of the app process holding the only lease not in `before`. */
    async function ownerPid(before: string[]): Promise<number> {
      let key: string | undefined;
      await until(() => (key = leaseKeys().find((k) => !before.includes(k))) !== undefined, 'a lease');
      return Number(redis.cli('get', key!).split('/')[1]);
    }

    async function close(...list: AppProcess[]): Promise<void> {
      await Promise.all(list.map((a) => a.close()));
      for (const a of list) apps.splice(apps.indexOf(a), 1);
    }

    it('two app processes: one run per interval, from the previous start, never two at once', async () => {
      const before = leaseKeys();
      const [a, b] = await Promise.all([app(), app()]);
      const file = join(dir, 'two-apps.txt');
      const args = [file, BUSY];
      await Promise.all([
        a.request({ op: 'wait', fn: 'ticking', args }),
        b.request({ op: 'wait', fn: 'ticking', args }),
      ]);
      await until(() => runs(file).length >= 6, 'six runs');
      const list = runs(file);
      // Once per interval: never two in one, none missed.
      for (const gap of gaps(list)) {
        expect(gap).toBeGreaterThan(REFRESH - 100);
        expect(gap).toBeLessThan(2 * REFRESH - 100);
      }
      expect([a.pid, b.pid]).toContain(await ownerPid(before));
      // Both processes have each run as their own latest, whichever of them added it.
      const latest = list.at(-1)!.start;
      await until(async () => {
        const [sa, sb] = await Promise.all([
          a.request({ op: 'state', fn: 'ticking', args }),
          b.request({ op: 'state', fn: 'ticking', args }),
        ]);
        return sa.result.startedAt >= latest && sb.result.startedAt >= latest;
      }, 'both processes to have the latest run');
      await close(a, b);
    });

    it('the owner killed: the other process takes over within one lease period', async () => {
      const before = leaseKeys();
      const [a, b] = await Promise.all([app(), app()]);
      const file = join(dir, 'failover.txt');
      const args = [file, BUSY];
      await Promise.all([
        a.request({ op: 'wait', fn: 'ticking', args }),
        b.request({ op: 'wait', fn: 'ticking', args }),
      ]);
      await until(() => runs(file).length >= 2, 'a refresh');
      const owner = await ownerPid(before);
      const [victim, survivor] = owner === a.pid ? [a, b] : [b, a];
      expect(owner).toBe(victim.pid);
      victim.kill('SIGKILL');
      await victim.exited();
      const killedAt = Date.now();
      await until(async () => (await ownerPid(before)) === survivor.pid, 'the survivor to own the lease');
      expect(Date.now() - killedAt).toBeLessThan(LEASE + 1_000);
      await until(
        () => runs(file).filter((r) => r.start > killedAt).length >= 3,
        'three runs after the kill',
      );
      const list = runs(file);
      const firstAfter = list.find((r) => r.start > killedAt)!;
      // The run due when the owner died waits at most for its lease to lapse.
      expect(firstAfter.start - killedAt).toBeLessThan(REFRESH + LEASE + 1_000);
      for (const gap of gaps(list)) expect(gap).toBeGreaterThan(REFRESH - 100);
      for (const gap of gaps(list.filter((r) => r.start >= firstAfter.start)))
        expect(gap).toBeLessThan(2 * REFRESH - 100);
      apps.splice(apps.indexOf(victim), 1);
      await close(survivor);
    });

    it('refreshing stops once no process has read the entry for ttl, and goes on while one does', async () => {
      const TTL = 2_000;
      const [a, b] = await Promise.all([app({ TTL: String(TTL) }), app({ TTL: String(TTL) })]);
      const read = join(dir, 'read.txt');
      const quiet = join(dir, 'unread.txt');
      const readArgs = [read, 50];
      const quietArgs = [quiet, 50];
      // `read` is A's alone until its first refresh, so A owns its lease; then B reads it too.
      const before = leaseKeys();
      await a.request({ op: 'wait', fn: 'ticking', args: readArgs });
      expect(await ownerPid(before)).toBe(a.pid);
      const readKey = leaseKeys().find((k) => !before.includes(k))!;
      await b.request({ op: 'wait', fn: 'ticking', args: readArgs });
      // `quiet` is read once by both, then by neither.
      await Promise.all([
        a.request({ op: 'wait', fn: 'ticking', args: quietArgs }),
        b.request({ op: 'wait', fn: 'ticking', args: quietArgs }),
      ]);
      const lastRead = Date.now();
      // Only B goes on reading `read`: A's loader lets it go after its ttl, and B takes over.
      await until(
        async () => {
          await b.request({ op: 'call', fn: 'ticking', args: readArgs });
          const last = runs(quiet).at(-1);
          return (
            last !== undefined &&
            Date.now() - last.start > REFRESH * 2 + LEASE &&
            redis.cli('get', readKey).includes(`/${b.pid}/`)
          );
        },
        'the unread entry to stop refreshing, and B to own the read one',
        30_000,
      );
      const quietRuns = runs(quiet);
      expect(quietRuns.length).toBeGreaterThanOrEqual(2);
      // Within ttl + the store's sweep (ttl / 4) + a renewal + one interval of the last read.
      expect(quietRuns.at(-1)!.start - lastRead).toBeLessThan(TTL * 1.25 + LEASE + REFRESH + 1_000);
      await until(
        () => leaseKeys().filter((k) => !before.includes(k)).length === 1,
        "the unread entry's lease to go",
      );
      // The entry B read all along kept refreshing, with no gap longer than a takeover.
      await until(
        () => runs(read).at(-1)!.start - lastRead > TTL * 1.25 + LEASE + REFRESH,
        'refreshes after the takeover',
      );
      for (const gap of gaps(runs(read))) expect(gap).toBeLessThan(REFRESH + LEASE + TTL / 4 + 1_000);
      await close(a, b);
    });
  });
});
