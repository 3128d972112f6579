/**
 * What travels in a BullMQ job and in the library's own Redis keys. Shared by the app side
 * (bullmq-executor.ts) and the worker side (worker-service.ts); not part of the public API.
 */

import type { FunctionRef } from '../protocol.js';

/**
 * Version of the job format; a worker refuses versions it does not know. 2: identities and
 * signatures hash UTF-16 code units (1 hashed UTF-8, which merged lone surrogates).
 */
export const JOB_VERSION = 2;

export interface JobData {
  v: number;
  /** The run's own id: unique, never reused (also the BullMQ job id of the run that created it). */
  run: string;
  fn: FunctionRef;
  /** The arguments array, packed (wire.ts); its binary leaves are in the args key. */
  args: string;
  /** How many binary leaves the args key holds. */
  bins: number;
  /** The args went through codec.encode (tagged errors, URLs) and are decoded on the thread. */
  encoded: boolean;
  /** The entry identity (entry-identity.ts); the result key is named by it. */
  entry: string;
  /** Milliseconds from the run's actual start on a thread. */
  timeout?: number;
  /** Milliseconds the shared result is kept (the loader's ttl); absent: kept until replaced. */
  ttl?: number;
  /**
   * The start (epoch ms) of the newest outcome of the entry the app had seen when it decided
   * to run it; absent: none. A worker that finds a successful outcome started later serves that
   * instead of running (another process's run settled in between: see worker-service.ts).
   */
  after?: number;
  /** Epoch ms after which a worker refuses the job (checked when it is signed). */
  exp: number;
  /** HMAC-SHA256 (base64url) of the fields above, when the app has a `secret`. */
  sig?: string;
}

/**
 * The job's return value. The outcome is always in the result key; a small one without binary
 * parts is also carried here, so the app has it from the completion event without another
 * round trip to Redis.
 */
export interface JobReturn {
  run: string;
  /** Set when the worker did not run the job but found a newer outcome (that run's id). */
  served?: string;
  meta?: ResultMeta;
  text?: string;
}

/**
 * Published on Keys#settled when a run's outcome is stored, or its job fails: the app processes
 * waiting for the job settle their runs, and those that hold the entry but did not wait for
 * this run take its outcome too. A small outcome rides along (see JobReturn).
 */
export interface SettledNote extends JobReturn {
  entry: string;
  /** The job failed (refused, or the worker's own failure) with this reason; no outcome is stored. */
  failed?: string;
}

/** Largest packed outcome (characters) carried in the job's return value too. */
export const INLINE_RESULT_CHARS = 16 * 1024;

/** Metadata stored beside a result. */
export interface ResultMeta {
  run: string;
  ok: boolean;
  startedAt: number | undefined;
  finishedAt: number;
  /** The packed value (or error) went through codec.encode. */
  encoded: boolean;
  /** How many binary leaves the result key holds (fields b0, b1, ...). */
  bins: number;
}

/** Names of the library's own keys. One prefix per queue, so one ACL pattern covers them. */
export class Keys {
  readonly prefix: string;

  constructor(queue: string) {
    this.prefix = `asyncload:${queue}:`;
  }

  /** Hash of an entry's latest result: `meta`, `value`, `b0`... */
  result(entry: string): string {
    return `${this.prefix}r:${entry}`;
  }

  /** Pub/sub channel on which workers announce each settled run (a SettledNote). */
  settled(): string {
    return `${this.prefix}settled`;
  }

  /** An entry's refresh lease: the holder's name, expiring unless renewed (see lease.ts). */
  lease(entry: string): string {
    return `${this.prefix}l:${entry}`;
  }

  /** Hash of a run's binary argument leaves: `b0`, `b1`... */
  args(run: string): string {
    return `${this.prefix}a:${run}`;
  }
}

/** Prefix of the failedReason a worker gives when it refuses a job (see JobRefusedError). */
export const REFUSED = 'async-load refused the job: ';
