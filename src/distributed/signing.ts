/**
 * Signing jobs. Workers run source text they read from Redis, so whoever can write to the
 * queue could run code on them; with a shared `secret`, the app signs every job and workers
 * refuse any job whose signature does not match, or whose expiry has passed (a replayed
 * old job). The signature covers everything that decides what runs: format version, run id,
 * expiry, function, arguments (the outline text and a SHA-256 of each binary leaf), and the
 * flags that change how they are read.
 */

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { JobData } from './job.js';

function signedText(job: JobData, binaries: readonly Buffer[]): string {
  const fn =
    job.fn.kind === 'inline'
      ? `inline\n${job.fn.source.length}:${job.fn.source}`
      : `module\n${job.fn.url.length}:${job.fn.url}\n${job.fn.exportName}`;
  const bins = binaries.map((b) => createHash('sha256').update(b).digest('base64url')).join(',');
  return [
    `v${job.v}`,
    job.run,
    String(job.exp),
    fn,
    `${job.args.length}:${job.args}`,
    `${job.bins}:${bins}`,
    // Stryker disable StringLiteral: any two distinct texts tell a flag's two states apart, and
    // no number's text is empty, so '' marks an absent field as well as '-'.
    job.encoded ? 'e' : '-',
    job.entry,
    String(job.timeout ?? '-'),
    String(job.ttl ?? '-'),
    String(job.after ?? '-'),
    // Stryker restore StringLiteral
  ].join('\n');
}

export function sign(job: JobData, binaries: readonly Buffer[], secret: string | Buffer): string {
  // UTF-16 code units, as the identity (entry-identity.ts): UTF-8 would sign a source text with
  // one lone surrogate exactly as the same text with another.
  return createHmac('sha256', secret).update(signedText(job, binaries), 'utf16le').digest('base64url');
}

/** Why a job must be refused, or undefined when its signature is valid and it has not expired. */
export function checkSignature(
  job: JobData,
  binaries: readonly Buffer[],
  secret: string | Buffer,
  now: number,
): string | undefined {
  if (typeof job.sig !== 'string') return 'it is not signed and this worker requires signed jobs';
  const expected = Buffer.from(sign(job, binaries, secret));
  const given = Buffer.from(job.sig);
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return 'its signature does not match (tampered with, or signed with another secret)';
  if (!(job.exp >= now)) return `it expired at ${new Date(job.exp).toISOString()}`;
  return undefined;
}
