/**
 * The key-identity properties, shared by test/key-identity.test.ts (fixed seed, in `npm test`)
 * and scripts/fuzz-keys.ts (random seed, many runs). Call `await loadHasher()` first.
 */
import fc from 'fast-check';
import { deriveKey, keyPrefix, sameBinaries, type DerivedKey } from '../../src/key.js';
import { equivalentPairArb, independentPairArb, mutatedPairArb, NARROW, WIDE, type Pair } from './arbitraries.js';
import { equivalent } from './equivalence.js';

const PREFIX = keyPrefix(0, undefined);

function keyOf(args: readonly unknown[]): DerivedKey {
  const key = deriveKey(PREFIX, args);
  if (!key) throw new Error('deriveKey returned undefined: call loadHasher() before the properties');
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
}

export function newTally(): Tally {
  return { pairs: 0, equivalentPairs: 0, differentPairs: 0 };
}

/** Equivalent ⇒ same key. The oracle must agree the rebuilt pair is equivalent (else the generator is wrong). */
export function equivalentProperty(tally: Tally, same: SameKey = sameKey): fc.IPropertyWithHooks<[Pair]> {
  return fc.property(equivalentPairArb(WIDE), (pair) => {
    tally.pairs++;
    if (!equivalent(pair.a, pair.b)) throw new Error('generator bug: two builds of one spec are not equivalent');
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
  const eq = equivalent(pair.a, pair.b);
  if (eq) tally.equivalentPairs++;
  else tally.differentPairs++;
  const same = sameKeyOf(pair.a, pair.b);
  if (same !== eq) {
    throw new Error(eq ? 'equivalent argument lists got different keys' : 'different argument lists share a key');
  }
}
