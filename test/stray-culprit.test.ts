/**
 * How a stray error names the run it came from (workers/attribution.ts, describeRun): the
 * function by its name, its export or its source on one line, then its arguments, each part
 * kept short because it goes into an error message.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { moduleTask, WorkerCrashedError } from '../src/index.js';
import { loaderFactory, watchHostErrors } from './helpers.js';

watchHostErrors();
const make = loaderFactory();

/** Runs `call`, then waits for the one report its stray error makes. */
async function reportOf(call: (onError: (e: Error) => void) => Promise<unknown>): Promise<string> {
  const errors: Error[] = [];
  await call((e) => errors.push(e));
  await expect.poll(() => errors.length, { timeout: 5000 }).toBe(1);
  expect(errors[0]).toBeInstanceOf(WorkerCrashedError);
  return errors[0]!.message;
}

/** The part of a report between "A run of " and " left an error behind". */
const culpritOf = (message: string): string =>
  /^A run of ([\s\S]*) left an error behind after it had settled: /.exec(message)![1]!;

describe('a stray error after its run settled names the run', () => {
  it('a named function and its arguments: long arrays and deep objects shown in part', async () => {
    const message = await reportOf((onError) =>
      make({ threads: 1, onError })
        .asyncLoad(function leavesTimer(list: number[], nested: object) {
          setTimeout(() => {
            throw new Error('late one');
          }, 0);
          return [list.length, typeof nested];
        })
        .wait(
          Array.from({ length: 12 }, (_, i) => i),
          { a: { b: { c: { d: 1 } } } },
        ),
    );
    const culprit = culpritOf(message);
    expect(culprit.startsWith('`leavesTimer` called with [')).toBe(true);
    expect(culprit).toContain('... 2 more items');
    expect(culprit).not.toContain('10, 11');
    expect(culprit).toContain('{ a: { b: [Object] } }');
    expect(message).toContain('Error: late one');
  });

  it('a long string argument: its first 100 characters', async () => {
    const message = await reportOf((onError) =>
      make({ threads: 1, onError })
        .asyncLoad(function leavesTimer(text: string) {
          setTimeout(() => {
            throw new Error('late one');
          }, 0);
          return text.length;
        })
        .wait('x'.repeat(120)),
    );
    expect(culpritOf(message)).toBe(
      `\`leavesTimer\` called with [ '${'x'.repeat(100)}'... 20 more characters ]`,
    );
  });

  it('arguments longer than 200 characters when shown: cut at 200, ending with an ellipsis', async () => {
    const message = await reportOf((onError) =>
      make({ threads: 1, onError })
        .asyncLoad(function leavesTimer(a: string, b: string, c: string) {
          setTimeout(() => {
            throw new Error('late two');
          }, 0);
          return a.length + b.length + c.length;
        })
        .wait('a'.repeat(90), 'b'.repeat(90), 'c'.repeat(90)),
    );
    const shown = /^`leavesTimer` called with ([\s\S]*)$/.exec(culpritOf(message))![1]!;
    expect(shown).toHaveLength(200);
    expect(shown.endsWith('…')).toBe(true);
    expect(shown.startsWith(`[ '${'a'.repeat(90)}', '${'b'.repeat(90)}`)).toBe(true);
  });

  it('arguments exactly 200 characters when shown: shown whole', async () => {
    const message = await reportOf((onError) =>
      make({ threads: 1, onError })
        .asyncLoad(function leavesTimer(a: string, b: string) {
          setTimeout(() => {
            throw new Error('late two');
          }, 0);
          return a.length + b.length;
        })
        .wait('a'.repeat(95), 'b'.repeat(95)),
    );
    // `[ '`, 95 a, `', '`, 95 b, `' ]`: 200 characters, the most shown uncut.
    expect(culpritOf(message)).toBe(
      `\`leavesTimer\` called with [ '${'a'.repeat(95)}', '${'b'.repeat(95)}' ]`,
    );
  });

  it('an anonymous inline function: its source on one line, cut at 60 characters', async () => {
    const fn = (n: number): number => {
      setTimeout(() => {
        throw new Error('late three');
      }, 0);
      return n + 1;
    };
    const message = await reportOf((onError) => make({ threads: 1, onError }).asyncLoad(fn).wait(4));
    const oneLine = String(fn).replace(/\s+/g, ' ');
    expect(oneLine.length).toBeGreaterThan(60);
    expect(culpritOf(message)).toBe(`the inline function \`${oneLine.slice(0, 59)}…\` called with [ 4 ]`);
  });

  it('a module task: its export and the module', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'async-load-culprit-'));
    const file = join(dir, 'late.mjs');
    writeFileSync(
      file,
      `export function late(n) {
  setTimeout(() => { throw new Error('late four'); }, 0);
  return n * 2;
}`,
    );
    const message = await reportOf((onError) =>
      make({ threads: 1, onError }).asyncLoad(moduleTask<(n: number) => number>(file, 'late')).wait(5),
    );
    expect(culpritOf(message)).toBe(`\`late\` from ${pathToFileURL(file).href} called with [ 5 ]`);
  });
});
