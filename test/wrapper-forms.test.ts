/**
 * The public wrapper's two call forms, `asyncLoad(fn, options)` and `asyncLoad(options)(fn)`,
 * what it refuses, its subscribe(), and a loader used before it has started anything.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createLoader, UnsendableFunctionError, type UpdateEvent } from '../src/index.js';
import { watchHostErrors } from './helpers.js';

const loader = createLoader({ threads: 1, pollInterval: 0 });
afterAll(() => loader.close());
watchHostErrors();

describe('asyncLoad(options)(fn)', () => {
  it('applies the options to the function it is given', async () => {
    const plusOne = loader.asyncLoad({ key: 'curried' })((n: number) => n + 1);
    expect(await plusOne.wait(1)).toBe(2);
    expect(loader.get('curried')).toBe(2);
  });

  it('with no options at all returns the same kind of wrapper', async () => {
    const double = loader.asyncLoad()((n: number) => n * 2);
    expect(await double.wait(4)).toBe(8);
  });

  it('refuses what is neither a function, a moduleTask() nor options', () => {
    expect(() => loader.asyncLoad(null as never)).toThrow(UnsendableFunctionError);
    expect(() => loader.asyncLoad('n => n' as never)).toThrow(/Source text is never run as code/);
  });
});

describe('subscribe on a wrapper', () => {
  it("hears that function's settled runs until unsubscribed", async () => {
    const triple = loader.asyncLoad((n: number) => n * 3);
    let heard!: (events: UpdateEvent<number>[]) => void;
    const first = new Promise<UpdateEvent<number>[]>((resolve) => (heard = resolve));
    const unsubscribe = triple.subscribe((events) => heard(events));
    expect(typeof unsubscribe).toBe('function');
    triple(2);
    const events = await first;
    expect(events.map((e) => e.value)).toEqual([6]);
    unsubscribe();
  });
});

describe('a loader before its first use', () => {
  it('has no entries, no keyed values, and checks the key it is asked for', async () => {
    const idle = createLoader({ threads: 1 });
    expect(idle.size).toBe(0);
    expect(idle.get('anything')).toBeUndefined();
    expect(() => idle.get(1 as never)).toThrow(/Expected `key` to be a string, got `1` \(number\)/);
    await idle.close();
  });
});
