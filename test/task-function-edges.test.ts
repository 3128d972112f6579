/**
 * Function sources at the edges of what toFunctionRef() accepts (found by mutation testing):
 * spacing that Function.prototype.toString keeps as written, comments that mention get/set,
 * sources that do not parse on their own, functions without a constructor.
 */
import { describe, expect, it } from 'vitest';
import { UnsendableFunctionError } from '../src/errors.js';
import { toFunctionRef } from '../src/task-function.js';

/** An object literal written as text, so a formatter cannot change the spacing under test. */
const literal = (text: string): Record<string, unknown> =>
  new Function(`return (${text});`)() as Record<string, unknown>;

/** The source the thread would compile, run here on `arg`. */
const run = (fn: unknown, arg: number): unknown => {
  const ref = toFunctionRef(fn);
  if (ref.kind !== 'inline') throw new Error('expected an inline function');
  return (new Function(`return (${ref.source}\n)`)() as (x: number) => unknown)(arg);
};

describe('method shorthand as written', () => {
  it('with a space before its parameters, or two after async, still becomes a function', () => {
    expect(run(literal('{ build (x) { return x * 2; } }').build, 4)).toBe(8);
    expect(run(literal('{ build\n(x) { return x * 3; } }').build, 4)).toBe(12);
    const asyncMethod = literal('{ async  build(x) { return x + 1; } }').build;
    const ref = toFunctionRef(asyncMethod);
    expect(ref).toMatchObject({ kind: 'inline' });
    expect((ref as { source: string }).source).toMatch(/^async\s+function /);
  });

  it('whose body mentions "get" or "set" in a comment is no getter', () => {
    expect(run(literal('{ build(x) { /* get value, set value */ return x - 1; } }').build, 4)).toBe(3);
  });

  it('a getter written with two spaces is still refused as a getter', () => {
    const getter = Object.getOwnPropertyDescriptor(literal('{ get  value() { return 1; } }'), 'value')!.get;
    expect(() => toFunctionRef(getter)).toThrow(/is a getter or setter, not a function that can be called/);
  });
});

describe('sources that do not parse on their own', () => {
  it('are refused with the parser\u2019s reason and the syntax error as the cause', () => {
    const computed = literal("{ ['a' + 'b'](x) { return x; } }").ab;
    let error: unknown;
    try {
      toFunctionRef(computed);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnsendableFunctionError);
    const { message, cause } = error as UnsendableFunctionError;
    expect(cause).toBeInstanceOf(SyntaxError);
    expect(message).toContain(`does not parse on its own (${(cause as SyntaxError).message}).`);
    expect(message).toMatch(/^The source of `ab` does not parse on its own/);
  });
});

describe('functions without the usual prototype', () => {
  it('a function whose prototype chain was cut is still sent as its source', () => {
    const fn = (x: number): number => x + 10;
    Object.setPrototypeOf(fn, null);
    expect(run(fn, 1)).toBe(11);
  });
});
