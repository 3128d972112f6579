/**
 * The events array a batch is delivered with is the same for every listener of the batch, and
 * frozen: a listener that tries to empty it fails in itself, and the listeners after it still
 * hear the whole batch (before, they got an empty array). A listener that throws a value that
 * cannot be read or shown reaches onError as an Error, and the host goes on.
 */
import { describe, expect, it } from 'vitest';
import type { UpdateEvent } from '../src/index.js';
import { loaderFactory, watchHostErrors } from './helpers.js';

watchHostErrors();
const make = loaderFactory();

const EMPTYING: Record<string, (events: UpdateEvent[]) => void> = {
  'pop()': (events) => void events.pop(),
  'length = 0': (events) => void (events.length = 0),
  'splice(0)': (events) => void events.splice(0),
};

describe.each(Object.entries(EMPTYING))('a listener that empties its events with %s', (_, empty) => {
  it('fails in itself; the next listener hears the whole batch', async () => {
    const errors: Error[] = [];
    const loader = make({ threads: 1, pollInterval: 0, onError: (error) => errors.push(error) });
    const double = loader.asyncLoad((n: number) => n * 2);
    const heard = new Promise<UpdateEvent[]>((resolve) => {
      double.subscribe(empty);
      double.subscribe((events) => resolve([...events]));
    });
    expect(await double.wait(21)).toBe(42);
    const events = await heard;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ value: 42 });
    // The first listener's attempt reached onError, as a listener that throws does.
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(TypeError);
  });
});

const UNSHOWABLE: Record<string, () => unknown> = {
  'an object with no prototype': () => Object.create(null),
  'a revoked Proxy': () => {
    const r = Proxy.revocable({}, {});
    r.revoke();
    return r.proxy;
  },
  'a Proxy whose getPrototypeOf trap throws': () =>
    new Proxy(
      {},
      {
        getPrototypeOf() {
          throw new Error('trap');
        },
      },
    ),
  'an object whose Symbol.toPrimitive throws': () => ({
    [Symbol.toPrimitive]() {
      throw new Error('no');
    },
  }),
};

describe.each(Object.entries(UNSHOWABLE))('a listener that throws %s', (_, value) => {
  it('reaches onError as an Error; the next listener hears the batch, and the host goes on', async () => {
    const errors: Error[] = [];
    const loader = make({ threads: 1, pollInterval: 0, onError: (error) => errors.push(error) });
    const double = loader.asyncLoad((n: number) => n * 2);
    const heard = new Promise<number>((resolve) => {
      double.subscribe(() => {
        throw value();
      });
      double.subscribe((events) => resolve(events.length));
    });
    expect(await double.wait(2)).toBe(4);
    expect(await heard).toBe(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(Error);
    expect(errors[0]!.message).toMatch(/^A subscriber threw /);
  });
});
