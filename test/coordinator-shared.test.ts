/**
 * The coordinator with an executor that shares runs across processes (`needsEntry`, `watch`,
 * `forget`), driven by hand with fake time: what the distributed executor relies on, without
 * Redis. Each entry's run request carries its cross-process identity; an outcome another
 * process announces settles an idle entry as a run of its own, and nothing else.
 */
import { describe, expect, it, vi } from 'vitest';
import type { UpdateEvent } from '../src/entry.js';
import type { Outcome } from '../src/executor.js';
import { entryIdentity, hashIdentity } from '../src/entry-identity.js';
import { Coordinator } from '../src/loader.js';
import { resolveLoaderOptions } from '../src/options.js';
import type { FunctionRef } from '../src/protocol.js';
import { FakeExecutor, useFakeClock } from './fixtures/fake-executor.js';
import { gc } from './support/gc.js';

useFakeClock();

const fn = { kind: 'inline', source: '(a) => a' } as const;

class SharingExecutor extends FakeExecutor {
  readonly needsEntry = true;
  holds!: (entry: string) => boolean;
  deliver!: (entry: string, outcome: Outcome) => void;
  readonly forgotten: FunctionRef[] = [];

  watch(holds: (entry: string) => boolean, deliver: (entry: string, outcome: Outcome) => void): void {
    this.holds = holds;
    this.deliver = deliver;
  }

  forget(ref: FunctionRef): void {
    this.forgotten.push(ref);
  }
}

function sharing(pollInterval = 0): { core: Coordinator; executor: SharingExecutor } {
  const executor = new SharingExecutor();
  const core = new Coordinator(executor, resolveLoaderOptions({ threads: 1, pollInterval }));
  return { core, executor };
}

/** A shared coordinator with one wrapper, whose announced values are collected in `heard`. */
function heardOne(): {
  core: Coordinator;
  executor: SharingExecutor;
  reg: ReturnType<Coordinator['register']>;
  heard: () => unknown[];
} {
  const { core, executor } = sharing();
  const reg = core.register(fn, {});
  const events: UpdateEvent[] = [];
  core.subscribe(reg.listeners, (batch) => events.push(...batch));
  return { core, executor, reg, heard: () => events.map((e) => e.value) };
}

const elsewhere = (value: unknown, startedAt = Date.now() - 5): Outcome => ({
  ok: true,
  value,
  startedAt,
  finishedAt: Date.now(),
});

describe('an executor that shares runs across processes', () => {
  it("gets each entry's identity with its run, the same for equal calls, distinct otherwise", () => {
    const { core, executor } = sharing();
    const reg = core.register(fn, { key: 'k' });
    core.read(reg, [1]);
    core.read(reg, ['1']);
    const [a, b] = executor.runs.map((r) => r.request.entry);
    expect(a).toMatch(/^[\w-]{43}$/);
    expect(b).toMatch(/^[\w-]{43}$/);
    expect(a).not.toBe(b);
    const other = sharing();
    other.core.read(other.core.register(fn, { key: 'k' }), [1]);
    expect(other.executor.last.request.entry).toBe(a);
    other.core.read(other.core.register(fn, {}), [1]);
    expect(other.executor.last.request.entry).not.toBe(a);
    // A process whose channels are numbered differently names the same call the same way.
    const third = sharing();
    third.core.register({ kind: 'inline', source: '() => 0' }, {});
    third.core.register(fn, {});
    third.core.read(third.core.register(fn, { key: 'k' }), [1]);
    expect(third.executor.last.request.entry).toBe(a);
    expect(executor.holds(a!)).toBe(true);
    expect(executor.holds('nope')).toBe(false);
  });

  it('is the only kind of executor that gets identities', () => {
    const executor = new FakeExecutor();
    const core = new Coordinator(executor, resolveLoaderOptions({ threads: 1 }));
    core.read(core.register(fn, {}), [1]);
    expect(executor.last.request.entry).toBeUndefined();
  });

  it("settles an idle entry with another process's outcome, announced and counted as a run", async () => {
    const { core, executor, reg, heard } = heardOne();
    core.read(reg, [1]);
    const identity = executor.last.request.entry!;
    executor.last.succeed('mine');
    await vi.advanceTimersByTimeAsync(1);
    expect(core.read(reg, [1])).toBe('mine');
    executor.deliver(identity, elsewhere('theirs'));
    await vi.advanceTimersByTimeAsync(1);
    expect(core.read(reg, [1])).toBe('theirs');
    expect(core.state(reg, [1])).toMatchObject({ status: 'complete', runs: 2 });
    expect(heard()).toEqual(['mine', 'theirs']);
    // No run of its own was started for it.
    expect(executor.runs).toHaveLength(1);
  });

  it('ignores an outcome for an entry with a run in flight, a cleared entry, or a closed loader', async () => {
    const { core, executor, reg, heard } = heardOne();
    core.read(reg, [1]);
    const identity = executor.last.request.entry!;
    executor.deliver(identity, elsewhere('early'));
    executor.last.succeed('own');
    await vi.advanceTimersByTimeAsync(1);
    expect(core.read(reg, [1])).toBe('own');
    core.clear(reg, [1]);
    expect(executor.holds(identity)).toBe(false);
    executor.deliver(identity, elsewhere('late'));
    executor.deliver('unknown', elsewhere('stray'));
    await vi.advanceTimersByTimeAsync(1);
    expect(core.state(reg, [1]).status).toBe('idle');
    core.read(reg, [1]);
    const again = executor.last.request.entry!;
    expect(again).toBe(identity);
    executor.last.succeed('fresh');
    await vi.advanceTimersByTimeAsync(1);
    expect(heard()).toEqual(['own', 'fresh']);
    await core.close();
    executor.deliver(again, elsewhere('after close'));
    await vi.advanceTimersByTimeAsync(20);
    expect(heard()).toEqual(['own', 'fresh']);
  });

  it("measures an entry's next refresh from the other process's start", async () => {
    const { core, executor } = sharing();
    const reg = core.register(fn, { refreshEvery: 1_000 });
    core.read(reg, [1]);
    const identity = executor.last.request.entry!;
    executor.last.succeed(1);
    await vi.advanceTimersByTimeAsync(400);
    // Another process started a run 100 ms ago: the next refresh is due 900 ms from now.
    executor.deliver(identity, elsewhere(2, Date.now() - 100));
    await vi.advanceTimersByTimeAsync(850);
    expect(executor.runs).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(executor.runs).toHaveLength(2);
  });

  it('names an entry by a hash of function, key option and arguments, none running into another', () => {
    const base = hashIdentity('fA', undefined, 'args');
    expect(hashIdentity('fA', undefined, 'args')).toBe(base);
    expect(hashIdentity('fA', '', 'args')).not.toBe(base);
    expect(hashIdentity('fA', 'k', 'args')).not.toBe(hashIdentity('fA', 'j', 'args'));
    expect(hashIdentity('fA', 'k', 'args')).not.toBe(hashIdentity('fAk', undefined, 'args'));
    expect(hashIdentity('f', 'A|', 'args')).not.toBe(hashIdentity('fA|', '', 'args'));
    expect(hashIdentity('fA', undefined, 'args2')).not.toBe(base);
    // UTF-16: lone surrogates that UTF-8 would turn into the same replacement character differ.
    expect(hashIdentity('f', undefined, '\ud800')).not.toBe(hashIdentity('f', undefined, '\udc00'));
    const { core } = sharing();
    const reg = core.register(fn, {});
    expect(entryIdentity(reg, `${reg.prefix}abc`)).toBe(entryIdentity(reg, `${reg.prefix}abc`));
    expect(entryIdentity(reg, `${reg.prefix}abc`)).not.toBe(entryIdentity(reg, `${reg.prefix}abd`));
  });
});

describe('what a loader forgets', () => {
  /** Collects garbage until `done()` or 50 rounds; FinalizationRegistry callbacks run between tasks. */
  async function collectUntil(done: () => boolean): Promise<void> {
    for (let i = 0; i < 50 && !done(); i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  it('tells the executor to forget a function once its last wrapper is collected and its last entry gone', async () => {
    vi.useRealTimers();
    const { core, executor } = sharing();
    let first: object | undefined = {};
    let second: object | undefined = {};
    const a = core.register(fn, { key: 'a' }, first);
    core.register(fn, { key: 'b' }, second);
    // A third registration of the same function and key shares the first one's channel.
    let third: object | undefined = {};
    core.register(fn, { key: 'a' }, third);
    core.read(a, [1]);
    executor.last.succeed(1);
    await new Promise((resolve) => setImmediate(resolve));
    first = undefined;
    third = undefined;
    await collectUntil(() => false);
    // Channel `a` still holds an entry, channel `b` a wrapper: nothing is forgotten.
    expect(executor.forgotten).toEqual([]);
    core.clear(a, [1]);
    // Channel `a` is gone, but the function still has channel `b`.
    expect(executor.forgotten).toEqual([]);
    second = undefined;
    await collectUntil(() => executor.forgotten.length > 0);
    expect(executor.forgotten).toEqual([fn]);
    // Registered again, the function gets a new channel number, never the old one's.
    const again = core.register(fn, { key: 'a' });
    expect(again.prefix).not.toBe(a.prefix);
    await core.close();
  });
});
