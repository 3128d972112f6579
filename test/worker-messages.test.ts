/**
 * What the worker thread says when a function cannot run: `this` read or written, a missing
 * module export (listing what the module does export), and which ReferenceErrors mean a
 * captured variable (inline functions, "x is not defined") and which stay as they are.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createLoader, moduleTask, OuterScopeError, UnsendableFunctionError } from '../src/index.js';
import { watchHostErrors } from './helpers.js';

const loader = createLoader({ threads: 1, pollInterval: 0 });
afterAll(() => loader.close());
watchHostErrors();

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

describe('this', () => {
  it('a read says to pass what the function needs as arguments', async () => {
    const reads = loader.asyncLoad(function (this: { k: number }) {
      return this.k;
    });
    const error = await failure(reads.wait());
    expect(error).toBeInstanceOf(UnsendableFunctionError);
    expect(error.message).toMatch(/reads `this.k`.*Pass what it needs as arguments\./);
  });

  it('a write says that `this` does not exist on the thread', async () => {
    const writes = loader.asyncLoad(function (this: { k: number }) {
      this.k = 1;
      return 1;
    });
    const error = await failure(writes.wait());
    expect(error).toBeInstanceOf(UnsendableFunctionError);
    expect(error.message).toMatch(/writes `this.k`, but `this` does not exist on the worker thread/);
  });
});

describe('module exports', () => {
  it('a missing export lists the exports the module has', async () => {
    const esm = new URL('./fixtures/tasks.mjs', import.meta.url);
    const error = await failure(loader.asyncLoad(moduleTask(esm, 'nope')).wait());
    expect(error.message).toMatch(
      /no exported function `nope` \(its exports: count, default, notAFunction\)/,
    );
  });
});

describe('ReferenceError', () => {
  it('from a captured variable of an inline function becomes OuterScopeError naming it', async () => {
    const outer = 3;
    const error = await failure(loader.asyncLoad((n: number) => n * outer).wait(1));
    expect(error).toBeInstanceOf(OuterScopeError);
    expect(error.message).toMatch(/`outer`/);
  });

  it('whose message is not exactly "<name> is not defined" stays a ReferenceError', async () => {
    const prefixed = loader.asyncLoad(() => {
      throw new ReferenceError('the value is not defined');
    });
    const suffixed = loader.asyncLoad(() => {
      throw new ReferenceError('x is not defined here');
    });
    for (const error of [await failure(prefixed.wait()), await failure(suffixed.wait())]) {
      expect(error).toBeInstanceOf(ReferenceError);
      expect(error).not.toBeInstanceOf(OuterScopeError);
    }
  });

  it("raised in a module's own code stays a ReferenceError", async () => {
    const url = new URL('./fixtures/reference-error.mjs', import.meta.url);
    const error = await failure(loader.asyncLoad(moduleTask(url, 'usesMissingGlobal')).wait());
    expect(error).toBeInstanceOf(ReferenceError);
    expect(error).not.toBeInstanceOf(OuterScopeError);
    expect(error.message).toMatch(/notDefinedAnywhere is not defined/);
  });
});
