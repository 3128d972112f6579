// An entry's outcome in Redis: written whole (replacing the previous one, its binary leaves
// included), kept for its ttl or until replaced, announced when a note is given, and read back
// only when every part is there.
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Keys, type ResultMeta } from '../../src/distributed/job.js';
import { readMeta, readResult, writeResult } from '../../src/distributed/results.js';
import { Wire } from '../../src/distributed/wire.js';
import { redisInstalled, RedisServer } from './cluster.js';

const installed = redisInstalled();

describe.skipIf(!installed)('stored results', { timeout: 60_000 }, () => {
  let redis: RedisServer;
  let client: Redis;
  const keys = new Keys('results');
  const wire = new Wire();
  let seq = 0;

  beforeAll(async () => {
    redis = await RedisServer.start();
    client = new Redis(redis.port, '127.0.0.1');
  }, 60_000);

  afterEach(async () => {
    await client.flushall();
  });

  afterAll(async () => {
    client?.disconnect();
    await redis?.stopAndClean();
  }, 60_000);

  function meta(bins: number): ResultMeta {
    return { run: `run-${++seq}`, ok: true, startedAt: 1, finishedAt: 2, encoded: false, bins };
  }

  it('reads back what was written, binary leaves in order; a rewrite replaces it whole', async () => {
    const value = [new Uint8Array([1, 2]), 'x', new Uint8Array([3])];
    const packed = wire.pack(value);
    expect(packed.binaries).toHaveLength(2);
    const first = meta(2);
    await writeResult(client, keys, 'e', first, packed, undefined);
    const read = await readResult(client, keys, 'e');
    expect(read?.meta).toEqual(first);
    expect(wire.unpack(read!.text, read!.binaries)).toEqual(value);
    expect(await readMeta(client, keys, 'e')).toEqual(first);

    const second = meta(0);
    await writeResult(client, keys, 'e', second, wire.pack(7), undefined);
    // The first outcome's binary leaves are gone with it.
    expect((await client.hkeys(keys.result('e'))).sort()).toEqual(['meta', 'value']); // in no set order
    expect(await readResult(client, keys, 'e')).toEqual({
      meta: second,
      text: wire.pack(7).text,
      binaries: [],
    });
  });

  it('reads nothing when the entry, its value or one of its binary leaves is missing', async () => {
    expect(await readResult(client, keys, 'none')).toBeUndefined();
    expect(await readMeta(client, keys, 'none')).toBeUndefined();
    await writeResult(
      client,
      keys,
      'e',
      meta(2),
      wire.pack([new Uint8Array([1]), new Uint8Array([2])]),
      undefined,
    );
    await client.hdel(keys.result('e'), 'b1');
    expect(await readResult(client, keys, 'e')).toBeUndefined();
    await writeResult(client, keys, 'f', meta(0), wire.pack(1), undefined);
    await client.hdel(keys.result('f'), 'value');
    expect(await readResult(client, keys, 'f')).toBeUndefined();
  });

  it('keeps the outcome for its ttl, or until it is replaced', async () => {
    await writeResult(client, keys, 'kept', meta(0), wire.pack(1), undefined);
    expect(await client.pttl(keys.result('kept'))).toBe(-1);
    await writeResult(client, keys, 'ttl', meta(0), wire.pack(1), 60_000.4); // rounded for PEXPIRE
    const ttl = await client.pttl(keys.result('ttl'));
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('announces the note on the settled channel, and nothing without one', async () => {
    const listener = new Redis(redis.port, '127.0.0.1');
    try {
      const heard: string[] = [];
      listener.on('message', (_channel, text: string) => heard.push(text));
      await listener.subscribe(keys.settled());
      await writeResult(client, keys, 'quiet', meta(0), wire.pack(1), undefined);
      await writeResult(client, keys, 'loud', meta(0), wire.pack(1), undefined, '{"run":"r"}');
      // Delivered in order: once the note is heard, a note from the first write would have been.
      await expect.poll(() => heard, { timeout: 10_000 }).toEqual(['{"run":"r"}']);
    } finally {
      listener.disconnect();
    }
  });
});
