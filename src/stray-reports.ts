/**
 * The host's end of the threads' stray-error channel: errors a thread could not charge to a run
 * in flight (see StrayReport) arrive here and go to `onError` as WorkerCrashedError, naming the
 * run that left them behind. A BroadcastChannel of its own rather than Piscina's ports: Piscina
 * turns anything posted on `parentPort` into its pool's 'message' event, where any function
 * could forge a report; this channel's name reaches the threads in `workerData`, which each
 * thread empties before user code runs.
 */

import { randomUUID } from 'node:crypto';
import { BroadcastChannel } from 'node:worker_threads';
import { decode } from './codec.js';
import { WorkerCrashedError } from './errors.js';
import type { StrayReport } from './protocol.js';

export class StrayReports {
  readonly #channel: BroadcastChannel;

  constructor(onError: (error: Error) => void) {
    this.#channel = new BroadcastChannel(`async-load:strays:${randomUUID()}`);
    // Unref'd: listening never holds the process open.
    this.#channel.unref();
    this.#channel.onmessage = (event) => onError(toError((event as { data: StrayReport }).data));
  }

  /** For WorkerSetup: the threads open the channel by name. */
  get name(): string {
    return this.#channel.name;
  }

  /** No report is delivered after this, not even one posted before it (test/stray-reports.test.ts). */
  close(): void {
    this.#channel.close();
  }
}

function toError(report: StrayReport): WorkerCrashedError {
  const error = report.encoded === true ? decode(report.error) : report.error;
  const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const culprit = report.culprit
    ? `A run of ${report.culprit} left an error behind after it had settled`
    : 'Code on a worker thread that no run could be traced to failed';
  return new WorkerCrashedError(
    `${culprit}: ${what}. No call failed for it and the thread kept running; ` +
      'await or catch everything the function starts before it returns.',
    { cause: error },
  );
}
