/**
 * The start watch (src/start-watch.ts) without threads: fake threads (event emitters with a
 * thread id that reads -1 once exited, as a real one does) appear, are reported ready, throw and
 * exit in generated orders. The oracle: a start failure is reported for exactly the threads that
 * exit before they were reported ready and without an error event, once each, with their exit
 * code. Real threads that exit while starting are tested in start-exit*.test.ts.
 */
import { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StartWatch } from '../src/start-watch.js';

class FakeThread extends EventEmitter {
  threadId: number;
  constructor(threadId: number) {
    super();
    this.threadId = threadId;
  }
  exit(code: number): void {
    this.threadId = -1;
    this.emit('exit', code);
  }
}

/**
 * One thread's fate; `looks` counts the calls of look() after it appears and before the rest.
 * `readyFirst`: Piscina reports it ready before the watch has looked at it (it counts the threads
 * it starts with as ready at once), which must still keep its later exit from being reported.
 */
const fate = fc.record({
  ready: fc.boolean(),
  readyFirst: fc.boolean(),
  threw: fc.boolean(),
  exits: fc.boolean(),
  code: fc.integer({ min: 0, max: 255 }),
  looks: fc.integer({ min: 1, max: 3 }),
});

function watch(limit: number) {
  const threads: FakeThread[] = [];
  const reports: number[] = [];
  let lookedUp = 0;
  const start = new StartWatch(
    () => {
      lookedUp++;
      return threads as unknown as readonly Worker[];
    },
    limit,
    (code) => reports.push(code),
  );
  return { start, threads, reports, lookedUp: () => lookedUp };
}

describe('StartWatch', () => {
  it('reports the threads that exit before being reported ready and without an error, once each, with their exit code', () => {
    fc.assert(
      fc.property(fc.array(fate, { maxLength: 8 }), fc.nat(2), fc.boolean(), (fates, spare, fateInOrder) => {
        // The pool may start at least as many threads as appear.
        const { start, threads, reports } = watch(fates.length + spare);
        start.look();
        const made = fates.map((f, i) => ({ ...f, id: i + 1, thread: new FakeThread(i + 1) }));
        const settle = (m: (typeof made)[number]): void => {
          for (let n = 0; n < m.looks; n++) start.look();
          if (m.ready && !m.readyFirst) start.ready(m.id);
          if (m.threw) m.thread.emit('error', new Error('threw while starting'));
          if (m.exits) m.thread.exit(m.code);
        };
        // Each thread's fate either as it appears, or after every thread has appeared, last first.
        const order = fateInOrder ? made : [...made].reverse();
        const appear = (m: (typeof made)[number]): void => {
          if (m.ready && m.readyFirst) start.ready(m.id);
          threads.push(m.thread);
        };
        if (fateInOrder) {
          made.forEach((m) => {
            appear(m);
            settle(m);
          });
        } else {
          made.forEach(appear);
          order.forEach(settle);
        }
        const expected = order.filter((m) => m.exits && !m.ready && !m.threw).map((m) => m.code);
        expect(reports).toEqual(expected);
      }),
    );
  });

  it('a thread reported ready that exits later is not a start failure, even though its id then reads -1', () => {
    const { start, threads, reports } = watch(2);
    const thread = new FakeThread(5);
    threads.push(thread);
    start.look();
    start.ready(5);
    thread.exit(1);
    expect(reports).toEqual([]);
  });

  it('an error event before the exit keeps the exit from being reported a second time', () => {
    const { start, threads, reports } = watch(2);
    const [threw, exited] = [new FakeThread(1), new FakeThread(2)];
    threads.push(threw, exited);
    start.look();
    threw.emit('error', new Error('x'));
    threw.exit(1);
    exited.exit(7);
    expect(reports).toEqual([7]);
  });

  it('stops looking at the pool once it has seen every thread the pool may start, and looks again after one exits', () => {
    const { start, threads, lookedUp } = watch(2);
    const first = new FakeThread(1);
    threads.push(first);
    start.look();
    start.look();
    expect(lookedUp()).toBe(2);
    threads.push(new FakeThread(2));
    start.look();
    expect(lookedUp()).toBe(3);
    // Both threads seen, the limit reached: looking costs nothing.
    start.look();
    start.look();
    expect(lookedUp()).toBe(3);
    first.exit(0);
    threads.shift();
    threads.push(new FakeThread(3));
    start.look();
    expect(lookedUp()).toBe(4);
  });
});
