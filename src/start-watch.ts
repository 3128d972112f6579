/**
 * Notices a pool's threads that exit while starting. Piscina reports a thread it starts later
 * (a replacement, or one started on demand) with `workerCreate` only once it is ready, and one
 * that exits before that (process.exit in a preloaded module) raises no error event either:
 * Piscina then stops starting threads for good, and runs waiting for one waited for ever. (The
 * threads it starts with, it counts as ready at once: one of those that exits while starting
 * fails the task it holds, which the pool sees as a thread that died before its run started,
 * and is replaced.) So the pool's threads are looked at wherever Piscina may have
 * started one (its constructor, run(), a replacement after an exit), and each is watched until
 * it exits; an exit before it was reported ready, with no error, is a start failure.
 */
import type { Worker } from 'node:worker_threads';

export class StartWatch {
  readonly #threads: () => readonly Worker[];
  readonly #limit: number;
  readonly #onStartExit: (exitCode: number) => void;
  readonly #seen = new WeakSet<Worker>();
  /** Threads Piscina reported ready (by thread id), until they exit. */
  readonly #ready = new Set<number>();
  /** Threads seen and not exited: once the pool has all it may start, looking is skipped. */
  #alive = 0;

  constructor(threads: () => readonly Worker[], limit: number, onStartExit: (exitCode: number) => void) {
    this.#threads = threads;
    this.#limit = limit;
    this.#onStartExit = onStartExit;
  }

  /** Piscina reported the thread ready (its `workerCreate` event). */
  ready(threadId: number): void {
    this.#ready.add(threadId);
  }

  /** Watches the threads not seen before; cheap once every thread the pool may start is seen. */
  look(): void {
    if (this.#alive >= this.#limit) return;
    for (const worker of this.#threads()) {
      if (this.#seen.has(worker)) continue;
      this.#seen.add(worker);
      this.#alive++;
      // Read now: a thread's id reads -1 once it has exited.
      const threadId = worker.threadId;
      // A thread that threw while starting is reported by Piscina's 'error' event already.
      let threw = false;
      worker.once('error', () => (threw = true));
      worker.once('exit', (code: number) => {
        this.#alive--;
        if (!this.#ready.delete(threadId) && !threw) this.#onStartExit(code);
      });
    }
  }
}
