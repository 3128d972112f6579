/**
 * Two calls share an entry only when the function would see the same arguments, and the run
 * receives exactly the values the key was made from. Each case is a defect found against an
 * earlier release: a call handed another call's value, or a run handed more than its data.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createLoader, UnsendableValueError } from '../src/index.js';
import { watchHostErrors } from './helpers.js';

const loader = createLoader({ threads: 2, pollInterval: 0 });
afterAll(() => loader.close());
watchHostErrors();

/** Each call gets its own function, so entries of one case never meet another's. */
let serial = 0;
function describer(): (...args: unknown[]) => Promise<unknown> {
  // A distinct source per call: a fresh function identity.
  const fn = new Function(
    `return function describe${serial++}(...args) {
      const seen = (v) => {
        if (Array.isArray(v)) return { array: v.length, holes: v.length - Object.keys(v).filter((k) => /^\\d+$/.test(k)).length, own: Object.keys(v).filter((k) => !/^\\d+$/.test(k)).map((k) => [k, seen(v[k])]), items: Array.from(v.keys(), (i) => (i in v ? seen(v[i]) : 'hole')) };
        if (v instanceof Error) return { error: v.name, message: v.message, cause: 'cause' in v ? seen(v.cause) : 'none', errors: v.errors === undefined ? 'none' : seen(v.errors), own: Object.keys(v).map((k) => [k, seen(v[k])]) };
        if (v && typeof v === 'object') return { object: Object.keys(v).map((k) => [k, seen(v[k])]) };
        return typeof v + ':' + String(v);
      };
      return args.map(seen);
    }`,
  )() as (...args: unknown[]) => unknown;
  const load = loader.asyncLoad(fn);
  return (...args: unknown[]) => load.wait(...args);
}

describe('calls that differ in what the function sees get different entries', () => {
  it("a RegExp match array's index and input", async () => {
    const call = describer();
    const a = /b/.exec('abc')!;
    const b = /b/.exec('xbz')!;
    expect(await call(a)).not.toEqual(await call(b));
    expect(JSON.stringify(await call(a))).toContain('abc');
  });

  it('a hole and undefined', async () => {
    const call = describer();
    // eslint-disable-next-line no-sparse-arrays
    const holey = await call([, 1]);
    const filled = await call([undefined, 1]);
    expect(holey).not.toEqual(filled);
    expect((holey as { holes: number }[])[0]!.holes).toBe(1);
  });

  it("AggregateError's errors", async () => {
    const call = describer();
    const one = await call(new AggregateError([new Error('x')], 'm'));
    const two = await call(new AggregateError([new Error('y')], 'm'));
    expect(one).not.toEqual(two);
  });

  it("an Error's cause and the next argument, at the top and one level down", async () => {
    const call = describer();
    const withCause = await call(new Error('m', { cause: 'x' }));
    const nextArg = await call(new Error('m'), 'x');
    expect(withCause).not.toEqual(nextArg);
    const nestedCause = await call([new Error('m', { cause: 'x' })]);
    const nestedNext = await call([new Error('m'), 'x']);
    expect(nestedCause).not.toEqual(nestedNext);
  });
});

describe('each argument is read once', () => {
  it('a getter that answers differently on each read cannot make key and run disagree', async () => {
    const poisoned = loader.asyncLoad((o: { a: number }) => o.a);
    let reads = 0;
    const shifty = {
      get a() {
        reads++;
        return reads === 1 ? 1 : 2;
      },
    };
    const value = await poisoned.wait(shifty);
    expect(reads).toBe(1);
    expect(value).toBe(1);
    // The entry is the one for { a: 1 }, and { a: 2 } is another: in this loader and any other.
    expect(await poisoned.wait({ a: 1 })).toBe(1);
    expect(await poisoned.wait({ a: 2 })).toBe(2);
    const other = createLoader({ threads: 1 });
    try {
      const again = other.asyncLoad((o: { a: number }) => o.a);
      expect(await again.wait({ a: 1 })).toBe(1);
      expect(await again.wait({ a: 2 })).toBe(2);
    } finally {
      await other.close();
    }
  });

  it('an object passed twice is read once at each place, and keyed as the two trees read', async () => {
    const describe = describer();
    let n = 0;
    const o = {
      get x() {
        return ++n;
      },
    };
    const two = [{ object: [['x', 'number:1']] }, { object: [['x', 'number:2']] }];
    // One read per place: the run sees 1 and 2.
    expect(await describe(o, o)).toEqual(two);
    expect(n).toBe(2);
    // A plain call with those values is the same entry; one with other values is not handed it.
    expect(await describe({ x: 1 }, { x: 2 })).toEqual(two);
    expect(await describe({ x: 2 }, { x: 2 })).toEqual([two[1], two[1]]);
  });

  it('refuses a Proxy at call time, naming the path, and leaves no entry behind', async () => {
    const load = loader.asyncLoad((o: unknown) => o);
    const before = loader.size;
    let trapped = 0;
    const proxy = new Proxy(
      { a: 1 },
      {
        get(target, p) {
          trapped++;
          return Reflect.get(target, p);
        },
      },
    );
    let error: unknown;
    try {
      load({ x: proxy });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnsendableValueError);
    expect((error as UnsendableValueError).path).toBe('args[0].x');
    expect(loader.size).toBe(before);
    expect(trapped).toBe(0);
    // The equal plain call is unaffected.
    expect(await load.wait({ x: { a: 1 } })).toEqual({ x: { a: 1 } });
  });

  it('refuses a typed array over a SharedArrayBuffer, as a bare SharedArrayBuffer is', () => {
    const load = loader.asyncLoad((o: unknown) => o);
    const before = loader.size;
    const shared = new Int32Array(new SharedArrayBuffer(16));
    expect(() => load([shared])).toThrow(UnsendableValueError);
    expect(() => load({ deep: { view: new DataView(new SharedArrayBuffer(8)) } })).toThrow(
      /args\[0\]\.deep\.view is a view over a SharedArrayBuffer/,
    );
    expect(loader.size).toBe(before);
  });
});

describe('only the view is sent', () => {
  it('a small Buffer arrives without the shared pool behind it (no other data of the process)', async () => {
    const secret = Buffer.from('password=hunter2');
    const small = Buffer.from('hi');
    expect(small.buffer.byteLength).toBeGreaterThan(2); // Node's pool: the leak this guards against
    const inspect = loader.asyncLoad((b: Uint8Array) => ({
      length: b.length,
      backing: b.buffer.byteLength,
      text: new TextDecoder().decode(new Uint8Array(b.buffer)),
    }));
    const seen = await inspect.wait(small);
    expect(seen).toEqual({ length: 2, backing: 2, text: 'hi' });
    expect(secret.length).toBeGreaterThan(0);
  });

  it('a subarray of a big array copies only its own bytes', async () => {
    const big = new Float64Array(1 << 20);
    big.set([1, 2, 3, 4], 100);
    const backing = loader.asyncLoad((v: Float64Array) => [v.buffer.byteLength, Array.from(v)]);
    expect(await backing.wait(big.subarray(100, 104))).toEqual([32, [1, 2, 3, 4]]);
    const view = loader.asyncLoad((v: DataView) => [v.buffer.byteLength, v.getUint8(0)]);
    const bytes = new Uint8Array(64);
    bytes[10] = 7;
    expect(await view.wait(new DataView(bytes.buffer, 10, 4))).toEqual([4, 7]);
  });

  it('results are sent as their view only, too', async () => {
    const make = loader.asyncLoad(() => {
      const pool = Buffer.from('x');
      return { small: pool, part: new Uint8Array(1 << 20).subarray(0, 3) };
    });
    const out = (await make.wait()) as { small: Uint8Array; part: Uint8Array };
    expect(out.small.buffer.byteLength).toBe(1);
    expect(out.part.buffer.byteLength).toBe(3);
  });

  it('a Buffer and a Uint8Array of the same bytes are the same call (the thread sees a Uint8Array)', async () => {
    const kinds = loader.asyncLoad((v: Uint8Array) => v.constructor.name);
    expect(await kinds.wait(Buffer.from([1, 2]))).toBe('Uint8Array');
    const before = loader.size;
    expect(await kinds.wait(new Uint8Array([1, 2]))).toBe('Uint8Array');
    expect(loader.size).toBe(before);
  });
});

describe('__proto__ as an own key', () => {
  it('reaches the function as data, in arguments and in results', async () => {
    const keys = loader.asyncLoad((o: object) => ({
      keys: Object.keys(o),
      back: JSON.parse('{"__proto__": {"x": 1}}') as object,
    }));
    const own = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as object;
    const out = await keys.wait(own);
    expect(out.keys.sort()).toEqual(['__proto__', 'a']);
    expect(Object.keys(out.back)).toEqual(['__proto__']);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('in an object that also needs the codec (beside an Error)', async () => {
    const keys = loader.asyncLoad((o: { e: Error; p: object }) => Object.keys(o.p));
    const p = JSON.parse('{"__proto__": 1}') as object;
    expect(await keys.wait({ e: new Error('x'), p })).toEqual(['__proto__']);
  });
});

describe('big arrays', () => {
  it('a big array of numbers is one entry per content, and arrives intact', async () => {
    const sum = loader.asyncLoad((a: number[]) => [
      a.length,
      a.reduce((s, x) => s + x, 0),
      Object.is(a[5], -0),
    ]);
    const make = (): number[] => Array.from({ length: 10_000 }, (_, i) => (i === 5 ? -0 : i));
    expect(await sum.wait(make())).toEqual([10_000, 49_994_995, true]);
    const before = loader.size;
    expect(sum(make())).toEqual([10_000, 49_994_995, true]);
    expect(loader.size).toBe(before);
    const other = make();
    other[5] = 0;
    expect(await sum.wait(other)).toEqual([10_000, 49_994_995, false]);
  });

  it('a big array with holes, mixed values or extra properties keeps them', async () => {
    const shape = loader.asyncLoad((a: unknown[]) => [
      a.length,
      Object.keys(a).length,
      a[299],
      (a as { tag?: string }).tag,
    ]);
    const holey: unknown[] = new Array(300);
    holey[299] = 'end';
    expect(await shape.wait(holey)).toEqual([300, 1, 'end', undefined]);
    const tagged = Array.from({ length: 300 }, (_, i) => i) as unknown[] & { tag?: string };
    tagged.tag = 'x';
    expect(await shape.wait(tagged)).toEqual([300, 301, 299, 'x']);
    const mixed = Array.from({ length: 300 }, (_, i) => (i === 150 ? 'mid' : i));
    expect(await shape.wait(mixed)).toEqual([300, 300, 299, undefined]);
    const sparse = new Array(1e8);
    sparse[5] = 1;
    expect(await shape.wait(sparse)).toEqual([1e8, 1, undefined, undefined]);
  });
});

describe('binary values inside Maps and Sets', () => {
  it('each arrives under its own key, whatever the insertion order', async () => {
    const read = loader.asyncLoad((m: Map<string, Uint8Array>) =>
      [...m].map(([k, v]) => `${k}=${v.join(',')}`).sort(),
    );
    const map = new Map([
      ['b', new Uint8Array([2, 2])],
      ['a', new Uint8Array([1])],
    ]);
    expect(await read.wait(map)).toEqual(['a=1', 'b=2,2']);
    const before = loader.size;
    const reordered = new Map([
      ['a', new Uint8Array([1])],
      ['b', new Uint8Array([2, 2])],
    ]);
    expect(await read.wait(reordered)).toEqual(['a=1', 'b=2,2']);
    expect(loader.size).toBe(before);
  });
});

describe('found by an outside attack on the packed library', () => {
  it("a subscriber changing an event's args changes nothing later runs receive", async () => {
    const local = createLoader({ threads: 1, pollInterval: 0 });
    try {
      const load = local.asyncLoad((o: { n: number }) => o.n);
      let heard = 0;
      load.subscribe((events) => {
        heard += events.length;
        for (const e of events) (e.args[0] as { n: number }).n = 666;
      });
      expect(await load.wait({ n: 1 })).toBe(1);
      await vi.waitFor(() => expect(heard).toBe(1));
      load.refresh({ n: 1 });
      expect(await load.wait({ n: 1 })).toBe(1);
    } finally {
      await local.close();
    }
  });

  it('refuses subclasses of built-ins and objects made from their prototypes, with a path and a code', () => {
    const load = loader.asyncLoad((x: unknown) => x);
    class MyArray extends Array<number> {}
    class MyMap extends Map<unknown, unknown> {}
    const fakes: [unknown, RegExp][] = [
      [
        Object.create(Date.prototype),
        /args\[0\] is an instance of Date \(a subclass of Date\)|args\[0\] is .*Date/,
      ],
      [Object.create(Map.prototype), /args\[0\] is /],
      [Object.create(URL.prototype), /args\[0\] is /],
      [Object.create(RegExp.prototype), /args\[0\] is /],
      [MyArray.from([1]), /args\[0\] is an instance of MyArray \(a subclass of Array\)/],
      [{ inner: new MyMap() }, /args\[0\]\.inner is an instance of MyMap \(a subclass of Map\)/],
    ];
    const before = loader.size;
    for (const [value, message] of fakes) {
      let error: unknown;
      try {
        load(value);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(UnsendableValueError);
      expect((error as Error).message).toMatch(message);
    }
    expect(loader.size).toBe(before);
  });

  it('refuses an object whose prototype is a Proxy without running its traps', () => {
    const load = loader.asyncLoad((x: unknown) => x);
    let traps = 0;
    const trapAll = new Proxy(
      {},
      {
        get: () => (traps++, undefined),
        getPrototypeOf: () => (traps++, null),
        has: () => (traps++, false),
      },
    );
    expect(() => load({ deep: Object.create(trapAll) as object })).toThrow(
      /args\[0\]\.deep is an object whose prototype is a Proxy/,
    );
    expect(traps).toBe(0);
  });

  it('refuses a detached buffer with a path and a code', () => {
    const load = loader.asyncLoad((x: unknown) => x);
    const buffer = new ArrayBuffer(4);
    const view = new Uint8Array(buffer);
    structuredClone(buffer, { transfer: [buffer] });
    expect(() => load([view])).toThrow(/args\[0\]\[0\] is a detached ArrayBuffer/);
    expect(() => load(buffer)).toThrow(UnsendableValueError);
  });

  it("reads an AggregateError's errors once, even when they are enumerable", async () => {
    const load = loader.asyncLoad((e: AggregateError) => e.errors);
    let reads = 0;
    const error = new AggregateError([], 'x');
    Object.defineProperty(error, 'errors', { get: () => [++reads], enumerable: true });
    expect(await load.wait(error)).toEqual([1]);
    expect(reads).toBe(1);
  });

  it('a getter that adds a property to a big sparse array while it is read changes nothing', async () => {
    const load = loader.asyncLoad((a: unknown[]) => [a.length, a[0], Object.keys(a).length]);
    const arr: unknown[] = new Array(70_000);
    Object.defineProperty(arr, 0, {
      enumerable: true,
      get() {
        (arr as unknown as { foo: number }).foo = 1;
        return 'first';
      },
    });
    expect(await load.wait(arr)).toEqual([70_000, 'first', 1]);
  });

  it('refuses a value that shares objects explosively, quickly', () => {
    const load = loader.asyncLoad((x: unknown) => x);
    let x: unknown = 0;
    for (let i = 0; i < 30; i++) x = [x, x];
    const started = performance.now();
    expect(() => load(x)).toThrow(/reaches the same objects more than 100,000 times over/);
    // Generous: refused after a few hundred thousand objects, not after a billion.
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
