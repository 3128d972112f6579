/**
 * What the coordinator needs from whatever runs the functions. The Piscina pool is one
 * implementation; a job-queue executor that runs the same tasks on other machines is another.
 */

import type { FunctionRef } from './protocol.js';

export interface RunRequest {
  fn: FunctionRef;
  args: unknown[];
  /** True when `args` went through the codec and must be decoded on the other side. */
  encoded: boolean;
  /** Milliseconds from the run's actual start; then the run is stopped and fails. */
  timeout?: number;
  /** Epoch ms before which the run must not start (keeps refreshes on schedule). */
  notBefore?: number;
  /**
   * The entry's identity across processes (see entry-identity.ts), set only for executors that
   * ask for it (`needsEntry`): a distributed executor deduplicates and shares runs by it.
   */
  entry?: string;
}

export type Outcome =
  | { ok: true; value: unknown; startedAt: number; finishedAt: number; arrivedAt?: number }
  | { ok: false; error: unknown; startedAt: number | undefined; finishedAt: number; arrivedAt?: number };

export interface RunHandle {
  /** Epoch ms at which the run actually started, or undefined while it waits in the queue. */
  startedAt(): number | undefined;
  /** Stops the run (queued or running); it settles with `reason` as its error. */
  cancel(reason: Error): void;
}

export interface Executor {
  /** Set by executors that need RunRequest.entry; the pool leaves it unset and pays nothing. */
  readonly needsEntry?: boolean;
  /**
   * Starts a run, or throws QueueFullError / LoaderClosedError synchronously. `onSettle` is
   * called exactly once, with the outcome (failures are outcomes, never exceptions). A callback
   * rather than a promise: one allocation and one microtask fewer on every run.
   */
  submit(request: RunRequest, onSettle: (outcome: Outcome) => void): RunHandle;
  /** Stops every run (they settle with LoaderClosedError) and releases threads. */
  close(): Promise<void>;
  /**
   * Called once by the coordinator. Runs that another process started and settled reach the
   * loader through `deliver`, for the entries `holds` says it has (RunRequest.entry identities).
   */
  watch?(holds: (entry: string) => boolean, deliver: (entry: string, outcome: Outcome) => void): void;
  /** The loader no longer has any entry or wrapper of this function: drop what is kept for it. */
  forget?(fn: FunctionRef): void;
}
