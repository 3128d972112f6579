/**
 * Listeners as users expect: each batch goes to the listeners registered when its delivery
 * began; one added during delivery hears the next batch, one removed is not called after, and
 * close() inside a listener stops the rest. Scheduling is tested with a hand-driven executor
 * and fake time; the close() race with real threads.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { UpdateEvent } from '../src/entry.js';
import { loadHasher } from '../src/hash.js';
import { createLoader } from '../src/index.js';
import type { Listener } from '../src/registration.js';
import { fakeCoordinator } from './fixtures/fake-executor.js';
import { watchHostErrors } from './helpers.js';

const fn = { kind: 'inline', source: '(a) => a' } as const;
const values = (events: UpdateEvent[]): unknown[] => events.map((e) => e.value);

describe('delivery with a hand-driven executor', () => {
  beforeEach(async () => {
    await loadHasher();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Settles one run of `reg` with `value` and lets its batch be delivered. */
  function setup(): {
    core: ReturnType<typeof fakeCoordinator>['core'];
    land: (arg: number, value: unknown) => Promise<void>;
    reg: ReturnType<ReturnType<typeof fakeCoordinator>['core']['register']>;
  } {
    const { core, executor } = fakeCoordinator({ pollInterval: 0 });
    const reg = core.register(fn, {});
    const land = async (arg: number, value: unknown): Promise<void> => {
      core.read(reg, [arg]);
      executor.last.succeed(value);
      await vi.advanceTimersByTimeAsync(0);
      await vi.advanceTimersByTimeAsync(0);
    };
    return { core, land, reg };
  }

  for (const level of ['loader', 'function'] as const) {
    it(`a ${level} listener that re-subscribes itself during delivery ("once") hears each batch once`, async () => {
      const { core, land, reg } = setup();
      const listeners = level === 'loader' ? core.loaderListeners : reg.listeners;
      const heard: unknown[][] = [];
      // Bounded so that the old behaviour (called again within the same batch) ends, and fails.
      const once = (): void => {
        const off = core.subscribe(listeners, (events) => {
          off();
          heard.push(values(events));
          if (heard.length < 50) once();
        });
      };
      once();
      await land(1, 'first');
      expect(heard).toEqual([['first']]);
      await land(2, 'second');
      expect(heard).toEqual([['first'], ['second']]);
    });

    it(`a ${level} listener added during delivery hears the next batch, not this one`, async () => {
      const { core, land, reg } = setup();
      const listeners = level === 'loader' ? core.loaderListeners : reg.listeners;
      const late: unknown[][] = [];
      let added = false;
      core.subscribe(listeners, () => {
        if (added) return;
        added = true;
        core.subscribe(listeners, (events) => late.push(values(events)));
      });
      await land(1, 'first');
      expect(late).toEqual([]);
      await land(2, 'second');
      expect(late).toEqual([['second']]);
    });

    it(`a ${level} listener removed during delivery is not called after its removal`, async () => {
      const { core, land, reg } = setup();
      const listeners = level === 'loader' ? core.loaderListeners : reg.listeners;
      const calls: string[] = [];
      let offSecond: () => void = () => undefined;
      core.subscribe(listeners, () => {
        calls.push('first');
        offSecond();
      });
      offSecond = core.subscribe(listeners, () => calls.push('second'));
      await land(1, 'v');
      expect(calls).toEqual(['first']);
    });
  }

  it('a loader listener can remove a function listener during delivery: it is not called', async () => {
    const { core, land, reg } = setup();
    const calls: string[] = [];
    const offFunction = core.subscribe(reg.listeners, () => calls.push('function'));
    core.subscribe(core.loaderListeners, () => {
      calls.push('loader');
      offFunction();
    });
    await land(1, 'v');
    expect(calls).toEqual(['loader']);
  });

  it('close() inside a listener stops the rest of the batch, loader and function listeners alike', async () => {
    const { core, land, reg } = setup();
    const calls: string[] = [];
    const listener =
      (name: string, close = false): Listener =>
      () => {
        calls.push(name);
        if (close) void core.close();
      };
    core.subscribe(core.loaderListeners, listener('loader 1', true));
    core.subscribe(core.loaderListeners, listener('loader 2'));
    core.subscribe(reg.listeners, listener('function'));
    await land(1, 'v');
    expect(calls).toEqual(['loader 1']);
  });

  it('close() inside a function listener stops the other function listeners', async () => {
    const { core, land, reg } = setup();
    const calls: string[] = [];
    core.subscribe(reg.listeners, () => {
      calls.push('first');
      void core.close();
    });
    core.subscribe(reg.listeners, () => calls.push('second'));
    await land(1, 'v');
    expect(calls).toEqual(['first']);
  });
});

describe('close() while replies are in flight', () => {
  watchHostErrors();

  it('sends nothing to onError (no "Unexpected message from Worker")', async () => {
    const errors: Error[] = [];
    // 5 attempts in mutation runs (npm run mutate), where each surviving mutant runs them again.
    const attempts = process.env.ASYNC_LOAD_MUTATION_RUN === '1' ? 5 : 20;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const l = createLoader({ threads: 2, pollInterval: 0, onError: (e) => errors.push(e) });
      const quick = l.asyncLoad((n: number) => n);
      const pending = Array.from({ length: 200 }, (_, i) => quick.wait(i).catch(() => undefined));
      // Close as soon as replies are flowing, so that more are on their way.
      await pending[0];
      await l.close();
      await Promise.all(pending);
    }
    // Replies that raced close() may still be read after it; give them a turn to arrive.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(errors.map((e) => e.message)).toEqual([]);
  });
});
