/**
 * The messages between the main thread and a worker thread. Shared by `src/` and `workers/`;
 * not part of the public API.
 */

export type FunctionRef =
  { kind: 'inline'; source: string } | { kind: 'module'; url: string; exportName: string };

/**
 * Longest a thread waits for a task's `notBefore`, in ms. The coordinator hands a refresh over
 * at most its lead (20 ms at most) before the scheduled start; whatever a task says, a thread is
 * never held longer than this, so a wrong `notBefore` can only start a run early, never freeze
 * a thread (and the runs queued behind it) in Atomics.wait for the length of a schedule.
 */
export const MAX_START_WAIT_MS = 100;

/**
 * Handed to each thread once, at start-up, through Piscina's `workerData`. The worker reads it
 * before any user code runs and then empties the object, so functions cannot reach the slots
 * (or the channel's name) through `require('node:worker_threads').workerData`.
 */
export interface WorkerSetup {
  /** The start slots (see start-slots.ts). */
  slots: SharedArrayBuffer;
  slotCount: number;
  /** Name of the BroadcastChannel on which threads report errors no run is waiting for. */
  strays: string;
}

/**
 * An uncaught exception or unhandled rejection whose run had already settled (or that no run
 * could be traced to), posted on the `strays` channel. It never travels on Piscina's port: a
 * message Piscina did not ask for is "Unexpected message from Worker" there.
 */
export interface StrayReport {
  /** The function and arguments of the run that created the failing work, if known. */
  culprit: string | undefined;
  error: unknown;
  /** Present when `error` went through codec.encode. */
  encoded?: true;
}

/**
 * How a task names its function: a module export, or an inline function by the number the
 * executor gave its source, with the source itself only until the threads have it (a thread
 * that lacks it answers `missing`, and the task comes again with the source).
 */
export type TaskFunction = Extract<FunctionRef, { kind: 'module' }> | { id: number; source?: string };

export interface TaskMessage {
  fn: TaskFunction;
  args: unknown[];
  /** Present when `args` went through codec.encode and must be decoded first. */
  encoded?: true;
  /** Where to record the run's actual start. */
  slot: number;
  /** Value to store in the slot's flag, so a reused slot is never mistaken for this run's. */
  ticket: number;
  /**
   * A random number the reply must carry back: a message some function forged on the thread's
   * port (it can find the port among the process's handles) cannot pass for this run's reply.
   */
  nonce: number;
  /** Epoch ms before which the run must not start: the thread waits out the rest (at most MAX_START_WAIT_MS). */
  notBefore?: number;
}

interface ResultTiming {
  /** The task's nonce. */
  nonce: number;
  /** Epoch ms when the task reached the thread, before waiting for `notBefore` (only then). */
  arrivedAt?: number;
  startedAt: number;
  finishedAt: number;
}

/** Several runs in one task: the thread runs them in order and posts each reply as it ends. */
export interface BatchMessage {
  batch: TaskMessage[];
  nonce: number;
}

/** What a batch task resolves with: the nonces of the runs whose replies the thread posted. */
export interface BatchDone {
  batchDone: true;
  nonce: number;
  replied: number[];
}

/** `encoded` is present when the value or error went through codec.encode. */
export type ResultMessage =
  | ({ ok: true; value: unknown; encoded?: true } & ResultTiming)
  | ({ ok: false; error: unknown; encoded?: true } & ResultTiming)
  /** The main thread cancelled the run before it started: nothing ran. */
  | { skipped: true; nonce: number }
  /** The task named an inline function by number only, and this thread does not have it. */
  | { missing: true; nonce: number };

/**
 * How many compiled inline functions each thread keeps (least recently used dropped first).
 * See the README ("How functions are sent") for why this number.
 */
export const COMPILED_FUNCTIONS_PER_THREAD = 256;
