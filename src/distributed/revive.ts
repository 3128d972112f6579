/**
 * Errors that crossed Redis come back through codec.decode, which rebuilds only the library
 * errors a thread itself throws. A remote worker also reports the pool's own failures
 * (TimeoutError, WorkerCrashedError, WorkerStartError): give those back their class too, so
 * `instanceof` and `code` work the same as with the local pool.
 */

import {
  AsyncLoadError,
  CancelledError,
  LoaderClosedError,
  TimeoutError,
  WorkerCrashedError,
  WorkerStartError,
} from '../errors.js';

export function reviveError(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof AsyncLoadError) return error;
  const props = error as Error & { code?: unknown; timeout?: unknown; exitCode?: unknown };
  let revived: Error | undefined;
  switch (props.code) {
    case 'ERR_ASYNC_LOAD_TIMEOUT':
      revived = new TimeoutError(typeof props.timeout === 'number' ? props.timeout : NaN);
      break;
    case 'ERR_ASYNC_LOAD_WORKER_CRASHED':
      revived = new WorkerCrashedError(error.message, {
        cause: error.cause,
        exitCode: typeof props.exitCode === 'number' ? props.exitCode : undefined,
      });
      break;
    case 'ERR_ASYNC_LOAD_WORKER_START':
      revived = new WorkerStartError(error.message, { cause: error.cause });
      break;
    case 'ERR_ASYNC_LOAD_CANCELLED':
      revived = new CancelledError('the worker cancelled it');
      break;
    case 'ERR_ASYNC_LOAD_CLOSED':
      revived = new LoaderClosedError();
      break;
    default:
      return error;
  }
  revived.message = error.message;
  revived.stack = error.stack;
  return revived;
}
