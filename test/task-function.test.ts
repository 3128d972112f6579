import { describe, expect, it } from 'vitest';
import { UnsendableFunctionError } from '../src/errors.js';
import { moduleTask, toFunctionRef } from '../src/task-function.js';

const refusal = (fn: unknown): UnsendableFunctionError => {
  try {
    toFunctionRef(fn);
  } catch (error) {
    return error as UnsendableFunctionError;
  }
  throw new Error('expected a refusal');
};

describe('which functions can be sent', () => {
  it('sends arrow, plain and async functions as their source', () => {
    expect(toFunctionRef((a: number) => a + 1)).toMatchObject({ kind: 'inline' });
    expect(
      toFunctionRef(async function load(x: string) {
        return x;
      }),
    ).toMatchObject({ kind: 'inline' });
  });

  it('rewrites method shorthand into a function expression', () => {
    const obj = {
      build(x: number) {
        return x * 2;
      },
      async fetch(x: number) {
        return x;
      },
    };
    const ref = toFunctionRef(obj.build);
    expect(ref.kind === 'inline' && ref.source.startsWith('function build(')).toBe(true);
    const asyncRef = toFunctionRef(obj.fetch);
    expect(asyncRef.kind === 'inline' && asyncRef.source.startsWith('async function fetch(')).toBe(true);
  });

  it('uses the real source even when toString is overridden', () => {
    const fn = (a: number): number => a;
    fn.toString = () => 'process.exit(1)';
    const ref = toFunctionRef(fn);
    expect(ref.kind === 'inline' && ref.source).not.toContain('process.exit');
  });

  it.each([
    ['a native function', Math.max, 'built-in (native) function'],
    [
      'a bound function',
      function f(this: unknown) {
        return this;
      }.bind(null),
      'bound function',
    ],
    ['a class', class Report {}, 'is a class'],
    ['a string', 'a => a + 1', 'got the string'],
    ['a number', 5, 'needs a function'],
    [
      'a generator',
      function* gen() {
        yield 1;
      },
      'generator',
    ],
  ])('refuses %s with a clear error', (_what, fn, message) => {
    const error = refusal(fn);
    expect(error).toBeInstanceOf(UnsendableFunctionError);
    expect(error.code).toBe('ERR_ASYNC_LOAD_UNSENDABLE_FUNCTION');
    expect(error.message).toContain(message);
  });

  it('refuses a getter', () => {
    const getter = Object.getOwnPropertyDescriptor(
      {
        get total() {
          return 1;
        },
      },
      'total',
    )!.get;
    expect(refusal(getter).message).toContain('getter or setter');
  });

  it('refuses a computed-name method whose source does not parse alone', () => {
    const obj = {
      ['comp' + 'uted'](x: number) {
        return x;
      },
    };
    expect(refusal(obj.computed).message).toContain('does not parse');
  });
});

describe('moduleTask()', () => {
  it('accepts URLs, file URL strings and paths', () => {
    expect(moduleTask(new URL('file:///tmp/a.js')).url).toBe('file:///tmp/a.js');
    expect(moduleTask('/tmp/a.js', 'run')).toMatchObject({ url: 'file:///tmp/a.js', exportName: 'run' });
    expect(moduleTask('a.js').url).toBe(new URL(`file://${process.cwd()}/a.js`).href);
  });

  it('refuses what is not a module reference', () => {
    expect(() => moduleTask('')).toThrow(expect.objectContaining({ code: 'ERR_ASYNC_LOAD_INVALID_OPTION' }));
    expect(() => moduleTask(5 as never)).toThrow(/moduleUrlOrPath/);
    expect(() => moduleTask('/a.js', '')).toThrow(/exportName/);
  });
});
