/**
 * What a thread answers, checked (src/thread-answers.ts): a task's result counts as a reply, or
 * a batch's end, only in the exact shape the worker makes, with the task's own nonce; Piscina's
 * plain Errors become this library's classes. No threads: the checks are pure.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { LoaderClosedError, WorkerCrashedError, WorkerStartError } from '../src/index.js';
import { crashError, isBatchDone, isReply, startError } from '../src/thread-answers.js';

const NONCE = 123_456;
const reply = { nonce: NONCE, ok: true, value: 1, startedAt: 10, finishedAt: 20 };

describe('isReply', () => {
  it('accepts the shapes the worker makes, with the task’s nonce', () => {
    expect(isReply(reply, NONCE)).toBe(true);
    expect(isReply({ ...reply, ok: false, error: new Error('x') }, NONCE)).toBe(true);
    expect(isReply({ nonce: NONCE, skipped: true }, NONCE)).toBe(true);
    expect(isReply({ nonce: NONCE, missing: true }, NONCE)).toBe(true);
    expect(isReply(Object.assign(Object.create(null) as object, reply), NONCE)).toBe(true);
  });

  it('refuses what is not an object, and any other nonce', () => {
    for (const value of [null, undefined, 0, NONCE, 'reply', true]) expect(isReply(value, NONCE)).toBe(false);
    expect(isReply({ ...reply, nonce: NONCE + 1 }, NONCE)).toBe(false);
    expect(isReply({ ...reply, nonce: String(NONCE) }, NONCE)).toBe(false);
    expect(isReply({ nonce: NONCE + 1, skipped: true }, NONCE)).toBe(false);
    expect(isReply({ nonce: NONCE + 1, missing: true }, NONCE)).toBe(false);
  });

  test.prop([fc.constantFrom('ok', 'startedAt', 'finishedAt'), fc.anything()])(
    'refuses a reply with a field missing or of the wrong type',
    (field, value) => {
      const wrongType = field === 'ok' ? typeof value !== 'boolean' : typeof value !== 'number';
      fc.pre(wrongType);
      expect(isReply({ ...reply, [field]: value }, NONCE)).toBe(false);
      const without: Record<string, unknown> = { ...reply };
      delete without[field];
      expect(isReply(without, NONCE)).toBe(false);
    },
  );

  it('takes `skipped` and `missing` only as true', () => {
    for (const value of [1, 'true', false, {}]) {
      expect(isReply({ nonce: NONCE, skipped: value }, NONCE)).toBe(false);
      expect(isReply({ nonce: NONCE, missing: value }, NONCE)).toBe(false);
    }
  });
});

describe('isBatchDone', () => {
  const done = { batchDone: true, nonce: NONCE, replied: [1, 2] };

  it('accepts the end of a batch with the batch’s nonce', () => {
    expect(isBatchDone(done, NONCE)).toBe(true);
    expect(isBatchDone({ ...done, replied: [] }, NONCE)).toBe(true);
  });

  it('refuses anything else', () => {
    for (const value of [null, undefined, 0, 'done', true]) expect(isBatchDone(value, NONCE)).toBe(false);
    expect(isBatchDone({ ...done, nonce: NONCE + 1 }, NONCE)).toBe(false);
    expect(isBatchDone({ ...done, batchDone: 1 }, NONCE)).toBe(false);
    expect(isBatchDone({ ...done, batchDone: undefined }, NONCE)).toBe(false);
    expect(isBatchDone({ ...done, replied: undefined }, NONCE)).toBe(false);
    expect(isBatchDone({ ...done, replied: { length: 0 } }, NONCE)).toBe(false);
    // A reply is not the end of a batch, nor the reverse.
    expect(isBatchDone(reply, NONCE)).toBe(false);
    expect(isReply(done, NONCE)).toBe(false);
  });
});

describe('crashError', () => {
  it('keeps one of ours as it is', () => {
    const ours = new WorkerCrashedError('already ours');
    expect(crashError(ours)).toBe(ours);
  });

  it('names the exit code, negative ones included, and keeps the cause', () => {
    for (const code of [1, 17, 255, -1]) {
      const cause = new Error(`worker exited with code: ${code}`);
      const error = crashError(cause) as WorkerCrashedError;
      expect(error).toBeInstanceOf(WorkerCrashedError);
      expect(error.message).toBe(`The worker thread exited with code ${code} while running the function.`);
      expect(error.exitCode).toBe(code);
      expect(error.cause).toBe(cause);
    }
  });

  it('tells a thread that ran out of memory', () => {
    const cause = Object.assign(new Error('Worker terminated due to reaching memory limit'), {
      code: 'ERR_WORKER_OUT_OF_MEMORY',
    });
    const error = crashError(cause) as WorkerCrashedError;
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(error.message).toBe(
      'The worker thread ran out of memory (see the resourceLimits loader option) and was replaced.',
    );
    expect(error.exitCode).toBeUndefined();
    expect(error.cause).toBe(cause);
  });

  it("turns Piscina's termination into LoaderClosedError", () => {
    expect(crashError(new Error('Terminating worker thread'))).toBeInstanceOf(LoaderClosedError);
  });

  it('carries any other failure’s message, also of a value that is not an Error', () => {
    const cause = new Error('something else');
    const error = crashError(cause) as WorkerCrashedError;
    expect(error).toMatchObject({ message: 'The worker thread crashed: something else', cause });
    expect(error.exitCode).toBeUndefined();
    expect(crashError('a string')).toMatchObject({ message: 'The worker thread crashed: a string' });
    expect(crashError(null)).toMatchObject({ message: 'The worker thread crashed: null' });
    expect(crashError({ code: 'ERR_OTHER' })).toBeInstanceOf(WorkerCrashedError);
  });
});

describe('startError', () => {
  it('names the cause’s message and what to do', () => {
    const cause = new Error('this thread cannot start');
    const error = startError(cause);
    expect(error).toBeInstanceOf(WorkerStartError);
    expect(error.code).toBe('ERR_ASYNC_LOAD_WORKER_START');
    expect(error.message).toBe(
      'Worker threads exit while starting, before running anything: this thread cannot start. If resourceLimits ' +
        'are set, raise them (a thread needs at least 8 MB of old generation and 1 MB of stack); the next call ' +
        'starts threads again.',
    );
    expect(error.cause).toBe(cause);
  });

  it('leaves the cause out of the message when it is not an Error', () => {
    expect(startError(undefined).message).toMatch(
      /^Worker threads exit while starting, before running anything\. /,
    );
  });
});
