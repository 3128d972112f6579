/**
 * Every failure the library itself produces is an `AsyncLoadError` with a stable `code`, so
 * callers can branch on `err.code` (or `instanceof`) instead of matching message text.
 * Errors thrown by the user's own function are passed through as they were thrown.
 *
 * This file is imported by worker threads too: keep it free of main-thread state.
 */

export type AsyncLoadErrorCode =
  | 'ERR_ASYNC_LOAD_WORKER_CRASHED'
  | 'ERR_ASYNC_LOAD_TIMEOUT'
  | 'ERR_ASYNC_LOAD_UNSENDABLE_VALUE'
  | 'ERR_ASYNC_LOAD_QUEUE_FULL'
  | 'ERR_ASYNC_LOAD_CLOSED'
  | 'ERR_ASYNC_LOAD_UNSENDABLE_FUNCTION'
  | 'ERR_ASYNC_LOAD_OUTER_SCOPE'
  | 'ERR_ASYNC_LOAD_CANCELLED'
  | 'ERR_ASYNC_LOAD_INVALID_OPTION'
  | 'ERR_ASYNC_LOAD_WORKER_START'
  | 'ERR_ASYNC_LOAD_REDIS_UNAVAILABLE'
  | 'ERR_ASYNC_LOAD_RUN_LOST'
  | 'ERR_ASYNC_LOAD_JOB_REFUSED';

export class AsyncLoadError extends Error {
  readonly code: AsyncLoadErrorCode;

  constructor(code: AsyncLoadErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/** The thread running the function exited or crashed (for example `process.exit()`, out of memory). */
export class WorkerCrashedError extends AsyncLoadError {
  /** The thread's exit code, when it exited with one. */
  readonly exitCode: number | undefined;

  constructor(message: string, options?: { cause?: unknown; exitCode?: number }) {
    super('ERR_ASYNC_LOAD_WORKER_CRASHED', message, options);
    this.exitCode = options?.exitCode;
  }
}

/** The run took longer than `timeout` ms from its actual start; its thread was stopped. */
export class TimeoutError extends AsyncLoadError {
  readonly timeout: number;

  constructor(timeout: number) {
    super(
      'ERR_ASYNC_LOAD_TIMEOUT',
      `The run did not settle within timeout (${timeout} ms from its start on a thread); its thread was stopped and replaced.`,
    );
    this.timeout = timeout;
  }
}

/** An argument or result holds a value that cannot be carried between threads. */
export class UnsendableValueError extends AsyncLoadError {
  /** Where the value was, for example `args[0].onDone` or `result.items[3]`. */
  readonly path: string;

  constructor(path: string, what: string, hint = '') {
    super(
      'ERR_ASYNC_LOAD_UNSENDABLE_VALUE',
      `${path} is ${what}, which cannot be carried to or from a worker thread.${hint ? ' ' + hint : ''}`,
    );
    this.path = path;
  }
}

/** The pool's queue (`maxQueue`) is full: the run was not started. */
export class QueueFullError extends AsyncLoadError {
  constructor(maxQueue: number) {
    super(
      'ERR_ASYNC_LOAD_QUEUE_FULL',
      `The run queue is full (maxQueue ${maxQueue}); the run was not started. Call again later or raise maxQueue.`,
    );
  }
}

/** The loader was closed: queued and running runs fail with this, and later calls throw it. */
export class LoaderClosedError extends AsyncLoadError {
  constructor() {
    super('ERR_ASYNC_LOAD_CLOSED', 'The loader is closed; create a new one with createLoader().');
  }
}

/** The function cannot be sent to a worker thread (native, bound, a class, not a function, ...). */
export class UnsendableFunctionError extends AsyncLoadError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_ASYNC_LOAD_UNSENDABLE_FUNCTION', message, options);
  }
}

/** An inline function used a variable from the scope it was written in, which a thread cannot see. */
export class OuterScopeError extends AsyncLoadError {
  /** The name of the variable the function tried to use. */
  readonly variable: string;

  constructor(variable: string, options?: { cause?: unknown }) {
    super(
      'ERR_ASYNC_LOAD_OUTER_SCOPE',
      `The function uses \`${variable}\` from the scope it was written in, but it runs on a worker thread ` +
        `that sees only its own arguments and globals. Pass \`${variable}\` as an argument, or put the ` +
        `function in a module file and use moduleTask().`,
      options,
    );
    this.variable = variable;
  }
}

/** The entry was cleared (or evicted) while its run was queued or running. */
export class CancelledError extends AsyncLoadError {
  constructor(why: string) {
    super('ERR_ASYNC_LOAD_CANCELLED', `The run was cancelled: ${why}.`);
  }
}

/**
 * An option or argument of the library's own API was refused (asyncLoad(), createLoader(),
 * moduleTask(), subscribe(), loader.get()). Thrown synchronously, before anything starts.
 *
 * One class with one code rather than TypeError/RangeError: callers branch on `code` like
 * every other library failure, and `option`/`value` say what to fix without parsing text.
 * (It cannot be both an AsyncLoadError and a built-in TypeError: a class has one parent.)
 */
export class OptionError extends AsyncLoadError {
  /** The option or argument, as written in the docs: `timeout`, `resourceLimits.stackSizeMb`, `listener`. */
  readonly option: string;
  /** What was received. */
  readonly value: unknown;

  constructor(option: string, value: unknown, message: string) {
    super('ERR_ASYNC_LOAD_INVALID_OPTION', message);
    this.option = option;
    this.value = value;
  }
}

/**
 * Worker threads exit while starting (before they can run anything), typically because
 * `resourceLimits` leave them too little memory. Queued and later runs fail with this instead of
 * waiting for a thread that never comes; the pool starts threads again on the next call.
 */
export class WorkerStartError extends AsyncLoadError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_ASYNC_LOAD_WORKER_START', message, options);
  }
}

/** The distributed executor (async-load/bullmq) could not reach Redis within its bound. */
export class RedisUnavailableError extends AsyncLoadError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_ASYNC_LOAD_REDIS_UNAVAILABLE', message, options);
  }
}

/**
 * The distributed executor's job is gone from Redis (Redis restarted without persistence, or
 * the job was removed) before it settled: the run's outcome will never arrive.
 */
export class RunLostError extends AsyncLoadError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_ASYNC_LOAD_RUN_LOST', message, options);
  }
}

/**
 * A worker refused the job without running it: unsigned, tampered or expired when the worker
 * has a `secret`, inline source under `--modules-only`, or a module outside the `--allow` roots.
 */
export class JobRefusedError extends AsyncLoadError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_ASYNC_LOAD_JOB_REFUSED', message, options);
  }
}

/** Rebuilds a library error from its code after it crossed a thread boundary. */
export function libraryErrorFromCode(
  code: string,
  message: string,
  extra: Record<string, unknown>,
): Error | undefined {
  let error: AsyncLoadError;
  switch (code) {
    case 'ERR_ASYNC_LOAD_UNSENDABLE_VALUE':
      error = new UnsendableValueError(String(extra.path), '');
      break;
    case 'ERR_ASYNC_LOAD_OUTER_SCOPE':
      error = new OuterScopeError(String(extra.variable));
      break;
    case 'ERR_ASYNC_LOAD_UNSENDABLE_FUNCTION':
      error = new UnsendableFunctionError(message);
      break;
    default:
      return undefined;
  }
  error.message = message;
  return error;
}
