/**
 * An entry's identity across processes and machines. Inside one loader entries are keyed by
 * a channel number that only that loader knows; another process has other numbers. This is
 * the same identity spelled without them: the function's identity text, the `key` option and
 * the argument key text, hashed (SHA-256) so it fits in a Redis key and a BullMQ
 * deduplication id. Every part is length-prefixed, so no two different triples read the same,
 * and the text is hashed code unit by code unit, so no two different texts hash as one.
 */

import { createHash } from 'node:crypto';
import type { Registration } from './registration.js';

export function entryIdentity(registration: Registration, keyText: string): string {
  const args = keyText.slice(registration.prefix.length);
  return hashIdentity(registration.channel.identity, registration.options.key, args);
}

/** Separated from entryIdentity so it can be tested without a loader. */
export function hashIdentity(fnIdentity: string, key: string | undefined, args: string): string {
  const keyPart = key === undefined ? '-' : `${key.length}:${key}`;
  // Hashed as UTF-16 code units: as UTF-8, every lone surrogate turns into U+FFFD, and calls
  // with '\uD800' and '\uDBFF' shared one identity (and one run, and one stored result).
  return createHash('sha256')
    .update(`${fnIdentity.length}:${fnIdentity}|${keyPart}|${args}`, 'utf16le')
    .digest('base64url');
}
