/**
 * How a thread finds the function to run: inline functions compiled into a bounded per-thread
 * cache, `arguments` in arrow functions refused like any outer variable, module exports looked
 * up among own exports only, and a module that failed to import tried afresh on the next run.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createLoader, moduleTask, OuterScopeError, UnsendableFunctionError } from '../src/index.js';
import { COMPILED_FUNCTIONS_PER_THREAD } from '../src/protocol.js';
import { watchHostErrors } from './helpers.js';

const loader = createLoader({ threads: 1, pollInterval: 0 });
afterAll(() => loader.close());
watchHostErrors();

const esm = new URL('./fixtures/tasks.mjs', import.meta.url);
const cjs = new URL('./fixtures/tasks.cjs', import.meta.url);

describe('inline functions', () => {
  it('`arguments` inside an arrow function fails with OuterScopeError naming `arguments`', async () => {
    // Built with Function so that no transform rewrites it: `(n) => arguments.length + n`.
    const arrow = new Function('return (n) => arguments.length + n')() as (n: number) => number;
    const error = await loader
      .asyncLoad(arrow)
      .wait(1)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OuterScopeError);
    expect(error).toMatchObject({ variable: 'arguments' });
    const spread = new Function('return (...rest) => [...arguments]')() as () => unknown[];
    await expect(loader.asyncLoad(spread).wait()).rejects.toMatchObject({ variable: 'arguments' });
  });

  it('`arguments` inside an ordinary function is that function’s own', async () => {
    const count = loader.asyncLoad(function (this: void, ..._rest: number[]) {
      return arguments.length;
    });
    expect(await count.wait(1, 2, 3)).toBe(3);
  });

  it(`keeps the ${COMPILED_FUNCTIONS_PER_THREAD} most recently used compiled functions per thread`, async () => {
    const own = createLoader({ threads: 1, pollInterval: 0, maxEntries: 10_000 });
    try {
      // A named function expression sees its own compiled object: a counter on it restarts
      // at 1 exactly when the thread compiled the function afresh.
      const marker = own.asyncLoad(function marker(_call: number): number {
        const self = marker as unknown as { runs?: number };
        self.runs = (self.runs ?? 0) + 1;
        return self.runs;
      });
      let call = 0;
      let distinct = 0;
      const others = async (count: number): Promise<void> => {
        for (let i = 0; i < count; i++) {
          const fn = new Function(`return (n) => n + ${distinct++}`)() as (n: number) => number;
          await own.asyncLoad(fn).wait(0);
        }
      };
      expect(await marker.wait(call++)).toBe(1);
      await others(COMPILED_FUNCTIONS_PER_THREAD - 1);
      // Still cached (the oldest of a full cache); this use makes it the most recent.
      expect(await marker.wait(call++)).toBe(2);
      await others(COMPILED_FUNCTIONS_PER_THREAD - 1);
      // Kept because it was used, not because of when it was compiled: an LRU, not a FIFO.
      expect(await marker.wait(call++)).toBe(3);
      await others(COMPILED_FUNCTIONS_PER_THREAD);
      // Evicted by as many newer functions as the cache holds: compiled afresh.
      expect(await marker.wait(call++)).toBe(1);
    } finally {
      await own.close();
    }
  });
});

describe('moduleTask exports', () => {
  it.each(['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf'])(
    'export name `%s` is "no such export", not a member of Object',
    async (name) => {
      for (const url of [esm, cjs]) {
        const task = loader.asyncLoad(moduleTask(url, name));
        const error = await task.wait().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UnsendableFunctionError);
        expect((error as Error).message).toContain(`no exported function \`${name}\``);
      }
    },
  );

  it('a module that failed to import works on the same thread once its file is fixed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'async-load-module-'));
    for (const [file, broken, fixed, add] of [
      ['syntax.mjs', 'export default (n) => { return n +;', 'export default (n) => n + 1;', 1],
      [
        'throws.mjs',
        'throw new Error("not yet");\nexport default (n) => n;',
        'export default (n) => n + 2;',
        2,
      ],
      ['throws.cjs', 'throw new Error("not yet");', 'module.exports = (n) => n + 3;', 3],
    ] as const) {
      const path = join(dir, file);
      writeFileSync(path, broken);
      const task = loader.asyncLoad(moduleTask<(n: number) => number>(pathToFileURL(path)));
      await expect(task.wait(1)).rejects.toThrow();
      writeFileSync(path, fixed);
      task.clear();
      expect(await task.wait(1)).toBe(1 + add);
      // And it stays loaded: module state is kept between runs as before.
      task.clear();
      expect(await task.wait(2)).toBe(2 + add);
    }
  });
});

describe('sources sent once', () => {
  it('a thread that dropped a function gets its source again, and the run is right', async () => {
    const local = createLoader({ threads: 1 });
    try {
      const first = local.asyncLoad((x: number) => x + 1000);
      expect(await first.wait(1)).toBe(1001);
      // More distinct functions than a thread keeps compiled: the first is dropped there.
      for (let i = 0; i < 300; i++) {
        const other = local.asyncLoad(new Function(`return (x) => x + ${i}`)() as (x: number) => number);
        expect(await other.wait(1)).toBe(1 + i);
      }
      // Named by number only now; the thread answers that it lacks it, and it comes again.
      expect(await first.wait(2)).toBe(1002);
    } finally {
      await local.close();
    }
  });
});
