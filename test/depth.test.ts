/**
 * Deep values settle: at and past the depth limit, as arguments and as results (returned or
 * thrown), for every kind that nests, on threads with the default stack and with the smallest
 * one `resourceLimits` allows. Past the limit they are refused with UnsendableValueError;
 * never a hang (structured clone cannot deliver a value nested too deep, and an undelivered
 * message would leave its run waiting forever), never a stack overflow.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createLoader, UnsendableValueError } from '../src/index.js';
import { watchHostErrors } from './helpers.js';

watchHostErrors();

type Kind = 'array' | 'object' | 'map' | 'error';
const KINDS: Kind[] = ['array', 'object', 'map', 'error'];

/** `levels` of one kind around 0; an Error chain nests through `cause`. */
function nest(kind: Kind, levels: number): unknown {
  let v: unknown = 0;
  for (let i = 0; i < levels; i++) {
    v =
      kind === 'array'
        ? [v]
        : kind === 'object'
          ? { v }
          : kind === 'map'
            ? new Map([[1, v]])
            : new Error('e', { cause: v });
  }
  return v;
}

/** What a call came to, within a generous bound: a hang shows as 'pending'. */
async function outcome(promise: Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('pending'), 20_000)));
  const settled = promise.then(
    () => 'ok',
    (error: unknown) => (error instanceof UnsendableValueError ? 'refused' : `other: ${String(error)}`),
  );
  const result = await Promise.race([settled, pending]);
  clearTimeout(timer);
  return result;
}

for (const stackSizeMb of [undefined, 1]) {
  describe(`with ${stackSizeMb === undefined ? 'the default stack' : `a ${stackSizeMb} MiB stack`}`, () => {
    const loader = createLoader({ threads: 1, resourceLimits: stackSizeMb ? { stackSizeMb } : undefined });
    afterAll(() => loader.close());
    const echo = loader.asyncLoad((value: unknown) => value);
    const make = loader.asyncLoad((kind: string, levels: number, thrown: boolean) => {
      let v: unknown = 0;
      for (let i = 0; i < levels; i++) {
        v =
          kind === 'array'
            ? [v]
            : kind === 'object'
              ? { v }
              : kind === 'map'
                ? new Map([[1, v]])
                : new Error('e', { cause: v });
      }
      if (thrown) throw v;
      return v;
    });
    const call = async (f: () => Promise<unknown>): Promise<string> => {
      try {
        return await outcome(f());
      } catch (error) {
        return error instanceof UnsendableValueError ? 'refused' : `other: ${String(error)}`;
      }
    };

    it.each(KINDS)(
      '%s: accepted within the limit, refused past it, both ways, never pending',
      async (kind) => {
        // An Error's cause sits 2 levels below it (its tagged form): its chain is half as long.
        const within = kind === 'error' ? 495 : 995;
        const past = kind === 'error' ? 505 : 1005;
        expect(await call(() => echo.wait(nest(kind, within)))).toBe('ok');
        expect(await call(() => make.wait(kind, within, false))).toBe('ok');
        expect(await call(() => echo.wait(nest(kind, past)))).toBe('refused');
        expect(await call(() => make.wait(kind, past, false))).toBe('refused');
        if (kind === 'error') {
          expect(await call(() => make.wait(kind, within, true))).toBe('other: Error: e');
          // A thrown chain too deep to carry still settles: the error is kept, its cause dropped.
          expect(await call(() => make.wait(kind, 1000, true))).not.toBe('pending');
        }
        // And the thread is still there for the next run.
        expect(await echo.wait(1)).toBe(1);
      },
    );
  });
}
