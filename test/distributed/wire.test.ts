// Values through Redis come back as they would through the local pool: the oracle is the
// local codec's round trip (prepare, structured clone, decode).

import { isDeepStrictEqual } from 'node:util';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { decode, prepare } from '../../src/codec.js';
import { UnsendableValueError } from '../../src/errors.js';
import { Wire } from '../../src/distributed/wire.js';

const wire = new Wire();

function throughRedis(value: unknown): unknown {
  const carried = prepare(value, 'result');
  const packed = wire.pack(carried.value);
  // What Redis hands back: text, and each binary part as a Buffer of its own.
  const binaries = packed.binaries.map((b) => Buffer.from(b));
  const back = wire.unpack(packed.text, binaries);
  return carried.encoded ? decode(back) : back;
}

function throughThreads(value: unknown): unknown {
  const carried = prepare(value, 'result');
  const back = structuredClone(carried.value);
  return carried.encoded ? decode(back) : back;
}

const key = fc.string({ maxLength: 6 }).filter((k) => k !== '__proto__');
const leaf = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.double(),
  fc.integer(),
  fc.bigInt(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.date({ noInvalidDate: true }),
  fc.constantFrom(/a+/g, /(?<x>b)/i),
  fc.float64Array({ maxLength: 8 }),
  fc.uint8Array({ maxLength: 8 }),
  fc.int32Array({ maxLength: 4 }),
  fc.bigInt64Array({ maxLength: 3 }),
  fc.uint8Array({ maxLength: 8 }).map((a) => a.slice().buffer),
  fc.webUrl().map((u) => new URL(u)),
  fc.string({ maxLength: 10 }).map((m) => Object.assign(new TypeError(m), { code: 'E_X' })),
);
const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object'), tie('map'), tie('set')),
  array: fc.oneof(
    fc.array(tie('value'), { maxLength: 4 }),
    fc.sparseArray(tie('value'), { maxLength: 5 }),
    // Extra properties, some of them keys that read like indices but are not ("01", "-0").
    fc
      .tuple(
        fc.array(tie('value'), { maxLength: 3 }),
        fc.dictionary(fc.constantFrom('01', '-0', '1.5', '1e0', 'x'), tie('value'), { maxKeys: 2 }),
      )
      .map(([items, extra]) => Object.assign(items, extra)),
  ),
  object: fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  map: fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 3 }).map((e) => new Map(e)),
  set: fc.array(tie('value'), { maxLength: 3 }).map((e) => new Set(e)),
}));

/**
 * Whether JSON text carries `v` exactly: JSON.parse(JSON.stringify(v)) is deeply and strictly
 * equal to it (prototypes, holes, -0 and extra array properties included), and no object is
 * reached twice (JSON would duplicate a shared one). An own `__proto__` key is left to the
 * tagged outline too, whose decoder defines it as an own property.
 */
function jsonExact(v: unknown): boolean {
  const seen = new Set<object>();
  const tree = (x: unknown): boolean => {
    if (typeof x !== 'object' || x === null) return true;
    if (seen.has(x)) return false;
    seen.add(x);
    if (Object.hasOwn(x, '__proto__')) return false;
    return Object.values(x).every(tree);
  };
  try {
    return tree(v) && isDeepStrictEqual(JSON.parse(JSON.stringify(v)), v);
  } catch {
    return false; // undefined, a BigInt, a cycle
  }
}

describe('wire', () => {
  test.prop(
    [
      fc.oneof(
        value,
        fc.jsonValue(),
        fc.jsonValue().map((j) => [j, j]),
      ),
    ],
    { numRuns: 500 },
  )('packs as JSON text exactly the values JSON carries exactly', (v) => {
    expect(wire.pack(v).text[0]).toBe(jsonExact(v) ? 'j' : 't');
  });

  it('packs a tree up to 200 levels below its root as JSON text, a deeper one tagged', () => {
    const nest = (levels: number): unknown[] => {
      let v: unknown[] = [];
      for (let i = 1; i < levels; i++) v = [v];
      return v;
    };
    expect(wire.pack(nest(201)).text[0]).toBe('j');
    expect(wire.pack(nest(202)).text[0]).toBe('t');
    expect(wire.unpack(wire.pack(nest(202)).text, [])).toStrictEqual(nest(202));
  });

  test.prop([value], { numRuns: 500 })('a round trip through Redis equals one through threads', (v) => {
    expect(throughRedis(v)).toStrictEqual(throughThreads(v));
  });

  test.prop([value, value], { numRuns: 200 })('shared references stay shared', (a, b) => {
    const shared = { a, b };
    const back = throughRedis([shared, new Map([[shared, shared]]), new Set([shared])]) as [
      unknown,
      Map<unknown, unknown>,
      Set<unknown>,
    ];
    expect(back).toStrictEqual(throughThreads([shared, new Map([[shared, shared]]), new Set([shared])]));
    const [first, map, set] = back;
    expect([...map][0]).toEqual([first, first]);
    expect([...map][0]![0]).toBe(first);
    expect([...set][0]).toBe(first);
  });

  it('restores a shared value inside a Map used as a key (superjson did not)', () => {
    const r = /a/g;
    const v = new Map([
      [
        new Map<unknown, unknown>([
          [r, 0],
          [2, r],
        ]),
        { x: r },
      ],
    ]);
    expect(throughRedis(v)).toStrictEqual(throughThreads(v));
  });

  it('keeps holes, extra array properties, -0, NaN dates and own __proto__ keys', () => {
    // eslint-disable-next-line no-sparse-arrays
    const arr: unknown[] & { extra?: string } = [1, , -0];
    arr.extra = 'x';
    const obj = JSON.parse('{"__proto__": {"p": 1}, "n": null}') as object;
    const v = { arr, obj, bad: new Date(NaN), inf: [Infinity, -Infinity, NaN], big: -(2n ** 80n) };
    const back = throughRedis(v) as typeof v;
    expect(back).toStrictEqual(throughThreads(v));
    expect(Object.hasOwn(back.arr, 1)).toBe(false);
    expect(Object.hasOwn(back.obj, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(back.obj)).toBe(Object.prototype);
  });

  it('keeps shared references and cycles, and error classes and causes', () => {
    const shared = { n: 1 };
    const cycle: Record<string, unknown> = { shared };
    cycle.self = cycle;
    const back = throughRedis({ cycle, list: [shared, shared], e: new RangeError('r', { cause: 5 }) }) as {
      cycle: { self: unknown; shared: unknown };
      list: unknown[];
      e: RangeError;
    };
    expect(back.cycle.self).toBe(back.cycle);
    expect(back.list[0]).toBe(back.list[1]);
    expect(back.e).toBeInstanceOf(RangeError);
    expect(back.e.cause).toBe(5);
  });

  it('carries binary leaves as raw bytes beside the text, never inside it', () => {
    const big = new Float64Array(20_000).map((_, i) => i / 3);
    const packed = wire.pack({ big, label: 'x' });
    expect(packed.text.length).toBeLessThan(200);
    expect(packed.binaries).toHaveLength(1);
    expect(packed.binaries[0]!.byteLength).toBe(big.byteLength);
    expect(wire.unpack(packed.text, packed.binaries)).toStrictEqual({ big, label: 'x' });
  });

  it('sends plain JSON values as JSON text', () => {
    expect(wire.pack({ a: [1, 'b', null, { c: true }] }).text).toBe('j{"a":[1,"b",null,{"c":true}]}');
    expect(wire.pack([1, -0]).text.startsWith('t')).toBe(true);
    expect(wire.pack({ a: undefined }).text.startsWith('t')).toBe(true);
    // eslint-disable-next-line no-sparse-arrays
    expect(wire.pack([1, , 2]).text.startsWith('t')).toBe(true);
  });

  it('refuses what the local codec refuses, with the same error', () => {
    expect(() => throughRedis({ f: () => 1 })).toThrow(UnsendableValueError);
    expect(() => throughRedis({ f: () => 1 })).toThrow(/result\.f/);
  });
});
