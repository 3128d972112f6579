/**
 * Tampering with the pool's memory: a function that goes looking for the pool's machinery
 * (the start slots behind `workerData`, the reply port's `postMessage`, `Atomics`, the clock)
 * cannot make other entries' runs skip, hang or return forged values. Every victim run has a
 * `timeout` and must settle by it; the race against a generous deadline only turns a hang
 * into a readable failure.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createLoader, type Loader } from '../src/index.js';
import { watchHostErrors } from './helpers.js';

watchHostErrors();

const loaders: Loader[] = [];
afterAll(() => Promise.all(loaders.map((l) => l.close())));
function loader(): Loader {
  const l = createLoader({ threads: 1, pollInterval: 0 });
  loaders.push(l);
  return l;
}

const HANG = Symbol('hang');
/** The value, or HANG if it has not settled well past its timeout. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof HANG> {
  return Promise.race([promise, new Promise<typeof HANG>((resolve) => setTimeout(() => resolve(HANG), ms))]);
}

const victimOptions = { timeout: 2000 };
const victim = (n: number): number => {
  const end = Date.now() + 5;
  while (Date.now() < end);
  return n * 10;
};

describe('the start slots', () => {
  it('are not reachable through workerData: queued runs of other entries still run', async () => {
    const l = loader();
    const attacker = l.asyncLoad(() => {
      const found: SharedArrayBuffer[] = [];
      const seen = new Set<unknown>();
      const walk = (value: unknown, depth: number): void => {
        if (value === null || typeof value !== 'object' || seen.has(value) || depth > 4) return;
        seen.add(value);
        if (value instanceof SharedArrayBuffer) found.push(value);
        for (const key of Reflect.ownKeys(value)) {
          try {
            walk((value as Record<PropertyKey, unknown>)[key], depth + 1);
          } catch {
            // A getter that throws hides nothing from us.
          }
        }
      };
      walk(require('node:worker_threads').workerData, 0);
      walk((require('piscina') as { workerData?: unknown }).workerData, 0);
      // Mark every start slot as cancelled: queued runs would be skipped and never settle.
      for (const buffer of found) new Int32Array(buffer).fill(-1);
      return found.length;
    });
    const worker = l.asyncLoad(victim, victimOptions);
    const found = attacker.wait();
    const victims = [1, 2, 3].map((n) =>
      within(
        worker.wait(n).catch((e: unknown) => e),
        6000,
      ),
    );
    expect(await found).toBe(0);
    expect(await Promise.all(victims)).toEqual([10, 20, 30]);
  });

  it('cannot be claimed through a patched Atomics', async () => {
    const l = loader();
    const attacker = l.asyncLoad(() => {
      const atomics = Atomics as unknown as Record<string, unknown>;
      for (const name of ['compareExchange', 'notify', 'store', 'load', 'wait']) {
        try {
          atomics[name] = () => -1;
        } catch {
          // Refused: that is the point.
        }
      }
      return 'patched';
    });
    expect(await attacker.wait()).toBe('patched');
    expect(await within(l.asyncLoad(victim, victimOptions).wait(4), 6000)).toBe(40);
  });
});

describe('the worker entry point', () => {
  it('refuses calls from a function, so forged tasks cannot claim other runs’ slots', async () => {
    const l = loader();
    // From source the thread loaded the entry point through tsx's require hook: the same
    // module instance is what require() returns here.
    const entry = fileURLToPath(new URL('../workers/worker.ts', import.meta.url));
    const attacker = l.asyncLoad(async (path: string) => {
      const mod = require(path) as { default: (task: unknown) => unknown };
      let accepted = 0;
      for (let slot = 0; slot < 4; slot++) {
        try {
          await mod.default({ fn: '() => 0', args: [], slot, ticket: 0x7ffffff0 + slot });
          accepted++;
        } catch {
          // Refused: that is the point.
        }
      }
      return accepted;
    });
    const worker = l.asyncLoad(victim, victimOptions);
    const accepted = attacker.wait(entry);
    const victims = [7, 8, 9].map((n) =>
      within(
        worker.wait(n).catch((e: unknown) => e),
        6000,
      ),
    );
    expect(await accepted).toBe(0);
    expect(await Promise.all(victims)).toEqual([70, 80, 90]);
  });
});

describe('the reply path', () => {
  it('a patched MessagePort.prototype.postMessage cannot forge or drop other runs’ replies', async () => {
    const l = loader();
    const attacker = l.asyncLoad((mode: string) => {
      const { MessagePort } = require('node:worker_threads') as typeof import('node:worker_threads');
      const original = MessagePort.prototype.postMessage;
      const forged = function (this: MessagePort, message: unknown, transfer?: never): void {
        const reply = (message as { result?: { value?: unknown } } | null)?.result;
        if (reply && 'value' in reply) reply.value = 'forged';
        if (mode === 'forge') original.call(this, message, transfer);
      };
      try {
        Object.defineProperty(MessagePort.prototype, 'postMessage', { value: forged, writable: true });
      } catch {
        try {
          MessagePort.prototype.postMessage = forged;
        } catch {
          // Refused: that is the point.
        }
      }
      return 'patched';
    });
    // Dropping every reply would leave this run unanswered too; only its own timeout may end it.
    await attacker.wait('forge').catch(() => undefined);
    expect(await within(l.asyncLoad(victim, victimOptions).wait(5), 6000)).toBe(50);
    expect(await within(l.asyncLoad(victim, victimOptions).wait(6), 6000)).toBe(60);
  });
});

describe('built-in prototypes', () => {
  it('a replaced Function.prototype.call does not stop the thread from calling functions', async () => {
    const l = loader();
    const attacker = l.asyncLoad(() => {
      Function.prototype.call = function () {
        throw new Error('call is gone');
      };
      return 'patched';
    });
    expect(await attacker.wait()).toBe('patched');
    expect(await within(l.asyncLoad(victim, victimOptions).wait(11), 6000)).toBe(110);
  });
});

describe('the clock', () => {
  it('a patched performance.now cannot stretch another run’s timeout', async () => {
    const l = loader();
    const attacker = l.asyncLoad(() => {
      try {
        // Eleven days ahead: short of Node's timer overflow, so a timer set from it would wait.
        const real = performance.now.bind(performance);
        performance.now = () => real() + 1e9;
        const realDate = Date.now;
        Date.now = () => realDate() + 1e9;
      } catch {
        // Refused: fine either way.
      }
      return 'patched';
    });
    expect(await attacker.wait()).toBe('patched');
    const endless = l.asyncLoad(
      async (_n: number) => {
        await new Promise(() => undefined);
      },
      { timeout: 200 },
    );
    const t0 = performance.now();
    const outcome = await within(
      endless.wait(1).catch((e: unknown) => e),
      6000,
    );
    expect(outcome).toMatchObject({ code: 'ERR_ASYNC_LOAD_TIMEOUT' });
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
