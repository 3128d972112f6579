/**
 * Long run of the key-identity properties (test/key-identity.test.ts runs the same ones with a
 * fixed seed and fewer pairs): `npx tsx scripts/fuzz-keys.ts [runs] [seed]`.
 * 1,000,000 pairs by default, with a random seed; prints the seed first, and on failure the
 * shrunk counterexample and how to replay it; exits non-zero on any failure.
 */
import fc from 'fast-check';
import { loadHasher } from '../src/hash.js';
import {
  equivalentProperty,
  independentProperty,
  mutatedProperty,
  newTally,
  type Tally,
} from '../test/support/key-properties.js';
import type { Pair } from '../test/support/arbitraries.js';

const runs = Number(process.argv[2] ?? 1_000_000);
const seed = process.argv[3] === undefined ? (Math.random() * 2 ** 31) | 0 : Number(process.argv[3]);
if (!Number.isInteger(runs) || runs < 3)
  throw new Error(`Expected a number of runs >= 3, got ${process.argv[2]}`);
if (!Number.isInteger(seed)) throw new Error(`Expected an integer seed, got ${process.argv[3]}`);

await loadHasher();
console.log(`fuzz-keys: ${runs} pairs, seed ${seed} (replay: npx tsx scripts/fuzz-keys.ts ${runs} ${seed})`);

const properties: [string, (t: Tally) => fc.IPropertyWithHooks<[Pair]>, number][] = [
  ['equivalent => same key', equivalentProperty, 0.4],
  ['mutated: same key <=> equivalent', mutatedProperty, 0.4],
  ['independent: same key <=> equivalent', independentProperty, 0.2],
];

let failed = false;
for (const [name, property, share] of properties) {
  const tally = newTally();
  const numRuns = Math.max(1, Math.round(runs * share));
  const started = performance.now();
  const details = fc.check(property(tally), { seed, numRuns });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (details.failed) {
    failed = true;
    console.log(`\nFAIL ${name} (seed ${seed}, ${seconds} s)\n${fc.defaultReportMessage(details)}\n`);
  } else {
    console.log(
      `ok   ${name}: ${tally.pairs} pairs (${tally.equivalentPairs} equivalent, ${tally.differentPairs} different) in ${seconds} s`,
    );
  }
}
if (failed) {
  console.log(`fuzz-keys: FAILED with seed ${seed}`);
  process.exitCode = 1;
}
