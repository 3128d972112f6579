/**
 * Found by an outside attack on the packed library: a function that changes built-ins the
 * pool's own code used, or reaches for its machinery, or blocks in a system call. Each time,
 * the host keeps running, other functions' runs get their own values, and a run with a
 * `timeout` settles by it.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createLoader,
  LoaderClosedError,
  OptionError,
  TimeoutError,
  UnsendableValueError,
  type Loader,
} from '../src/index.js';
import { watchHostErrors } from './helpers.js';

watchHostErrors();

let loader: Loader | undefined;
afterEach(async () => {
  await loader?.close();
  loader = undefined;
});

/** A fresh one-thread loader: every run shares the thread with the one before. */
function oneThread(): Loader {
  loader = createLoader({ threads: 1, onError: () => undefined });
  return loader;
}

describe('a function that changes built-ins, then another function runs on the thread', () => {
  it('Object.prototype.then: the host survives, and the next run is right', async () => {
    const l = oneThread();
    const tamper = l.asyncLoad(() => {
      (Object.prototype as { then?: unknown }).then = function (resolve: (v: unknown) => void) {
        resolve(null);
      };
      return 1;
    });
    // What the tampering run itself gets is its own business (it made `1` a thenable).
    await tamper.wait().catch(() => undefined);
    const innocent = l.asyncLoad((x: number) => x * 2, { timeout: 5_000 });
    expect(await innocent.wait(21)).toBe(42);
  });

  it('Map.prototype.get, Promise.race and the array iterator: later runs still get their own values', async () => {
    const l = oneThread();
    // The tampering run itself may fail: Piscina's own code on the thread uses these too.
    await l
      .asyncLoad(() => {
        Map.prototype.get = () => () => 'HIJACKED';
        Promise.race = () => new Promise(() => undefined);
        (Array.prototype as unknown as Record<symbol, unknown>)[Symbol.iterator] = function* () {
          yield Promise.resolve('HIJACKED');
        };
        return 1;
      })
      .wait()
      .catch(() => undefined);
    expect(await l.asyncLoad((x: number) => x * 2, { timeout: 5_000 }).wait(21)).toBe(42);
    expect(await l.asyncLoad(async (x: number) => x * 3, { timeout: 5_000 }).wait(7)).toBe(21);
  });

  it('a built-in replaced by leftover work after the run returned is put back before the next run', async () => {
    const l = oneThread();
    const dir = mkdtempSync(join(tmpdir(), 'async-load-tamper-'));
    await l
      .asyncLoad((done: string) => {
        setTimeout(() => {
          Map.prototype.get = () => () => 'HIJACKED';
          (require('node:fs') as typeof import('node:fs')).writeFileSync(done, '');
        }, 20);
        return 1;
      })
      .wait(join(dir, 'tampered'));
    await vi.waitFor(() => expect(existsSync(join(dir, 'tampered'))).toBe(true), {
      timeout: 10_000,
      interval: 5,
    });
    expect(await l.asyncLoad((x: number) => x * 2, { timeout: 5_000 }).wait(21)).toBe(42);
  });

  it("removing the thread's error handlers does not let a leftover error fail another run", async () => {
    const l = oneThread();
    await l
      .asyncLoad(() => {
        process.removeAllListeners('uncaughtException');
        process.removeAllListeners('unhandledRejection');
        setTimeout(() => {
          throw new Error('leftover');
        }, 30);
        return 1;
      })
      .wait();
    const innocent = l.asyncLoad(async (x: number) => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      return x * 2;
    });
    expect(await innocent.wait(21)).toBe(42);
  });

  // Imports the built package (dist/), which mutation runs neither build nor mutate.
  it.skipIf(process.env.ASYNC_LOAD_MUTATION_RUN === '1')(
    "cannot take the start slots or the stray channel by importing the worker's start-up module",
    async () => {
      // The built package, so the function imports the very module instance the thread loaded.
      const built = (await import('../dist/src/index.js')) as unknown as typeof import('../src/index.js');
      loader = built.createLoader({ threads: 1, onError: () => undefined });
      const url = new URL('../dist/workers/start-up.js', import.meta.url).href;
      const take = loader.asyncLoad(async (at: string) => {
        const mod = (await import(at)) as { takeMachinery: () => unknown };
        let taken: string;
        try {
          mod.takeMachinery();
          taken = 'taken';
        } catch {
          taken = 'refused';
        }
        return [taken, 'slots' in mod, 'strayChannel' in mod];
      });
      expect(await take.wait(url)).toEqual(['refused', false, false]);
    },
  );
});

describe("replies forged on the thread's port", () => {
  it("never pass for another run's reply", async () => {
    const l = oneThread();
    await l
      .asyncLoad(() => {
        const { MessagePort } = require('node:worker_threads') as typeof import('node:worker_threads');
        setTimeout(() => {
          const handles = (process as unknown as { _getActiveHandles: () => unknown[] })._getActiveHandles();
          for (const handle of handles) {
            if (!(handle instanceof MessagePort)) continue;
            for (let taskId = 0; taskId < 10; taskId++) {
              handle.postMessage({
                taskId,
                result: { ok: true, value: 'FORGED', startedAt: 0, finishedAt: 0 },
                error: null,
              });
            }
          }
        }, 50);
        return 1;
      })
      .wait();
    const innocent = l.asyncLoad(async (x: number) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return x * 2;
    });
    const outcome = await innocent.wait(21).catch((error: unknown) => error);
    // Refused as a reply it is not (the run fails) or never taken for one: never the forgery.
    expect(outcome === 42 || (outcome as { code?: string }).code === 'ERR_ASYNC_LOAD_WORKER_CRASHED').toBe(
      true,
    );
  });
});

describe('values a function throws or returns that cannot be read', () => {
  it('an error whose getters throw still fails the run with an error, not a crash', async () => {
    const l = oneThread();
    const thrower = l.asyncLoad(() => {
      const error = new Error('x');
      Object.defineProperty(error, 'stack', {
        get: () => {
          throw new Error('no stack for you');
        },
      });
      Object.defineProperty(error, 'code', {
        enumerable: true,
        get: () => {
          throw new Error('no code');
        },
      });
      throw error;
    });
    const error = await thrower.wait().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as { code?: string }).code).not.toBe('ERR_ASYNC_LOAD_WORKER_CRASHED');
  });

  it('a revoked Proxy as a result is refused as unsendable', async () => {
    const l = oneThread();
    const revoked = l.asyncLoad(() => {
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      return proxy;
    });
    await expect(revoked.wait()).rejects.toBeInstanceOf(UnsendableValueError);
  });
});

describe('a thread blocked in a system call', () => {
  it('its run fails with TimeoutError at its timeout, not when the call returns; close() does not wait for it', async () => {
    const l = oneThread();
    const blocked = l.asyncLoad(
      () => {
        (require('node:child_process') as typeof import('node:child_process')).execSync('sleep 4');
      },
      { timeout: 300 },
    );
    const started = performance.now();
    await expect(blocked.wait()).rejects.toBeInstanceOf(TimeoutError);
    // Generous: well before the 4 s the call takes.
    expect(performance.now() - started).toBeLessThan(2_500);
    const closing = performance.now();
    await l.close();
    expect(performance.now() - closing).toBeLessThan(3_500);
  });
});

describe('options and lifecycle', () => {
  it('refuses resourceLimits that would abort the process or fail every thread start', () => {
    expect(() => createLoader({ resourceLimits: { codeRangeSizeMb: 1e8 } })).toThrow(OptionError);
    expect(() => createLoader({ resourceLimits: { stackSizeMb: 65_536 } })).toThrow(
      /resourceLimits.stackSizeMb/,
    );
  });

  it('subscribe() on a closed loader throws LoaderClosedError', async () => {
    const l = oneThread();
    const load = l.asyncLoad((x: number) => x);
    await l.close();
    expect(() => load.subscribe(() => undefined)).toThrow(LoaderClosedError);
  });
});
