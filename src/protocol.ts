/**
 * The messages between the main thread and a worker thread. Shared by `src/` and `workers/`;
 * not part of the public API.
 */

export type FunctionRef =
  { kind: 'inline'; source: string } | { kind: 'module'; url: string; exportName: string };

/** Handed to each thread once, at start-up, through Piscina's `workerData`. */
export interface WorkerSetup {
  /** The start slots (see start-slots.ts). */
  slots: SharedArrayBuffer;
  slotCount: number;
}

export interface TaskMessage {
  /** An inline function's source text, or a module export. */
  fn: string | Extract<FunctionRef, { kind: 'module' }>;
  args: unknown[];
  /** Present when `args` went through codec.encode and must be decoded first. */
  encoded?: true;
  /** Where to record the run's actual start. */
  slot: number;
  /** Value to store in the slot's flag, so a reused slot is never mistaken for this run's. */
  ticket: number;
  /** Epoch ms before which the run must not start: the thread waits out the rest. */
  notBefore?: number;
}

interface ResultTiming {
  /** Epoch ms when the task reached the thread, before waiting for `notBefore` (only then). */
  arrivedAt?: number;
  startedAt: number;
  finishedAt: number;
}

/** `encoded` is present when the value or error went through codec.encode. */
export type ResultMessage =
  | ({ ok: true; value: unknown; encoded?: true } & ResultTiming)
  | ({ ok: false; error: unknown; encoded?: true } & ResultTiming)
  /** The main thread cancelled the run before it started: nothing ran. */
  | { skipped: true };
