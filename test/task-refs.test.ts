/**
 * How a function or module reference becomes what a thread runs: moduleTask() arguments, what
 * counts as a moduleTask(), and source texts that merely mention what a refused kind of
 * function looks like.
 */
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UnsendableFunctionError } from '../src/errors.js';
import { isModuleTask, moduleTask, toFunctionRef } from '../src/task-function.js';

describe('moduleTask()', () => {
  it('keeps file: and data: URLs as given and turns paths into file URLs', () => {
    const data = 'data:text/javascript,export default () => 1';
    expect(moduleTask(data).url).toBe(data);
    expect(moduleTask('file:///srv/task.mjs').url).toBe('file:///srv/task.mjs');
    expect(moduleTask('/srv/task.mjs').url).toBe('file:///srv/task.mjs');
    expect(moduleTask('/srv/file:task.mjs').url).toBe(pathToFileURL('/srv/file:task.mjs').href);
    expect(moduleTask('task.mjs').url).toBe(pathToFileURL(`${process.cwd()}/task.mjs`).href);
  });

  it('refuses an empty export name, naming the option', () => {
    expect(() => moduleTask('/srv/task.mjs', '')).toThrow(/Expected `exportName` to be a non-empty string/);
    expect(() => moduleTask('/srv/task.mjs', 5 as unknown as string)).toThrow(
      /Expected `exportName` to be a non-empty string/,
    );
    expect(() => moduleTask(5 as unknown as string)).toThrow(/`moduleUrlOrPath` to be a file URL or a path/);
    expect(() => moduleTask('')).toThrow(/`moduleUrlOrPath` to be a file URL or a path/);
  });

  it('carries a brand any copy of the library recognises (a registered symbol)', () => {
    const task = moduleTask('/srv/task.mjs') as unknown as Record<symbol, unknown>;
    expect(task[Symbol.for('async-load.moduleTask')]).toBe(true);
    expect(() => toFunctionRef(Math.max)).toThrow(/or use moduleTask\(\) for one in a module\.$/);
    const branded = Object.assign(() => 1, { [Symbol.for('async-load.moduleTask')]: true });
    expect(isModuleTask(branded)).toBe(false);
  });

  it('is recognised by its brand only, not by its shape', () => {
    expect(isModuleTask(moduleTask('/srv/task.mjs', 'x'))).toBe(true);
    expect(isModuleTask({ url: 'file:///srv/task.mjs', exportName: 'x' })).toBe(false);
    expect(isModuleTask({ [Symbol.for('async-load.moduleTask')]: 'yes' })).toBe(false);
    expect(isModuleTask(null)).toBe(false);
    expect(isModuleTask(() => 1)).toBe(false);
  });

  it('becomes a module reference with its URL and export', () => {
    expect(toFunctionRef(moduleTask('/srv/task.mjs', 'build'))).toEqual({
      kind: 'module',
      url: 'file:///srv/task.mjs',
      exportName: 'build',
    });
  });
});

describe('source texts that only mention a refused kind', () => {
  it('sends a function whose body contains "{ [native code] }" or starts a word with "class"', () => {
    expect(toFunctionRef(() => '{ [native code] } and more')).toMatchObject({ kind: 'inline' });
    expect(toFunctionRef((x: number) => `class ${x}`)).toMatchObject({ kind: 'inline' });
  });
});

describe('refusals', () => {
  it('name an anonymous function "the function" and a named one by its name', () => {
    const anonymous = [function* () {}][0]!;
    const named = function* producer(): Generator<number> {
      yield 1;
    };
    expect(() => toFunctionRef(anonymous)).toThrow(/the function/);
    expect(() => toFunctionRef(named)).toThrow(/`producer`/);
  });

  it('refuse async generators as well as generators', () => {
    const stream = async function* stream(): AsyncGenerator<number> {
      yield 1;
    };
    expect(() => toFunctionRef(stream)).toThrow(UnsendableFunctionError);
  });

  it('show a string that was passed instead of a function, shortened', () => {
    const long = `(n) => n + ${'1'.repeat(100)}`;
    expect(() => toFunctionRef(long)).toThrow(`got the string ${JSON.stringify(long.slice(0, 40))}`);
    expect(() => toFunctionRef(42)).toThrow(/got number 42/);
  });
});
