/**
 * What the pool's threads answer, checked, and how their failures become this library's errors:
 * a task's result is a reply only if the worker made it for that task (a function on the thread
 * can post anything on its port, or change the built-ins Piscina's own code uses), and Piscina
 * reports a thread's death as a plain Error whose message is all there is to read.
 */
import { LoaderClosedError, WorkerCrashedError, WorkerStartError } from './errors.js';
import type { BatchDone, ResultMessage } from './protocol.js';

const EXIT_CODE = /worker exited with code: (-?\d+)/;

/** Whether a task resolved with what the worker's run() returns for it (its nonce included). */
export function isReply(result: unknown, nonce: number): result is ResultMessage {
  if (typeof result !== 'object' || result === null) return false;
  const r = result as Record<string, unknown>;
  if (r.nonce !== nonce) return false;
  if (r.skipped === true || r.missing === true) return true;
  return typeof r.ok === 'boolean' && typeof r.startedAt === 'number' && typeof r.finishedAt === 'number';
}

/** Whether a batch task resolved with what the worker returns for it. */
export function isBatchDone(result: unknown, nonce: number): result is BatchDone {
  if (typeof result !== 'object' || result === null) return false;
  const r = result as Record<string, unknown>;
  return r.batchDone === true && r.nonce === nonce && Array.isArray(r.replied);
}

/**
 * Piscina reports thread failures as plain Errors; give them our class and the exit code.
 * `running`: whether the run handed to the thread had started (if not, the thread died while
 * starting or from an earlier run's leftovers, and nothing of this run executed).
 */
export function crashError(error: unknown, running = true): Error {
  if (error instanceof WorkerCrashedError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (message === 'Terminating worker thread') return new LoaderClosedError();
  const exit = EXIT_CODE.exec(message);
  if (exit) {
    const exitCode = Number(exit[1]);
    return new WorkerCrashedError(
      running
        ? `The worker thread exited with code ${exitCode} while running the function.`
        : `The worker thread exited with code ${exitCode} before the run handed to it started.`,
      {
        exitCode,
        cause: error,
      },
    );
  }
  if ((error as { code?: unknown } | null)?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return new WorkerCrashedError(
      'The worker thread ran out of memory (see the resourceLimits loader option) and was replaced.',
      { cause: error },
    );
  }
  return new WorkerCrashedError(`The worker thread crashed: ${message}`, { cause: error });
}

/** Threads die before they can run anything. */
export function startError(cause: unknown): WorkerStartError {
  const why = cause instanceof Error ? `: ${cause.message}` : '';
  return new WorkerStartError(
    `Worker threads exit while starting, before running anything${why}. If resourceLimits are set, raise them ` +
      '(a thread needs at least 8 MB of old generation and 1 MB of stack); the next call starts threads again.',
    { cause },
  );
}
