/**
 * An entry's latest outcome in Redis: one hash per entry (`meta`, `value`, `b0`, `b1`, ...),
 * written whole by the worker in one MULTI before it completes the job, so a reader sees
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

export async function writeResult(
  client: Redis,
  keys: Keys,
  entry: string,
  meta: ResultMeta,
  packed: Packed,
  ttl: number | undefined,
  note?: string,
): Promise<void> {
  const key = keys.result(entry);
  const fields: (string | Buffer)[] = ['meta', JSON.stringify(meta), 'value', packed.text];
  packed.binaries.forEach((b, i) => fields.push(`b${i}`, b));
  const multi = client
    .multi()
    .del(key)
    .hset(key, ...fields);
  if (ttl !== undefined) multi.pexpire(key, Math.max(1, Math.round(ttl)));
  // In the same transaction: whoever hears of the run can read its outcome.
  if (note !== undefined) multi.publish(keys.settled(), note);
  const replies = await multi.exec();
  const failed = replies?.find(([error]) => error);
  if (failed) throw failed[0];
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
