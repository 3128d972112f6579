/**
 * The file Piscina loads in each thread of the published build. Piscina loads a task file with
 * `require()` first, and on Node 22 `require()` of an ES module aborts the whole process (a V8
 * fatal error, "IsGraphAsync must be used on an instantiated module") when the thread is
 * terminated while that require is instantiating the module graph: `close()` or the process
 * exiting while a thread is still starting. This CommonJS entry loads the worker through
 * `import()` instead, which a termination ends cleanly.
 *
 * From TypeScript sources the pool loads worker.ts directly: tsx compiles it to CommonJS for
 * `require()`, so Node's ES module loader is not involved there.
 */
import type { BatchDone, BatchMessage, ResultMessage, TaskMessage } from '../src/protocol.js';

type Run = (task: TaskMessage | BatchMessage) => Promise<ResultMessage | BatchDone> | ResultMessage;

let run: Run | undefined;
// Started when the thread loads this file, before Piscina reports the thread ready: the worker's
// start-up (start-up.ts) still runs before any task, since the first task waits for it. Left
// unhandled on purpose if it fails: the rejection ends the thread as a failed start, which the
// pool reports as WorkerStartError, as when the worker could not be loaded at all.
const loading = import('./worker.js').then((worker: { default: Run }) => {
  run = worker.default;
});

function entry(task: TaskMessage | BatchMessage): ReturnType<Run> | Promise<ResultMessage | BatchDone> {
  return run !== undefined ? run(task) : loading.then(() => run!(task));
}

export = entry;
