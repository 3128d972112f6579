/**
 * big: a cached call whose arguments are big. The entry exists; each timed call passes a
 * fresh argument equal to (never identical to) the one that created it, built outside the
 * timing as an application would have it (decoded from bytes, parsed from JSON, filled by a
 * loop), so no identity shortcut or cached string hash can answer for the library.
 *   - a 100 MiB string, decoded from UTF-8 bytes (target ≥ 1 GB/s);
 *   - an array of 10 million numbers, integers and fractions mixed (≤ 500 ms);
 *   - a 100,000-key object parsed from JSON, values mixed (≤ 20 ms);
 *   - a sparse `new Array(1e8)` (reported);
 *   - a 1 MiB `key` option: the same small call with and without it (≤ 1.1×).
 * References (reported, no target): `===` of the two equal strings (the floor of any exact
 * match) and JSON.stringify of the array and the object (what a hand-rolled memo would pay).
 * With --quick the sizes are smaller and the absolute targets are scaled by the size.
 */
import { createLoader } from 'async-load';
import { interleave, ratios, stat, type Figure, type SuiteOptions } from '../harness.js';

const MiB = 1024 * 1024;

function time(f: () => unknown): number {
  const t0 = performance.now();
  const v = f();
  const ms = performance.now() - t0;
  if (v === undefined || v === false) throw new Error('big: a cached call missed (or an equality failed)');
  return ms;
}

export async function big({ quick }: SuiteOptions): Promise<Figure[]> {
  const scale = quick ? 0.1 : 1;
  const STRING_BYTES = Math.round(100 * MiB * scale);
  const ARRAY_LENGTH = Math.round(10_000_000 * scale);
  const KEYS = Math.round(100_000 * scale);
  // Not scaled: V8 backs `new Array(n)` with a dictionary only for large n (1e7 gets a
  // flat, hole-filled store of 80 MB, a different case), and 1e8 is cheap to build.
  const SPARSE = 1e8;
  const ROUNDS = quick ? 3 : 7;
  const KEY_CALLS = quick ? 20_000 : 100_000;
  const loader = createLoader();
  const length = loader.asyncLoad((x: string | unknown[]) => x.length);
  const keyCount = loader.asyncLoad((o: object) => Object.keys(o).length);
  const figures: Figure[] = [];

  // String: pseudo-random letters, so no run of equal bytes makes comparing cheap.
  const bytes = Buffer.alloc(STRING_BYTES);
  for (let i = 0, x = 1; i < bytes.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = 97 + ((x >>> 16) % 26);
  }
  const first = bytes.toString('utf8');
  await length.wait(first);
  const strMs: number[] = [];
  const eqMs: number[] = [];
  for (let r = -1; r < ROUNDS; r++) {
    const fresh = bytes.toString('utf8');
    const a = time(() => length(fresh));
    const other = bytes.toString('utf8');
    const b = time(() => other === fresh);
    if (r >= 0) {
      strMs.push(a);
      eqMs.push(b);
    }
  }
  const gbps = (ms: number): number => STRING_BYTES / 1e9 / (ms / 1000);
  const strRate = stat(strMs.map(gbps));
  figures.push({
    suite: 'big',
    name: `cached call, equal ${(STRING_BYTES / MiB).toFixed(0)} MiB string`,
    unit: 'GB/s',
    ours: strRate,
    baseline: { name: '=== of two equal strings', stat: stat(eqMs.map(gbps)) },
    ratio: stat(ratios(strMs.map(gbps), eqMs.map(gbps))),
    target: '≥ 1 GB/s',
    met: strRate.median >= 1,
    note: `${stat(strMs).median.toFixed(1)} ms a call`,
  });
  length.clear();

  // Array of numbers: integers and fractions mixed (a double array, as measurements are).
  const makeArray = (): number[] => Array.from({ length: ARRAY_LENGTH }, (_, i) => (i % 3 ? i : i + 0.25));
  await length.wait(makeArray());
  const arrMs: number[] = [];
  const arrJson: number[] = [];
  for (let r = -1; r < ROUNDS; r++) {
    const fresh = makeArray();
    const a = time(() => length(fresh));
    const b = time(() => JSON.stringify(fresh));
    if (r >= 0) {
      arrMs.push(a);
      arrJson.push(b);
    }
  }
  const arrLimit = 500 * scale;
  const arr = stat(arrMs);
  figures.push({
    suite: 'big',
    name: `cached call, equal array of ${ARRAY_LENGTH.toLocaleString('en-US')} numbers`,
    unit: 'ms',
    ours: arr,
    baseline: { name: 'JSON.stringify of it', stat: stat(arrJson) },
    ratio: stat(ratios(arrMs, arrJson)),
    target: `≤ ${arrLimit} ms`,
    met: arr.median <= arrLimit,
  });
  length.clear();

  // Object of many keys, parsed from JSON as a request body would be.
  const objectText = JSON.stringify(
    Object.fromEntries(
      Array.from({ length: KEYS }, (_, i) => [
        `field_${i}`,
        i % 3 === 0 ? i : i % 3 === 1 ? `v${i}` : i % 2 === 0,
      ]),
    ),
  );
  await keyCount.wait(JSON.parse(objectText) as object);
  const objMs: number[] = [];
  const objJson: number[] = [];
  for (let r = -1; r < ROUNDS; r++) {
    const fresh = JSON.parse(objectText) as object;
    const a = time(() => keyCount(fresh));
    const b = time(() => JSON.stringify(fresh));
    if (r >= 0) {
      objMs.push(a);
      objJson.push(b);
    }
  }
  const objLimit = 20 * scale;
  const obj = stat(objMs);
  figures.push({
    suite: 'big',
    name: `cached call, equal object of ${KEYS.toLocaleString('en-US')} keys`,
    unit: 'ms',
    ours: obj,
    baseline: { name: 'JSON.stringify of it', stat: stat(objJson) },
    ratio: stat(ratios(objMs, objJson)),
    target: `≤ ${objLimit} ms`,
    met: obj.median <= objLimit,
  });
  keyCount.clear();

  // Sparse array: its length says nothing about its size.
  await length.wait(new Array<number>(SPARSE));
  const sparseMs: number[] = [];
  for (let r = -1; r < ROUNDS; r++) {
    const fresh = new Array<number>(SPARSE);
    const a = time(() => length(fresh));
    if (r >= 0) sparseMs.push(a);
  }
  figures.push({
    suite: 'big',
    name: `cached call, sparse new Array(${SPARSE.toExponential(0)})`,
    unit: 'ms',
    ours: stat(sparseMs),
    target: 'reported',
    met: true,
  });
  length.clear();

  // A 1 MiB key option against none: the same function, the same small object argument.
  const keyText = bytes.toString('latin1', 0, MiB);
  const keyed = loader.asyncLoad((o: { month: string; limit: number }) => o.limit, { key: keyText });
  const plain = loader.asyncLoad((o: { month: string; limit: number }) => o.limit);
  const texts = Array.from({ length: 8 }, (_, v) =>
    JSON.stringify({ month: '2026-11', region: 'eu', limit: 50 + v, draft: false, scale: 1.5 }),
  );
  for (const t of texts)
    await Promise.all([
      keyed.wait(JSON.parse(t) as { month: string; limit: number }),
      plain.wait(JSON.parse(t) as { month: string; limit: number }),
    ]);
  const calls = (fn: typeof plain): number => {
    const args = Array.from(
      { length: KEY_CALLS },
      (_, i) => JSON.parse(texts[i & 7]!) as { month: string; limit: number },
    );
    const t0 = performance.now();
    for (let i = 0; i < KEY_CALLS; i++)
      if (fn(args[i]!) === undefined) throw new Error('big: key call missed');
    return ((performance.now() - t0) * 1e6) / KEY_CALLS;
  };
  const keySamples = await interleave(
    { keyed: () => calls(keyed), plain: () => calls(plain) },
    quick ? 5 : 11,
    2,
  );
  const keyRatio = stat(ratios(keySamples.keyed, keySamples.plain));
  figures.push({
    suite: 'big',
    name: 'cached call with a 1 MiB key option (5-key object argument)',
    unit: 'ns',
    ours: stat(keySamples.keyed),
    baseline: { name: 'the same call without key', stat: stat(keySamples.plain) },
    ratio: keyRatio,
    target: '≤ 1.1×',
    met: keyRatio.median <= 1.1,
  });
  await loader.close();
  return figures;
}
