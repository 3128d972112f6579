/**
 * Refresh ownership across processes: one lease per refreshing entry in Redis, held by one
 * executor at a time. Only the holder adds an entry's refresh runs; the other processes that
 * hold the entry wait for the holder's outcome, and take the lease when it lapses.
 *
 * A lease is a key (`Keys#lease`) whose value names its holder, set with `SET NX PX`. Its
 * holder keeps it alive with a compare-and-expire every third of the period, for as long as its
 * loader still has the entry; when it no longer does (its `ttl`, eviction, `clear`, `close`),
 * it deletes the lease with a compare-and-delete, so a process still reading the entry takes
 * over at its next check. A holder that dies simply stops renewing: the lease lapses within one
 * period and another process takes it. Every check and change is one Lua script, so "is it
 * mine?" and "extend it" can never be split by another process's take.
 *
 * Renewal is one timer and one script call per executor for all its leases (not one per
 * entry): a process owning thousands of refreshing entries pays a few commands per period.
 */

import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Keys } from './job.js';
import { after, type Timer } from '../timers.js';

/** Leases renewed by one script call; more are split into several calls. */
const RENEW_BATCH = 500;

/**
 * KEYS[1] the lease; ARGV[1] this holder, ARGV[2] the period (ms).
 * Returns {1, period} when this holder has it now (taken or renewed), else {0, ms left}.
 */
const TAKE = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, tonumber(ARGV[2])}
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {1, tonumber(ARGV[2])}
end
return {0, redis.call('PTTL', KEYS[1])}
`;

/** KEYS: leases; ARGV[1] this holder, ARGV[2] the period. Returns 1 per lease still held, else 0. */
const RENEW = `
local held = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
    held[i] = 1
  else
    held[i] = 0
  end
end
return held
`;

/** KEYS: leases; ARGV[1] this holder. Deletes those still held by it (never another's). */
const RELEASE = `
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('DEL', key) end
end
return 0
`;

export type Turn = { owner: true } | { owner: false; retryIn: number };

export class Leases {
  /**
   * This executor's name in lease values: host and pid say who holds an entry (for operators
   * reading Redis, and for tests), the random part keeps two loaders of one process apart.
   */
  readonly holder = `${hostname()}/${process.pid}/${randomUUID()}`;
  readonly period: number;
  readonly #client: Redis;
  readonly #keys: Keys;
  /** Whether the loader still has the entry; a lease of an entry it let go is given up. */
  readonly #holds: (entry: string) => boolean;
  /** Entries whose lease this executor took and has not seen lost or given up. */
  readonly #owned = new Set<string>();
  /** Set while #owned is not empty (and not closed). */
  #renewTimer: Timer | undefined;
  #closed = false;

  constructor(client: Redis, keys: Keys, period: number, holds: (entry: string) => boolean) {
    this.#client = client;
    this.#keys = keys;
    this.period = period;
    this.#holds = holds;
  }

  /** Whether this executor holds `entry`'s lease (as far as it knows). */
  owns(entry: string): boolean {
    return this.#owned.has(entry);
  }

  /**
   * Takes or renews the entry's lease. Not the owner: `retryIn` is when the current holder's
   * lease lapses unless renewed (ms), the moment to try again if it has not been heard from.
   */
  async take(entry: string): Promise<Turn> {
    if (this.#closed) return { owner: false, retryIn: this.period };
    const reply = (await this.#client.eval(
      TAKE,
      1,
      this.#keys.lease(entry),
      this.holder,
      Math.round(this.period),
    )) as [number, number];
    const [mine, ms] = reply;
    if (mine === 1 && !this.#closed) {
      this.#owned.add(entry);
      this.#renewSoon();
      return { owner: true };
    }
    // Taken while close() ran: given up here, as close() gave up the others, or every other
    // process would wait a whole period for it.
    if (mine === 1) await this.#release([entry]).catch(() => undefined);
    this.#owned.delete(entry);
    // -2: gone between the GET and the PTTL (cannot happen inside a script; kept safe); -1: no
    // expiry (set by hand): try again after a full period rather than spinning.
    return { owner: false, retryIn: ms > 0 ? ms : this.period };
  }

  /** Gives up every lease this executor holds, so other processes take over at once. Never throws. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#renewTimer?.cancel();
    this.#renewTimer = undefined;
    const owned = [...this.#owned];
    this.#owned.clear();
    try {
      await this.#release(owned);
    } catch {
      // Redis did not answer: the leases lapse on their own within a period.
    }
  }

  /** Runs the renewal a third of a period from now: a renewal may be lost or late twice. */
  #renewSoon(): void {
    if (this.#renewTimer || this.#closed) return;
    this.#renewTimer = after(this.period / 3, () => {
      this.#renewTimer = undefined;
      void this.#renew().finally(() => {
        if (this.#owned.size > 0) this.#renewSoon();
      });
    });
  }

  async #renew(): Promise<void> {
    const keep: string[] = [];
    const drop: string[] = [];
    for (const entry of this.#owned) (this.#holds(entry) ? keep : drop).push(entry);
    for (const entry of drop) this.#owned.delete(entry);
    try {
      await this.#release(drop);
      for (let i = 0; i < keep.length; i += RENEW_BATCH) {
        const batch = keep.slice(i, i + RENEW_BATCH);
        const held = (await this.#client.eval(
          RENEW,
          batch.length,
          ...batch.map((entry) => this.#keys.lease(entry)),
          this.holder,
          Math.round(this.period),
        )) as number[];
        batch.forEach((entry, j) => {
          if (held[j] !== 1) this.#owned.delete(entry);
        });
      }
    } catch {
      // Redis did not answer: the next renewal tries again, and if the leases lapse meanwhile
      // another process takes them (this one finds out at its next take).
    }
  }

  async #release(entries: string[]): Promise<void> {
    for (let i = 0; i < entries.length; i += RENEW_BATCH) {
      const batch = entries.slice(i, i + RENEW_BATCH);
      await this.#client.eval(
        RELEASE,
        batch.length,
        ...batch.map((entry) => this.#keys.lease(entry)),
        this.holder,
      );
    }
  }
}
