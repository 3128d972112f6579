// A remote worker's failures cross Redis as plain errors with a `code`; reviveError gives the
// pool's own failures back their class, so `instanceof` and the typed fields work as with the
// local pool, and leaves every other value as it is.
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { reviveError } from '../../src/distributed/revive.js';
import {
  AsyncLoadError,
  CancelledError,
  LoaderClosedError,
  TimeoutError,
  WorkerCrashedError,
  WorkerStartError,
} from '../../src/errors.js';

/** An error as it arrives from Redis: a plain Error carrying the fields of the original. */
function remote(code: string, message: string, fields: Record<string, unknown> = {}, cause?: unknown): Error {
  const error = cause === undefined ? new Error(message) : new Error(message, { cause });
  error.stack = `${code}: ${message}\n    at the remote worker`;
  return Object.assign(error, { code }, fields);
}

const CLASSES = [
  ['ERR_ASYNC_LOAD_TIMEOUT', TimeoutError],
  ['ERR_ASYNC_LOAD_WORKER_CRASHED', WorkerCrashedError],
  ['ERR_ASYNC_LOAD_WORKER_START', WorkerStartError],
  ['ERR_ASYNC_LOAD_CANCELLED', CancelledError],
  ['ERR_ASYNC_LOAD_CLOSED', LoaderClosedError],
] as const;

describe('reviveError', () => {
  test.prop([fc.constantFrom(...CLASSES), fc.string(), fc.string()])(
    'gives each pool failure its class and code, and keeps the remote message and stack',
    ([code, Class], message, where) => {
      const error = remote(code, message);
      error.stack = where;
      const revived = reviveError(error) as AsyncLoadError;
      expect(revived).toBeInstanceOf(Class);
      expect(revived.code).toBe(code);
      expect(revived.message).toBe(message);
      expect(revived.stack).toBe(where);
    },
  );

  it("keeps a timeout's limit, a crash's exit code and cause, and a start failure's cause", () => {
    const cause = new Error('the cause');
    expect(
      (reviveError(remote('ERR_ASYNC_LOAD_TIMEOUT', 'late', { timeout: 250 })) as TimeoutError).timeout,
    ).toBe(250);
    const crashed = reviveError(remote('ERR_ASYNC_LOAD_WORKER_CRASHED', 'gone', { exitCode: 42 }, cause));
    expect(crashed).toMatchObject({ exitCode: 42, cause });
    const start = reviveError(remote('ERR_ASYNC_LOAD_WORKER_START', 'no start', {}, cause));
    expect((start as WorkerStartError).cause).toBe(cause);
  });

  it('reads a limit or an exit code only when it is a number', () => {
    expect(
      (reviveError(remote('ERR_ASYNC_LOAD_TIMEOUT', 'late', { timeout: '250' })) as TimeoutError).timeout,
    ).toBe(NaN);
    const crashed = reviveError(remote('ERR_ASYNC_LOAD_WORKER_CRASHED', 'gone', { exitCode: '42' }));
    expect((crashed as WorkerCrashedError).exitCode).toBeUndefined();
  });

  it('returns everything else as it is', () => {
    const own = new TimeoutError(5);
    const other = remote('ERR_SOMETHING_ELSE', 'theirs');
    const plain = new Error('no code');
    for (const value of [own, other, plain, 'a string', undefined, { code: 'ERR_ASYNC_LOAD_TIMEOUT' }]) {
      expect(reviveError(value)).toBe(value);
    }
  });
});
