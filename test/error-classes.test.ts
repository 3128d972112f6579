/**
 * The error classes themselves, without threads: each carries the code, name and fields the
 * README's error table documents, and a message that names what the caller needs (the option,
 * the limit, the path). Library errors rebuilt from a thread's reply keep their class.
 */
import { describe, expect, it } from 'vitest';
import {
  AsyncLoadError,
  CancelledError,
  libraryErrorFromCode,
  LoaderClosedError,
  OptionError,
  OuterScopeError,
  QueueFullError,
  TimeoutError,
  UnsendableFunctionError,
  UnsendableValueError,
  WorkerCrashedError,
  WorkerStartError,
  RedisUnavailableError,
  RunLostError,
  JobRefusedError,
} from '../src/errors.js';

describe('error classes', () => {
  const cause = new Error('underneath');
  // Made inside each test, not while the file is collected: mutation runs switch a mutant on
  // only when the tests start.
  const cases: [string, string, () => AsyncLoadError][] = [
    [
      'WorkerCrashedError',
      'ERR_ASYNC_LOAD_WORKER_CRASHED',
      () => new WorkerCrashedError('thread exited', { cause, exitCode: 3 }),
    ],
    ['TimeoutError', 'ERR_ASYNC_LOAD_TIMEOUT', () => new TimeoutError(250)],
    [
      'UnsendableValueError',
      'ERR_ASYNC_LOAD_UNSENDABLE_VALUE',
      () => new UnsendableValueError('result.f', 'a function'),
    ],
    ['QueueFullError', 'ERR_ASYNC_LOAD_QUEUE_FULL', () => new QueueFullError(7)],
    ['LoaderClosedError', 'ERR_ASYNC_LOAD_CLOSED', () => new LoaderClosedError()],
    [
      'UnsendableFunctionError',
      'ERR_ASYNC_LOAD_UNSENDABLE_FUNCTION',
      () => new UnsendableFunctionError('cannot send', { cause }),
    ],
    ['OuterScopeError', 'ERR_ASYNC_LOAD_OUTER_SCOPE', () => new OuterScopeError('rates', { cause })],
    ['CancelledError', 'ERR_ASYNC_LOAD_CANCELLED', () => new CancelledError('its entry was cleared')],
    [
      'OptionError',
      'ERR_ASYNC_LOAD_INVALID_OPTION',
      () => new OptionError('timeout', -1, 'timeout must be positive'),
    ],
    [
      'WorkerStartError',
      'ERR_ASYNC_LOAD_WORKER_START',
      () => new WorkerStartError('threads exit while starting', { cause }),
    ],
    [
      'RedisUnavailableError',
      'ERR_ASYNC_LOAD_REDIS_UNAVAILABLE',
      () => new RedisUnavailableError('no answer from redis://h:1 for 10 s', { cause }),
    ],
    ['RunLostError', 'ERR_ASYNC_LOAD_RUN_LOST', () => new RunLostError('job 7 is gone from Redis')],
    [
      'JobRefusedError',
      'ERR_ASYNC_LOAD_JOB_REFUSED',
      () => new JobRefusedError('unsigned job refused', { cause }),
    ],
  ];

  it.each(cases)('%s carries %s and is an AsyncLoadError', (name, code, make) => {
    const error = make();
    expect(error).toBeInstanceOf(AsyncLoadError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
    expect(String(error)).toBe(`${name}: ${error.message}`);
    expect(error.message.length).toBeGreaterThan(10);
  });

  it('passes the cause and the exit code on', () => {
    const crashed = new WorkerCrashedError('thread exited', { cause, exitCode: 3 });
    expect(crashed.cause).toBe(cause);
    expect(crashed.exitCode).toBe(3);
    expect(crashed.message).toBe('thread exited');
    expect(new WorkerCrashedError('no code').exitCode).toBeUndefined();
    expect(new UnsendableFunctionError('x', { cause }).cause).toBe(cause);
    expect(new OuterScopeError('v', { cause }).cause).toBe(cause);
    expect(new WorkerStartError('x', { cause }).cause).toBe(cause);
    expect('cause' in new LoaderClosedError()).toBe(false);
  });

  it('names the numbers, the path and the variable in their messages and fields', () => {
    const timeout = new TimeoutError(250);
    expect(timeout.timeout).toBe(250);
    expect(timeout.message).toMatch(/\btimeout \(250 ms from its start on a thread\)/);
    expect(timeout.message).toMatch(/stopped and replaced/);

    const unsendable = new UnsendableValueError('args[0].cb', 'a function', 'Pass data.');
    expect(unsendable.path).toBe('args[0].cb');
    expect(unsendable.message).toBe(
      'args[0].cb is a function, which cannot be carried to or from a worker thread. Pass data.',
    );
    // Without a hint the sentence ends there, with no trailing space.
    expect(new UnsendableValueError('result', 'a symbol').message).toBe(
      'result is a symbol, which cannot be carried to or from a worker thread.',
    );

    expect(new QueueFullError(7).message).toMatch(/\(maxQueue 7\)/);
    expect(new QueueFullError(7).message).toMatch(/raise maxQueue/);
    expect(new LoaderClosedError().message).toMatch(/closed; create a new one/);

    const outer = new OuterScopeError('rates');
    expect(outer.variable).toBe('rates');
    expect(outer.message).toMatch(/^The function uses `rates` from the scope/);
    expect(outer.message).toMatch(/Pass `rates` as an argument, or .*moduleTask\(\)/);

    expect(new CancelledError('its entry was cleared').message).toBe(
      'The run was cancelled: its entry was cleared.',
    );

    const option = new OptionError('threads', 0, 'threads must be at least 1');
    expect(option.option).toBe('threads');
    expect(option.value).toBe(0);
    expect(option.message).toBe('threads must be at least 1');
  });
});

describe('library errors rebuilt from their code', () => {
  it('keeps the class, message and field of the errors a thread can throw', () => {
    const unsendable = libraryErrorFromCode('ERR_ASYNC_LOAD_UNSENDABLE_VALUE', 'the message', {
      path: 'result.x',
    });
    expect(unsendable).toBeInstanceOf(UnsendableValueError);
    expect(unsendable?.message).toBe('the message');
    expect((unsendable as UnsendableValueError).path).toBe('result.x');

    const outer = libraryErrorFromCode('ERR_ASYNC_LOAD_OUTER_SCOPE', 'uses rates', { variable: 'rates' });
    expect(outer).toBeInstanceOf(OuterScopeError);
    expect(outer?.message).toBe('uses rates');
    expect((outer as OuterScopeError).variable).toBe('rates');

    const fn = libraryErrorFromCode('ERR_ASYNC_LOAD_UNSENDABLE_FUNCTION', 'no such export', {});
    expect(fn).toBeInstanceOf(UnsendableFunctionError);
    expect(fn?.message).toBe('no such export');
  });

  it('leaves other codes to be rebuilt as plain errors', () => {
    for (const code of ['ERR_ASYNC_LOAD_TIMEOUT', 'ERR_ASYNC_LOAD_CLOSED', 'E_OTHER', ''])
      expect(libraryErrorFromCode(code, 'm', {})).toBeUndefined();
  });
});
