/**
 * Threads that exit while starting, for the start-exit tests: test/fixtures/exits-while-starting.cjs
 * preloaded (--require) into the threads started while its flag file is there. After each test
 * the preload, its environment and its files go, and the loaders in `loaders` are closed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import type { Loader } from '../../src/index.js';

export interface ExitingThreads {
  /** The flag file: once it is removed, threads start again. */
  readonly flag: string;
  /** How many threads have seen the flag so far (counted only when delays were given). */
  readonly seen: () => number;
}

/**
 * Returns what makes threads started from then on exit while starting. With `delays`, each
 * thread that sees the flag counts itself, then waits its delay before exiting (the first
 * thread's, the second's, ...; the last for all after).
 */
export function useExitingThreads(loaders: Loader[]): (...delays: number[]) => ExitingThreads {
  const execArgv = [...process.execArgv];
  // Every folder made during the test: a test may ask more than once.
  const dirs: string[] = [];
  afterEach(async () => {
    process.execArgv.splice(0, process.execArgv.length, ...execArgv);
    delete process.env.ASYNC_LOAD_TEST_EXIT_WHILE;
    delete process.env.ASYNC_LOAD_TEST_EXIT_SEEN;
    delete process.env.ASYNC_LOAD_TEST_EXIT_DELAY;
    await Promise.all(loaders.splice(0).map((loader) => loader.close()));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return (...delays) => {
    const dir = mkdtempSync(join(tmpdir(), 'async-load-exit-'));
    dirs.push(dir);
    const flag = join(dir, 'exit');
    const seen = join(dir, 'seen');
    writeFileSync(flag, '');
    process.env.ASYNC_LOAD_TEST_EXIT_WHILE = flag;
    if (delays.length > 0) {
      process.env.ASYNC_LOAD_TEST_EXIT_SEEN = seen;
      process.env.ASYNC_LOAD_TEST_EXIT_DELAY = delays.join(',');
    }
    process.execArgv.push(
      '--require',
      fileURLToPath(new URL('../fixtures/exits-while-starting.cjs', import.meta.url)),
    );
    return {
      flag,
      seen: () => (existsSync(seen) ? readFileSync(seen, 'utf8').split('\n').length - 1 : 0),
    };
  };
}

/** What a promise settled with (`{ value }` or `{ error }`), or 'pending' if it did not within `ms`. */
export function settledWithin(promise: Promise<unknown>, ms: number): Promise<unknown> {
  return Promise.race([
    promise.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    ),
    new Promise((resolve) => setTimeout(() => resolve('pending'), ms)),
  ]);
}
