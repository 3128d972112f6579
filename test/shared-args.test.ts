/**
 * Big binary arguments go to a run through shared memory (one copy on each side, none by
 * structured clone), yet every run gets a buffer of its own: ordinary (not shared), exactly
 * its size, of its kind, and nothing a run or a subscriber does to it reaches another run.
 */
import { describe, expect, it, vi } from 'vitest';
import { SHARE_MIN } from '../src/rebuild-args.js';
import { coordinatorBeforeHasher } from './fixtures/fake-executor.js';
import { loaderFactory, watchHostErrors } from './helpers.js';

watchHostErrors();
const make = loaderFactory();
const loader = () => make({ threads: 1 });

/** What a run saw of each binary argument (run on a real thread). */
function describeBinary(v: ArrayBufferView): {
  kind: string;
  shared: boolean;
  own: boolean;
  bytes: number;
  first: number;
} {
  const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return {
    kind: Object.prototype.toString.call(v).slice(8, -1),
    shared: Object.prototype.toString.call(v.buffer) === '[object SharedArrayBuffer]',
    own: v.byteOffset === 0 && v.byteLength === v.buffer.byteLength,
    bytes: v.byteLength,
    first: bytes[0]!,
  };
}

describe('big binary arguments', () => {
  it('each run gets its own ordinary, exact-size copy of its kind, wherever the view sits', async () => {
    const l = loader();
    const floats = new Float64Array(SHARE_MIN / 8 + 3).fill(1.5);
    const view = new DataView(new ArrayBuffer(SHARE_MIN * 2), 8, SHARE_MIN + 1);
    view.setUint8(0, 7);
    const bytes = new Uint8Array(SHARE_MIN).fill(9);
    const small = new Int16Array(4).fill(3);
    const seen = l.asyncLoad(
      (
        a: Float64Array,
        nested: { view: DataView; list: [Uint8Array, Uint8Array] },
        map: Map<string, Int16Array>,
      ) => {
        const all = [a, nested.view, nested.list[0], nested.list[1], map.get('small')!];
        // describeBinary's checks, written out: this body runs on a thread, where the test's
        // own functions are not in scope.
        return all.map((v) => {
          const b = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
          return {
            kind: Object.prototype.toString.call(v).slice(8, -1),
            shared: Object.prototype.toString.call(v.buffer) === '[object SharedArrayBuffer]',
            own: v.byteOffset === 0 && v.byteLength === v.buffer.byteLength,
            bytes: v.byteLength,
            first: b[0],
            sameAsFirst: v === all[0],
          };
        });
      },
    );
    const got = (await seen.wait(
      floats,
      { view, list: [bytes, bytes] },
      new Map([['small', small]]),
    )) as (ReturnType<typeof describeBinary> & { sameAsFirst: boolean })[];
    const expected = [floats, view, bytes, bytes, small].map(describeBinary);
    expect(got.map(({ sameAsFirst: _, ...rest }) => rest)).toEqual(
      expected.map((e) => ({ ...e, shared: false, own: true })),
    );
    // Two places holding one view get two copies (the key is a tree), neither shared.
    expect(got.map((g) => g.sameAsFirst)).toEqual([true, false, false, false, false]);
  });

  it('what a run does to its argument never reaches the next run of the entry', async () => {
    const l = loader();
    const data = new Int32Array(SHARE_MIN / 4).fill(5);
    const scribble = l.asyncLoad((d: Int32Array) => {
      const before = d[0]!;
      d.fill(-1);
      return before;
    });
    expect(await scribble.wait(data)).toBe(5);
    scribble.refresh(data);
    expect(await scribble.wait(data)).toBe(5);
    expect(scribble.state(data).runs).toBe(2);
    expect(data[0]).toBe(5);
  });

  it("subscribers get ordinary copies; changing them changes nothing for the entry's runs", async () => {
    const l = loader();
    const data = new Uint8Array(SHARE_MIN + 10).fill(4);
    const first = l.asyncLoad((d: Uint8Array) => d[d.length - 1]!);
    const heard: unknown[][] = [];
    first.subscribe((events) => {
      for (const e of events) heard.push([...e.args]);
    });
    expect(await first.wait(data)).toBe(4);
    await vi.waitFor(() => expect(heard).toHaveLength(1));
    const arg = heard[0]![0] as Uint8Array;
    expect(Object.prototype.toString.call(arg.buffer)).toBe('[object ArrayBuffer]');
    expect(arg.byteLength).toBe(data.byteLength);
    expect(arg.buffer.byteLength).toBe(data.byteLength);
    arg.fill(0);
    first.refresh(data);
    expect(await first.wait(data)).toBe(4);
  });
});

describe('made while the hasher loads', () => {
  it('a big binary argument is re-keyed from its shared copy, and an equal later call finds the entry', async () => {
    const { core, executor, loaded } = await coordinatorBeforeHasher();
    const reg = core.register({ kind: 'inline', source: '(d) => d.length' }, {});
    const big = new Float32Array(SHARE_MIN).fill(2);
    core.read(reg, [big]);
    // Posted as a view over shared memory, for the thread to copy out (codec), not cloned.
    const sent = executor.last.request;
    expect(sent.encoded).toBe(true);
    const views = Object.values(sent.args[0] as object).filter((v) => ArrayBuffer.isView(v));
    expect(views.map((v) => Object.prototype.toString.call(v.buffer))).toEqual([
      '[object SharedArrayBuffer]',
    ]);
    await loaded();
    await new Promise((resolve) => setImmediate(resolve));
    core.read(reg, [new Float32Array(SHARE_MIN).fill(2)]);
    expect(executor.runs).toHaveLength(1);
    expect(core.size).toBe(1);
    core.read(reg, [new Float32Array(SHARE_MIN).fill(3)]);
    expect(executor.runs).toHaveLength(2);
  });
});
