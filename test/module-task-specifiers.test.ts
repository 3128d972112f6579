/**
 * What moduleTask() takes: a path, a file: or data: URL, a node: built-in. Any other scheme is
 * refused at once with OptionError naming the argument; taken for a path, it failed only at run
 * time, as a file not found under the working directory.
 */
import { describe, expect, it } from 'vitest';
import { OptionError, moduleTask } from '../src/index.js';
import { loaderFactory, watchHostErrors } from './helpers.js';

watchHostErrors();
const make = loaderFactory();

describe('moduleTask()', () => {
  it('runs an export of a node: built-in', async () => {
    const loader = make({ threads: 1 });
    const join = loader.asyncLoad(moduleTask<(...parts: string[]) => string>('node:path', 'join'));
    expect(await join.wait('a', 'b', '..', 'c')).toBe('a/c');
  });

  it.each([
    'http://example.com/task.mjs',
    'https://example.com/task.mjs',
    'ftp://host/task.js',
    'blob:nodedata:1',
  ])('refuses %s, as a string and as a URL, naming the argument', (specifier) => {
    for (const given of [specifier, new URL(specifier)]) {
      const error = (() => {
        try {
          moduleTask(given);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(OptionError);
      expect(error).toMatchObject({
        code: 'ERR_ASYNC_LOAD_INVALID_OPTION',
        option: 'moduleUrlOrPath',
        value: given,
      });
    }
  });

  it('takes a one-letter scheme for a path (a Windows drive), and a file: URL in any case', () => {
    expect(moduleTask('C:/tasks/report.mjs').url).toMatch(/^file:\/\/\/.*C:\/tasks\/report\.mjs$/);
    expect(moduleTask('FILE:///tasks/report.mjs').url).toBe('FILE:///tasks/report.mjs');
  });
});
