// The distributed executor's pure parts: job signing, entry identity, option validation.

import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLoader } from '../../src/create-loader.js';
import { bullmqExecutor } from '../../src/distributed/bullmq-executor.js';
import { OptionError } from '../../src/errors.js';
import { hashIdentity } from '../../src/entry-identity.js';
import { JOB_VERSION, type JobData } from '../../src/distributed/job.js';
import { resolveExecutorOptions } from '../../src/distributed/options.js';
import { startWorker } from '../../src/distributed/worker-service.js';
import { checkSignature, sign } from '../../src/distributed/signing.js';

const SECRET = 'secret';

function job(): JobData {
  return {
    v: JOB_VERSION,
    run: 'run-1',
    fn: { kind: 'inline', source: '(x) => x' },
    args: 'j[1]',
    bins: 1,
    encoded: false,
    entry: 'entry',
    exp: 2_000,
    timeout: 100,
    ttl: 1_000,
  };
}

describe('signing', () => {
  const bins = [Buffer.from([1, 2, 3])];

  it('accepts a job signed with the secret until it expires', () => {
    const data = job();
    data.sig = sign(data, bins, SECRET);
    expect(checkSignature(data, bins, SECRET, 1_000)).toBeUndefined();
    expect(checkSignature(data, bins, SECRET, 2_001)).toMatch(/expired/);
  });

  it('refuses a source whose lone surrogate was swapped for another (one text in UTF-8)', () => {
    const data = { ...job(), fn: { kind: 'inline' as const, source: '(x) => "\uD800"' } };
    data.sig = sign(data, bins, SECRET);
    expect(checkSignature(data, bins, SECRET, 0)).toBeUndefined();
    const swapped = { ...data, fn: { kind: 'inline' as const, source: '(x) => "\uDBFF"' } };
    expect(checkSignature(swapped, bins, SECRET, 0)).toMatch(/does not match/);
  });

  it('refuses unsigned jobs, other secrets, and a change to any signed part', () => {
    const data = job();
    expect(checkSignature(data, bins, SECRET, 0)).toMatch(/not signed/);
    data.sig = sign(data, bins, SECRET);
    expect(checkSignature(data, bins, 'other', 0)).toMatch(/does not match/);
    const changes: ((d: JobData) => void)[] = [
      (d) => (d.run = 'run-2'),
      (d) => (d.exp = 9_999),
      (d) => (d.fn = { kind: 'inline', source: '(x) => 2' }),
      (d) => (d.fn = { kind: 'module', url: 'file:///x.js', exportName: 'default' }),
      (d) => (d.args = 'j[2]'),
      (d) => (d.encoded = true),
      (d) => (d.entry = 'other'),
      (d) => (d.timeout = undefined),
      (d) => (d.ttl = 5),
      (d) => (d.v = JOB_VERSION + 1),
      (d) => (d.after = 5),
    ];
    for (const change of changes) {
      const tampered = { ...data };
      change(tampered);
      expect(checkSignature(tampered, bins, SECRET, 0)).toMatch(/does not match/);
    }
    expect(checkSignature(data, [Buffer.from([1, 2, 4])], SECRET, 0)).toMatch(/does not match/);
    expect(checkSignature({ ...data, sig: data.sig.slice(1) }, bins, SECRET, 0)).toMatch(/does not match/);
  });

  it('refuses a changed number in any optional field, and a changed module', () => {
    const data: JobData = { ...job(), after: 1_500 };
    const module: JobData = { ...job(), fn: { kind: 'module', url: 'file:///a.js', exportName: 'run' } };
    const changes: [JobData, (d: JobData) => void][] = [
      [data, (d) => (d.timeout = 101)],
      [data, (d) => (d.ttl = 1_001)],
      [data, (d) => (d.after = 1_501)],
      [module, (d) => (d.fn = { kind: 'module', url: 'file:///b.js', exportName: 'run' })],
      [module, (d) => (d.fn = { kind: 'module', url: 'file:///a.js', exportName: 'other' })],
    ];
    for (const [original, change] of changes) {
      const signed = { ...original, sig: sign(original, bins, SECRET) };
      expect(checkSignature(signed, bins, SECRET, 0)).toBeUndefined();
      const tampered = { ...signed };
      change(tampered);
      expect(checkSignature(tampered, bins, SECRET, 0)).toBe(
        'its signature does not match (tampered with, or signed with another secret)',
      );
    }
  });

  it('refuses a text moved across the boundary of two fields', () => {
    // "entry" + "15" and "entry1" + "5" read the same once the fields are run together.
    const data = { ...job(), timeout: 15 };
    const signed = { ...data, sig: sign(data, bins, SECRET) };
    expect(checkSignature({ ...signed, entry: 'entry1', timeout: 5 }, bins, SECRET, 0)).toMatch(
      /does not match/,
    );
  });

  it('accepts a job up to and including its expiry, and says when it expired', () => {
    const data = job();
    data.sig = sign(data, bins, SECRET);
    expect(checkSignature(data, bins, SECRET, data.exp)).toBeUndefined();
    expect(checkSignature(data, bins, SECRET, data.exp + 1)).toBe(
      `it expired at ${new Date(data.exp).toISOString()}`,
    );
    expect(checkSignature(job(), bins, SECRET, 0)).toBe(
      'it is not signed and this worker requires signed jobs',
    );
  });

  it('signs the binary arguments by their contents, each in its place', () => {
    const two = [Buffer.from([1]), Buffer.from([2])];
    const data = { ...job(), bins: 2 };
    data.sig = sign(data, two, SECRET);
    expect(checkSignature(data, two, SECRET, 0)).toBeUndefined();
    expect(checkSignature(data, [two[1]!, two[0]!], SECRET, 0)).toMatch(/does not match/);
    expect(checkSignature(data, [Buffer.from([1]), Buffer.from([3])], SECRET, 0)).toMatch(/does not match/);
  });
});

describe('entry identity', () => {
  it('is the same for the same parts and differs when any part moves between fields', () => {
    expect(hashIdentity('f(x)', undefined, '#1')).toBe(hashIdentity('f(x)', undefined, '#1'));
    const all = [
      hashIdentity('f(x)', undefined, '#1'),
      hashIdentity('f(x)', '', '#1'),
      hashIdentity('f(x)', 'k', '#1'),
      hashIdentity('f(x)|k', undefined, '#1'),
      hashIdentity('f(x)', 'k|#1', ''),
      hashIdentity('g(x)', undefined, '#1'),
      hashIdentity('f(x)', undefined, '#2'),
    ];
    expect(new Set(all).size).toBe(all.length);
    // Usable as a BullMQ deduplication id and in a Redis key.
    for (const id of all) expect(id).toMatch(/^[\w-]{43}$/);
  });

  it('differs for any two different texts, lone surrogates included', () => {
    // Any UTF-16 code units: as UTF-8, '\uD800' and '\uDBFF' were one identity.
    const units = fc
      .array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 6 })
      .map((codes) => String.fromCharCode(...codes));
    fc.assert(
      fc.property(units, units, (a, b) => {
        fc.pre(a !== b);
        expect(hashIdentity('f', undefined, a)).not.toBe(hashIdentity('f', undefined, b));
        expect(hashIdentity(a, undefined, '#1')).not.toBe(hashIdentity(b, undefined, '#1'));
        expect(hashIdentity('f', a, '#1')).not.toBe(hashIdentity('f', b, '#1'));
      }),
      { numRuns: 2_000 },
    );
    expect(hashIdentity('f', undefined, '\uD800')).not.toBe(hashIdentity('f', undefined, '\uDBFF'));
  });
});

describe('bullmqExecutor options', () => {
  it('applies defaults', () => {
    expect(resolveExecutorOptions({ connection: 'redis://h:1' })).toMatchObject({
      queue: 'async-load',
      ttl: 86_400_000,
      unavailableAfter: 10_000,
      sweepInterval: 1_000,
      leasePeriod: 10_000,
      secret: undefined,
    });
  });

  it('takes the longest timer Node can set', () => {
    const longest = 2 ** 31 - 1;
    const resolved = resolveExecutorOptions({
      connection: 'redis://x',
      leasePeriod: longest,
      sweepInterval: longest,
      unavailableAfter: longest,
    });
    expect([resolved.leasePeriod, resolved.sweepInterval, resolved.unavailableAfter]).toEqual([
      longest,
      longest,
      longest,
    ]);
  });

  it.each([
    [undefined, 'options'],
    [{}, 'connection'],
    [{ connection: 'http://x' }, 'connection'],
    [{ connection: 'redis://x', queue: 'a:b' }, 'queue'],
    [{ connection: 'redis://x', secret: '' }, 'secret'],
    [{ connection: 'redis://x', ttl: -1 }, 'ttl'],
    // Past what Redis takes as an expiry.
    [{ connection: 'redis://x', ttl: 1e300 }, 'ttl'],
    [{ connection: 'redis://x', jobExpiry: 2 ** 63 }, 'jobExpiry'],
    [{ connection: 'redis://x', unavailableAfter: Infinity }, 'unavailableAfter'],
    [{ connection: 'redis://x', sweepInterval: '1' }, 'sweepInterval'],
    [{ connection: 'redis://x', leasePeriod: 99 }, 'leasePeriod'],
    [{ connection: 'redis://x', leasePeriod: NaN }, 'leasePeriod'],
    // Longer than a Node timer waits (it would fire after 1 ms).
    [{ connection: 'redis://x', leasePeriod: 1e12 }, 'leasePeriod'],
    [{ connection: 'redis://x', sweepInterval: 1e12 }, 'sweepInterval'],
    [{ connection: 'redis://x', unavailableAfter: 2 ** 31 }, 'unavailableAfter'],
    [{ connection: 'redis://x', colour: 1 }, 'colour'],
  ])('refuses %j naming %s', (input, option) => {
    let error: unknown;
    try {
      resolveExecutorOptions(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OptionError);
    expect((error as OptionError).option).toBe(option);
    expect((error as OptionError).code).toBe('ERR_ASYNC_LOAD_INVALID_OPTION');
  });
});

describe('startWorker options', () => {
  it.each([
    [{ connection: 'http://x' }, 'connection'],
    [{ connection: 'redis://x', queue: '' }, 'queue'],
    [{ connection: 'redis://x', threads: 0 }, 'threads'],
    [{ connection: 'redis://x', concurrency: 1.5 }, 'concurrency'],
    [{ connection: 'redis://x', lockDuration: -1 }, 'lockDuration'],
    [{ connection: 'redis://x', lockDuration: 2 ** 31 }, 'lockDuration'],
    // As a loader's pool: at most 256 threads, all started at once.
    [{ connection: 'redis://x', threads: 257 }, 'threads'],
    [{ connection: 'redis://x', threads: 2 ** 31 }, 'threads'],
    [{ connection: 'redis://x', stalledInterval: 1e12 }, 'stalledInterval'],
    [{ connection: 'redis://x', allow: 'dir' }, 'allow'],
  ])('refuses %j naming %s, before connecting', (input, option) => {
    let error: unknown;
    try {
      startWorker(input as Parameters<typeof startWorker>[0]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OptionError);
    expect((error as OptionError).option).toBe(option);
  });
});

describe('bullmqExecutor', () => {
  it('serves one loader: a second loader using it is refused', async () => {
    // Nothing listens on port 1: the executor never connects, which this test does not need.
    const executor = bullmqExecutor({ connection: 'redis://127.0.0.1:1', unavailableAfter: 500 });
    const first = createLoader({ executor, onError: () => undefined });
    const second = createLoader({ executor, onError: () => undefined });
    const a = first.asyncLoad((x: number) => x);
    expect(() => second.asyncLoad((x: number) => x)).toThrow(OptionError);
    await expect(a.wait(1)).rejects.toMatchObject({ code: 'ERR_ASYNC_LOAD_REDIS_UNAVAILABLE' });
    await first.close();
    await second.close();
  });
});

describe('a worker closing', () => {
  it('closes with Redis unreachable, once it has failed to connect', { timeout: 15_000 }, async () => {
    let failed!: () => void;
    const failing = new Promise<void>((resolve) => (failed = resolve));
    const worker = startWorker({ connection: 'redis://127.0.0.1:1', threads: 1, onError: () => failed() });
    await failing;
    // BullMQ's forced close waits for Redis: close() bounds that wait.
    await worker.close(0);
  });

  it.each([[-1], [NaN], [2 ** 31], ['5']])(
    'refuses a grace of %j, naming it, and closes with a valid one',
    async (grace) => {
      const worker = startWorker({ connection: 'redis://127.0.0.1:1', threads: 1 });
      try {
        const error: unknown = await worker.close(grace as number).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(OptionError);
        expect((error as OptionError).option).toBe('graceMs');
      } finally {
        await worker.close(0);
      }
    },
  );
});

describe('the worker command', () => {
  const bin = new URL('../../dist/bin/async-load.js', import.meta.url).pathname;
  const run = (...args: string[]): { status: number | null; stderr: string } => {
    const r = spawnSync(process.execPath, [bin, 'worker', '--redis', 'redis://127.0.0.1:1', ...args], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    return { status: r.status, stderr: r.stderr };
  };

  it.each([
    [['--threads', '1e3'], /--threads must be an integer/],
    [['--concurrency', '0x10'], /--concurrency must be an integer/],
    [['--grace', '2147483648'], /--grace must be at most 2147483647/],
  ])('refuses %j before starting', (args, message) => {
    const r = run(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('refuses more threads than a loader may have', () => {
    const r = run('--threads', '257');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/threads/);
  });
});
