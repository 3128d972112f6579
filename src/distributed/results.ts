/**
 * An entry's latest outcome in Redis: one hash per entry (`meta`, `value`, `b0`, `b1`, ...),
 * written whole by the worker in one script before it completes the job, so a reader sees
 * either the previous outcome or this one, never half of each.
 */

import type { Redis } from 'ioredis';
import type { Keys, ResultMeta } from './job.js';
import type { Packed } from './wire.js';

export interface StoredResult {
  meta: ResultMeta;
  text: string;
  binaries: Buffer[];
}

/**
 * Replaces the hash, sets its expiry and publishes the note, in one script: one command for
 * Redis and for the client instead of a MULTI of six (this runs once per job, and the worker
 * spent a seventh of its time building and writing those commands).
 * KEYS[1] the result hash; ARGV: expiry ms or '', channel, note or '', then field/value pairs.
 */
const WRITE_SCRIPT = `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
if ARGV[1] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if ARGV[3] ~= '' then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
return 1`;

type WithWrite = Redis & {
  asyncLoadWriteResult?: (key: string, ...args: (string | Buffer)[]) => Promise<unknown>;
};

export async function writeResult(
  client: Redis,
  keys: Keys,
  entry: string,
  meta: ResultMeta,
  packed: Packed,
  ttl: number | undefined,
  note?: string,
): Promise<void> {
  const scripted = client as WithWrite;
  // ioredis sends it by its hash, and the source once when Redis does not know it.
  if (!scripted.asyncLoadWriteResult)
    client.defineCommand('asyncLoadWriteResult', { numberOfKeys: 1, lua: WRITE_SCRIPT });
  const args: (string | Buffer)[] = [
    ttl === undefined ? '' : String(Math.max(1, Math.round(ttl))),
    keys.settled(),
    note ?? '',
    'meta',
    JSON.stringify(meta),
    'value',
    packed.text,
  ];
  packed.binaries.forEach((b, i) => args.push(`b${i}`, b));
  await scripted.asyncLoadWriteResult!(keys.result(entry), ...args);
}

/** Only the metadata of an entry's latest outcome: one small read. */
export async function readMeta(client: Redis, keys: Keys, entry: string): Promise<ResultMeta | undefined> {
  const meta = await client.hget(keys.result(entry), 'meta');
  return meta ? (JSON.parse(meta) as ResultMeta) : undefined;
}

export async function readResult(
  client: Redis,
  keys: Keys,
  entry: string,
): Promise<StoredResult | undefined> {
  const hash = await client.hgetallBuffer(keys.result(entry));
  const meta = hash.meta;
  const value = hash.value;
  if (!meta || !value) return undefined;
  const parsed = JSON.parse(meta.toString()) as ResultMeta;
  const binaries: Buffer[] = [];
  for (let i = 0; i < parsed.bins; i++) {
    const b = hash[`b${i}`];
    if (!b) return undefined;
    binaries.push(b);
  }
  return { meta: parsed, text: value.toString(), binaries };
}
