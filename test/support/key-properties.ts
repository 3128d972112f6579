/**
 * The key-identity properties, shared by test/key-identity.test.ts (fixed seed, in `npm test`)
 * and scripts/fuzz-keys.ts (random seed, many runs). Call `await loadHasher()` first.
 */
import fc from 'fast-check';
import { deriveKey, keyPrefix, sameBinaries, type DerivedKey } from '../../src/key.js';
import { KeyMemo } from '../../src/key-memo.js';
import {
  BIN_KINDS,
  equivalentPairArb,
  independentPairArb,
  mutatedPairArb,
  NARROW,
  WIDE,
  type Pair,
} from './arbitraries.js';
import { equivalent } from './equivalence.js';

const PREFIX = keyPrefix(0, undefined);

/** A loader's memo, kept across the pairs so that later pairs are found in it. */
const memo = new KeyMemo();

/**
 * The key as a loader derives it (through its memo), checked against the walker's own text:
 * a memo that mapped two different calls to one token sequence would show here.
 */
function keyOf(args: readonly unknown[]): DerivedKey {
  const walked = deriveKey(PREFIX, args);
  const key = deriveKey(PREFIX, args, memo);
  if (!walked || !key)
    throw new Error('deriveKey returned undefined: call loadHasher() before the properties');
  if (walked.text !== key.text)
    throw new Error(`the memo's key text differs from the walker's: ${key.text} / ${walked.text}`);
  return key;
}

export type SameKey = (a: readonly unknown[], b: readonly unknown[]) => boolean;

/** Whether the cache would put the two calls in one entry (the store's own match rule). */
export function sameKey(a: readonly unknown[], b: readonly unknown[]): boolean {
  const x = keyOf(a);
  const y = keyOf(b);
  return x.text === y.text && sameBinaries(x.binaries, y.binaries);
}

/** Tallies of what a run checked, so a run that checked nothing useful can be caught. */
export interface Tally {
  pairs: number;
  equivalentPairs: number;
  differentPairs: number;
  /** Which FEATURES the generated values had, and which mutations were applied. */
  seen: Set<string>;
}

export function newTally(): Tally {
  return { pairs: 0, equivalentPairs: 0, differentPairs: 0, seen: new Set() };
}

/** What the generated arguments must include: a run that misses one did not test it. */
export const FEATURES = [
  'string',
  'delimiter string',
  'NUL',
  'lone surrogate',
  'long string',
  'number',
  '-0',
  'NaN',
  'Infinity',
  '-Infinity',
  'bigint',
  'boolean',
  'null',
  'undefined',
  'plain object',
  'null-prototype object',
  'own __proto__ key',
  'constructor key',
  'prototype key',
  'array',
  'hole',
  'array property',
  'match array',
  'Date',
  'invalid Date',
  'RegExp',
  'URL',
  'Error',
  'TypeError',
  'RangeError',
  'custom error name',
  'own error name',
  'error cause',
  'enumerable cause',
  'error property',
  'AggregateError',
  'Map',
  'object Map key',
  'Set',
  'object Set item',
  ...BIN_KINDS,
  'Buffer',
  'pooled Buffer',
  'view at an offset',
  'cycle',
  'shared object',
] as const;

const DELIMITER = /[{}[\]():;,^"#|\\]/;

/** Adds the FEATURES found in `args` to `seen`. */
export function noteFeatures(args: readonly unknown[], seen: Set<string>): void {
  const visited = new Set<object>();
  const path: object[] = [];
  const walk = (v: unknown): void => {
    switch (typeof v) {
      case 'string':
        seen.add('string');
        if (DELIMITER.test(v)) seen.add('delimiter string');
        if (v.includes('\u0000')) seen.add('NUL');
        if (/\p{Surrogate}/u.test(v)) seen.add('lone surrogate');
        if (v.length >= 100) seen.add('long string');
        return;
      case 'number':
        seen.add(
          Object.is(v, -0)
            ? '-0'
            : Number.isNaN(v)
              ? 'NaN'
              : v === Infinity
                ? 'Infinity'
                : v === -Infinity
                  ? '-Infinity'
                  : 'number',
        );
        return;
      case 'object':
        break;
      default:
        seen.add(typeof v);
        return;
    }
    if (v === null) {
      seen.add('null');
      return;
    }
    if (path.includes(v)) {
      seen.add('cycle');
      return;
    }
    if (visited.has(v)) seen.add('shared object');
    visited.add(v);
    path.push(v);
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto === null || proto === Object.prototype) {
      seen.add(proto === null ? 'null-prototype object' : 'plain object');
      for (const k of Object.keys(v)) {
        if (k === '__proto__') seen.add('own __proto__ key');
        if (k === 'constructor' || k === 'prototype') seen.add(`${k} key`);
        walk((v as Record<string, unknown>)[k]);
      }
    } else if (Array.isArray(v)) {
      seen.add('array');
      if ('index' in v && 'input' in v) seen.add('match array');
      for (let i = 0; i < v.length; i++) if (!Object.hasOwn(v, i)) seen.add('hole');
      for (const k of Object.keys(v)) {
        if (!/^(0|[1-9]\d*)$/.test(k) || Number(k) >= 2 ** 32 - 1) seen.add('array property');
        walk((v as unknown as Record<string, unknown>)[k]);
      }
    } else if (v instanceof Date) {
      seen.add(Number.isNaN(v.getTime()) ? 'invalid Date' : 'Date');
    } else if (v instanceof RegExp) {
      seen.add('RegExp');
    } else if (v instanceof URL) {
      seen.add('URL');
    } else if (v instanceof Error) {
      seen.add(
        ['Error', 'TypeError', 'RangeError', 'AggregateError'].includes(v.name)
          ? v.name
          : 'custom error name',
      );
      if (Object.keys(v).includes('name')) seen.add('own error name');
      if ('cause' in v) {
        seen.add(Object.keys(v).includes('cause') ? 'enumerable cause' : 'error cause');
        walk(v.cause);
      }
      if (v instanceof AggregateError) walk(v.errors);
      for (const k of Object.keys(v)) {
        if (k !== 'name' && k !== 'message' && k !== 'cause') seen.add('error property');
        walk((v as unknown as Record<string, unknown>)[k]);
      }
    } else if (v instanceof Map) {
      seen.add('Map');
      for (const [k, x] of v) {
        if (typeof k === 'object' && k !== null) seen.add('object Map key');
        walk(k);
        walk(x);
      }
    } else if (v instanceof Set) {
      seen.add('Set');
      for (const x of v) {
        if (typeof x === 'object' && x !== null) seen.add('object Set item');
        walk(x);
      }
    } else if (v instanceof ArrayBuffer) {
      seen.add('ArrayBuffer');
    } else if (ArrayBuffer.isView(v)) {
      seen.add(v instanceof DataView ? 'DataView' : Object.prototype.toString.call(v).slice(8, -1));
      // Node's pool is Buffer.poolSize bytes (8 KiB) or more (64 KiB on Node 24); generated buffers are smaller.
      if (Buffer.isBuffer(v)) seen.add(v.buffer.byteLength >= Buffer.poolSize ? 'pooled Buffer' : 'Buffer');
      if (v.byteOffset > 0) seen.add('view at an offset');
    }
    path.pop();
  };
  for (const a of args) walk(a);
}

/** Equivalent ⇒ same key. The oracle must agree the rebuilt pair is equivalent (else the generator is wrong). */
export function equivalentProperty(tally: Tally, same: SameKey = sameKey): fc.IPropertyWithHooks<[Pair]> {
  return fc.property(equivalentPairArb(WIDE), (pair) => {
    tally.pairs++;
    noteFeatures(pair.a, tally.seen);
    if (!equivalent(pair.a, pair.b))
      throw new Error('generator bug: two builds of one spec are not equivalent');
    tally.equivalentPairs++;
    if (!same(pair.a, pair.b)) throw new Error('equivalent argument lists got different keys');
  });
}

/** Same key exactly when equivalent, for `a` against a small mutation of `a`. */
export function mutatedProperty(tally: Tally, same: SameKey = sameKey): fc.IPropertyWithHooks<[Pair]> {
  return fc.property(mutatedPairArb(WIDE), (pair) => agree(pair, tally, same));
}

/** Same key exactly when equivalent, for independently generated lists over a narrow domain. */
export function independentProperty(tally: Tally, same: SameKey = sameKey): fc.IPropertyWithHooks<[Pair]> {
  return fc.property(independentPairArb(NARROW), (pair) => agree(pair, tally, same));
}

function agree(pair: Pair, tally: Tally, sameKeyOf: SameKey): void {
  tally.pairs++;
  noteFeatures(pair.a, tally.seen);
  noteFeatures(pair.b, tally.seen);
  tally.seen.add(pair.how.split(' (')[0]!);
  const eq = equivalent(pair.a, pair.b);
  if (eq) tally.equivalentPairs++;
  else tally.differentPairs++;
  const same = sameKeyOf(pair.a, pair.b);
  if (same !== eq) {
    throw new Error(
      eq ? 'equivalent argument lists got different keys' : 'different argument lists share a key',
    );
  }
}
