/**
 * The store against a model: random sequences of adds, reads, runs starting and settling,
 * and removals, with `maxEntries` small. After every step the store holds exactly what the
 * model says: past the bound, the least recently read entry that is not running goes first,
 * and a settle or a start is never a read.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Entry } from '../src/entry.js';
import type { RunHandle } from '../src/executor.js';
import type { Registration } from '../src/registration.js';
import { Store } from '../src/store.js';

const registration = { prefix: '0|', options: {} } as unknown as Registration;
const running: RunHandle = { startedAt: () => undefined, cancel: () => undefined };

type Op =
  | { kind: 'add' }
  | { kind: 'read'; pick: number }
  | { kind: 'start'; pick: number }
  | { kind: 'settle'; pick: number }
  | { kind: 'remove'; pick: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'add' as const }) },
  { weight: 4, arbitrary: fc.nat().map((pick) => ({ kind: 'read' as const, pick })) },
  { weight: 1, arbitrary: fc.nat().map((pick) => ({ kind: 'start' as const, pick })) },
  { weight: 4, arbitrary: fc.nat().map((pick) => ({ kind: 'settle' as const, pick })) },
  { weight: 1, arbitrary: fc.nat().map((pick) => ({ kind: 'remove' as const, pick })) },
);

interface Modelled {
  entry: Entry;
  lastRead: number;
  running: boolean;
}

describe('the store', () => {
  it('keeps exactly what a model of "evict the least recently read idle entry" keeps', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.array(op, { minLength: 10, maxLength: 80 }),
        (maxEntries, ops) => {
          const released: Entry[] = [];
          const store = new Store(maxEntries, Infinity, (entry) => released.push(entry));
          let model: Modelled[] = [];
          let clock = 0;
          let made = 0;
          const evictModel = (): void => {
            while (model.length > maxEntries) {
              const idle = model.filter((m) => !m.running);
              if (idle.length === 0) return;
              const oldest = idle.reduce((a, b) => (b.lastRead < a.lastRead ? b : a));
              model = model.filter((m) => m !== oldest);
            }
          };
          for (const o of ops) {
            // Settle picks among running entries, start among idle ones: no step is wasted.
            const pool =
              o.kind === 'settle'
                ? model.filter((m) => m.running)
                : o.kind === 'start'
                  ? model.filter((m) => !m.running)
                  : model;
            const target = pool.length > 0 && o.kind !== 'add' ? pool[o.pick % pool.length]! : undefined;
            switch (o.kind) {
              case 'add': {
                // A new entry arrives with its first run in flight, as the coordinator adds them.
                const entry = new Entry(
                  registration,
                  { text: `e${made++}`, single: undefined },
                  [],
                  undefined,
                  [],
                  false,
                );
                entry.run = running;
                model.push({ entry, lastRead: ++clock, running: true });
                store.add(entry);
                evictModel();
                break;
              }
              case 'read':
                if (!target) break;
                target.lastRead = ++clock;
                store.touch(target.entry, 0);
                break;
              case 'start':
                if (!target || target.running) break;
                target.running = true;
                target.entry.run = running;
                break;
              case 'settle':
                if (!target || !target.running) break;
                target.running = false;
                target.entry.run = undefined;
                store.settled(target.entry);
                evictModel();
                break;
              case 'remove':
                if (!target) break;
                model = model.filter((m) => m !== target);
                store.remove(target.entry);
                break;
            }
            // By identity (each entry's text is unique), not by deep equality of entries.
            const held = [...store.all()].map((e) => e.text).sort();
            expect(held).toEqual(model.map((m) => m.entry.text).sort());
            expect(store.size).toBe(model.length);
          }
          // Everything the store let go was told to the coordinator, once.
          expect(new Set(released).size).toBe(released.length);
        },
      ),
      { seed: 20261126, numRuns: 400 },
    );
  });
});
