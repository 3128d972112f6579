/**
 * The code that runs inside each thread: receive a task, find the function, run it, reply.
 * Failures of any kind become a reply ({ ok: false }), never a rejected task, so error
 * classes and own properties survive (Piscina would clone a rejection into a plain Error).
 * A stray error of the run's own async work fails the run while it is in flight (see
 * attribution.ts).
 */

// First: captures and locks what the pool needs before anything else is loaded.
import { now, reflectApply, restoreBuiltins, takeMachinery } from './start-up.js';
import { types } from 'node:util';
import { parentPort, threadId } from 'node:worker_threads';
import { decode, encodeThrown, prepare, type Carried } from '../src/codec.js';
import { UnsendableValueError } from '../src/errors.js';
import {
  MAX_START_WAIT_MS,
  type BatchDone,
  type BatchMessage,
  type ResultMessage,
  type TaskMessage,
} from '../src/protocol.js';
import { claimStart } from '../src/start-slots.js';
import {
  keepStrayHandlers,
  newContext,
  reportStraysOn,
  runs,
  strayFailure,
  throwIfStray,
  type RunContext,
} from './attribution.js';
import { explain, findFunction, hasFunction, thisTrap } from './functions.js';

const { slots, strayChannel } = takeMachinery();
// Taken before any user code runs, like everything the replies depend on.
const { assign, create } = Object;
// eslint-disable-next-line @typescript-eslint/unbound-method -- taken before user code; called with reflectApply
const functionToString = Function.prototype.toString;
const functionSource = (fn: unknown): string => reflectApply(functionToString, fn, []);
const NativePromise = Promise;
const isProxy = types.isProxy;
// eslint-disable-next-line @typescript-eslint/unbound-method -- taken before user code; called with reflectApply
const promiseThen = Promise.prototype.then;

/**
 * The first of the run's promise and its stray failure, without Promise.race or array
 * iteration, which a function could have replaced (and hung or hijacked every later run).
 */
function race(value: PromiseLike<unknown>, stray: Promise<never>): Promise<unknown> {
  return new NativePromise((resolve, reject) => {
    void reflectApply(promiseThen, stray, [resolve, reject]);
    void value.then(resolve, reject);
  });
}

reportStraysOn(strayChannel);

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Waits for a refresh's scheduled start, never longer than MAX_START_WAIT_MS (see there). */
function startAt(notBefore: number): void {
  const wait = Math.min(notBefore - now(), MAX_START_WAIT_MS);
  // Stryker disable next-line EqualityOperator: Atomics.wait with a timeout of 0 returns at once, as no wait does
  if (wait > 0) Atomics.wait(sleepCell, 0, 0, wait);
}

/** Builds the reply with optional fields only when set: every field is cloned on the way back. */
function reply(
  nonce: number,
  ok: boolean,
  carried: Carried,
  startedAt: number,
  finishedAt: number,
  arrivedAt: number | undefined,
): ResultMessage {
  // Without a prototype: resolving the task with it must not find a `then` that a function
  // put on Object.prototype (the reply would become whatever that `then` made of it).
  const message = assign(
    create(null) as object,
    ok
      ? { ok: true as const, value: carried.value, startedAt, finishedAt, nonce }
      : { ok: false as const, error: carried.value, startedAt, finishedAt, nonce },
  ) as Exclude<ResultMessage, { skipped: true } | { missing: true }>;
  if (carried.encoded) message.encoded = true;
  if (arrivedAt !== undefined) message.arrivedAt = arrivedAt;
  return message;
}

async function execute(
  context: RunContext,
  startedAt: number,
  arrivedAt: number | undefined,
): Promise<ResultMessage> {
  const { task } = context;
  try {
    const found = findFunction(task.fn);
    // Inline functions come back compiled, not as a promise: no extra turn for them.
    const fn = typeof found === 'function' ? found : await found;
    const args = task.encoded ? (decode(task.args) as unknown[]) : task.args;
    context.name = fn.name;
    if (!('url' in task.fn)) context.source = functionSource(fn);
    context.args = args;
    let value = reflectApply(fn, thisTrap, args);
    throwIfStray(context);
    // A Proxy (a revoked one throws on any read) is refused by prepare() below, unread.
    if (!isProxy(value) && typeof (value as PromiseLike<unknown> | null)?.then === 'function') {
      // Only promises wait on strays: a synchronous function has finished by now.
      value = await race(value as PromiseLike<unknown>, strayFailure(context));
      // A stray between the promise settling and this line still belongs to the run.
      throwIfStray(context);
    }
    context.settled = true;
    restoreBuiltins();
    return reply(task.nonce, true, prepare(value, 'result'), startedAt, now(), arrivedAt);
  } catch (error) {
    context.settled = true;
    restoreBuiltins();
    let carried: Carried;
    try {
      carried = encodeThrown(explain(error));
    } catch {
      // Encoding itself threw (built-ins it reads were changed in a way restoreBuiltins does not
      // undo): a reply is still owed, or the run, and every run queued behind it, waits forever.
      carried = UNCARRIABLE;
    }
    return reply(task.nonce, false, carried, startedAt, now(), arrivedAt);
  }
}

/** Prepared before any user code runs, so that sending it reads nothing a function can change. */
const UNCARRIABLE = encodeThrown(
  new UnsendableValueError(
    'error',
    'what the function threw, and could not be read',
    'Built-ins the thread relies on were changed, during the run, so that reading it throws.',
  ),
);

/** Where a batch's replies go, taken before user code runs (postMessage is locked: start-up.ts). */
const replies = parentPort!;
// eslint-disable-next-line @typescript-eslint/unbound-method -- taken before user code; called with reflectApply
const postReply = MessagePort.prototype.postMessage;
/** A batch stops starting runs after this many ms; the rest go back to the host's queue. */
const BATCH_BUDGET_MS = 5;

/**
 * Runs a batch's runs in order, each reply posted as soon as its run ends: a reply never waits
 * for the rest, and one posted before a later run takes the thread down still arrives.
 */
async function runBatch(task: BatchMessage): Promise<BatchDone> {
  const replied: number[] = [];
  const begin = now();
  const { batch } = task;
  for (let i = 0; i < batch.length; i++) {
    // Past the budget (a run was slower than its function usually is), the rest go back
    // unstarted: the host hands them to whichever thread is free.
    if (i > 0 && now() - begin > BATCH_BUDGET_MS) break;
    const sub = batch[i]!;
    let result = runOne(sub);
    if (result instanceof NativePromise) result = await result;
    reflectApply(postReply, replies, [result]);
    replied[replied.length] = sub.nonce;
  }
  return assign(create(null) as object, { batchDone: true as const, nonce: task.nonce, replied });
}

export default function run(
  task: TaskMessage | BatchMessage,
): Promise<ResultMessage | BatchDone> | ResultMessage {
  // Only Piscina calls this, from outside any run. A function that imported this module and
  // called it could claim other runs' start slots.
  if (runs.getStore() !== undefined)
    throw new Error('async-load: the worker entry point is not for functions to call.');
  return 'batch' in task ? runBatch(task) : runOne(task);
}

function runOne(task: TaskMessage): Promise<ResultMessage> | ResultMessage {
  // Named by number only and not on this thread: the host sends it again with the source.
  // Before anything else: the run has not started, and must not be marked as started.
  if (!hasFunction(task.fn))
    return assign(create(null) as object, { missing: true as const, nonce: task.nonce });
  let arrivedAt: number | undefined;
  if (task.notBefore !== undefined) {
    arrivedAt = now();
    startAt(task.notBefore);
  }
  keepStrayHandlers();
  restoreBuiltins();
  const startedAt = now();
  if (!claimStart(slots, task.slot, task.ticket, threadId, startedAt))
    return assign(create(null) as object, { skipped: true as const, nonce: task.nonce });
  const context = newContext(task);
  return runs.run(context, execute, context, startedAt, arrivedAt);
}
