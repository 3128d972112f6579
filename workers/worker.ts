/**
 * The code that runs inside each thread: receive a task, find the function, run it, reply.
 * Failures of any kind become a reply ({ ok: false }), never a rejected task, so error
 * classes and own properties survive (Piscina would clone a rejection into a plain Error).
 *
 * Each run carries its identity through its async work (AsyncLocalStorage), so an uncaught
 * exception or unhandled rejection is charged to the run that created it: it fails that run if
 * the run is still in flight, and is reported to the host's `onError` if not. The thread lives
 * on either way, so a run that merely shares the thread never fails for another's fault.
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import { BroadcastChannel, MessagePort, threadId, workerData } from 'node:worker_threads';
import { decode, encodeThrown, prepare, type Carried } from '../src/codec.js';
import { OuterScopeError, UnsendableFunctionError } from '../src/errors.js';
import {
  COMPILED_FUNCTIONS_PER_THREAD,
  type FunctionRef,
  type ResultMessage,
  type StrayReport,
  type TaskMessage,
  type WorkerSetup,
} from '../src/protocol.js';
import { claimStart, slotViews } from '../src/start-slots.js';

type AnyFunction = (...args: unknown[]) => unknown;
type ModuleRef = Extract<FunctionRef, { kind: 'module' }>;

// ---------------------------------------------------------------------------------------------
// Captured when the thread starts. This module is loaded by Piscina before the first task, so
// everything here happens before any user code: afterwards functions share the thread's
// globals, but not the pool's own machinery.
// ---------------------------------------------------------------------------------------------

const setup = workerData as WorkerSetup;
const slots = slotViews(setup.slots, setup.slotCount);

/** Reports of errors no run is waiting for; unref'd so it never holds the thread open. */
const strayChannel = new BroadcastChannel(setup.strays);
strayChannel.unref();

// The same object is `require('node:worker_threads').workerData` and Piscina's `workerData`:
// emptied, it no longer leads to the start slots (a function that wrote them could make other
// entries' runs skip and never settle) or to the stray channel.
for (const key of Reflect.ownKeys(setup)) Reflect.deleteProperty(setup, key);

// Piscina replies through `port.postMessage`: a function that replaced the prototype's method
// could forge or drop the replies of every later run on the thread. Locked, an assignment is
// ignored (or throws in strict code) and redefining throws.
for (const prototype of [MessagePort.prototype, BroadcastChannel.prototype]) {
  const descriptor = Object.getOwnPropertyDescriptor(prototype, 'postMessage');
  Object.defineProperty(prototype, 'postMessage', { ...descriptor, writable: false, configurable: false });
}
// Start slots and Piscina's own signalling go through Atomics: patched, a function could skip
// or stall later runs. Nothing legitimate replaces Atomics' methods.
Object.freeze(Atomics);

// Calling functions through `fn.apply` would let a function that replaced
// Function.prototype.apply or .call break every later run on the thread.
const reflectApply = Reflect.apply;

// Start and end times feed the host's timeouts: a function that moved `performance.now` ahead
// must not stretch another run's timeout, so the clock is the one the thread started with.
const timeOrigin = performance.timeOrigin;
const performanceNow = performance.now.bind(performance);
const now = (): number => timeOrigin + performanceNow();

// ---------------------------------------------------------------------------------------------
// Attribution
// ---------------------------------------------------------------------------------------------

interface RunContext {
  readonly task: TaskMessage;
  /** Set once the run's reply is decided: later strays go to the host as reports. */
  settled: boolean;
  /** Fails the run while it awaits its function's promise. */
  fail: ((error: unknown) => void) | undefined;
  /** A stray caught before `fail` existed (while loading or inside a synchronous function). */
  stray: { error: unknown } | undefined;
  /** For reports: the arguments as the function received them. */
  args: unknown[] | undefined;
}

const runs = new AsyncLocalStorage<RunContext>();

function onStray(error: unknown): void {
  try {
    const context = runs.getStore();
    if (context && !context.settled) {
      if (context.fail) context.fail(error);
      else context.stray ??= { error };
      return;
    }
    report(context, error);
  } catch {
    // Throwing from here would end the thread, and with it an innocent run: drop the report.
  }
}

// Installed before any user code: with a listener, neither kind of error ends the thread.
process.on('uncaughtException', onStray);
process.on('unhandledRejection', onStray);

// On Node 20 and 22 a throw from a queueMicrotask callback reaches 'uncaughtException' without
// its run (the callback itself still has it): catch it where the run is still known.
const nativeQueueMicrotask = globalThis.queueMicrotask;
globalThis.queueMicrotask = function queueMicrotask(callback: VoidFunction): void {
  const context = runs.getStore();
  if (!context || typeof callback !== 'function') return nativeQueueMicrotask(callback);
  nativeQueueMicrotask(() => {
    try {
      callback();
    } catch (error) {
      runs.run(context, onStray, error);
    }
  });
};

function report(context: RunContext | undefined, error: unknown): void {
  const carried = encodeThrown(error);
  const message: StrayReport = { culprit: context && describeRun(context), error: carried.value };
  if (carried.encoded) message.encoded = true;
  try {
    // The prototype's method is locked above and the channel is out of user code's reach.
    strayChannel.postMessage(message);
  } catch {
    // The channel is closed: the host has gone, nobody is left to tell.
  }
}

/** "`name` called with [ 1, 'a' ]", kept short: it goes into an error message. */
function describeRun(context: RunContext): string {
  const { fn } = context.task;
  let what: string;
  if (typeof fn === 'string') {
    const name = compiled.get(fn)?.name;
    what = name ? `\`${name}\`` : `the inline function \`${shorten(fn.replace(/\s+/g, ' '), 60)}\``;
  } else {
    what = `\`${fn.exportName}\` from ${fn.url}`;
  }
  if (!context.args) return what;
  let args: string;
  try {
    args = inspect(context.args, {
      depth: 2,
      maxArrayLength: 10,
      maxStringLength: 100,
      breakLength: Infinity,
    });
  } catch {
    args = '(arguments that could not be shown)';
  }
  return `${what} called with ${shorten(args, 200)}`;
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

// ---------------------------------------------------------------------------------------------
// Finding the function
// ---------------------------------------------------------------------------------------------

/** Marks frames of inline functions in stacks, so a ReferenceError can be traced to them. */
const SOURCE_URL = 'async-load-inline-function';

/** esbuild (tsx, vitest) wraps named functions in `__name(fn, "name")`; the helper is not global here. */
function nameHelper<T>(fn: T, name: string): T {
  try {
    Object.defineProperty(fn, 'name', { value: name, configurable: true });
  } catch {
    // A frozen function keeps its own name; nothing is lost.
  }
  return fn;
}

/**
 * Vite/vitest's SSR transform rewrites `import(x)` into `__vite_ssr_dynamic_import__(x)`; give
 * such code a real dynamic import so functions written in vitest tests run unchanged.
 */
const dynamicImport = (specifier: string): Promise<unknown> => import(specifier);

/** `require` for inline functions, resolving from the app's working directory. */
const requireFromApp = createRequire(pathToFileURL(`${process.cwd()}/`));

/** Stands in for `this`: a function that reads it gets told why it cannot work. */
const thisTrap: object = new Proxy(Object.create(null) as object, {
  get(_target, property) {
    throw new UnsendableFunctionError(
      `The function reads \`this.${String(property)}\`, but \`this\` is not carried to the worker thread. ` +
        'Pass what it needs as arguments.',
    );
  },
  set(_target, property) {
    throw new UnsendableFunctionError(
      `The function writes \`this.${String(property)}\`, but \`this\` does not exist on the worker thread.`,
    );
  },
});

/**
 * Stands in for `arguments` in arrow functions, which would otherwise read the compiling
 * factory's own arguments (this module's helpers): like any variable from the scope the
 * function was written in, it is refused. Ordinary functions still have their own `arguments`.
 */
const refuseArguments = (): never => {
  throw new OuterScopeError('arguments');
};
const argumentsTrap: object = new Proxy(Object.create(null) as object, {
  get: refuseArguments,
  set: refuseArguments,
  has: refuseArguments,
  deleteProperty: refuseArguments,
  defineProperty: refuseArguments,
  getOwnPropertyDescriptor: refuseArguments,
  ownKeys: refuseArguments,
  getPrototypeOf: refuseArguments,
  setPrototypeOf: refuseArguments,
});

/**
 * Compiled inline functions by source text, least recently used first (a Map keeps insertion
 * order; a hit moves the function to the end). Bounded: a process that makes functions on the
 * fly would otherwise keep every one compiled on every thread for the thread's life.
 */
const compiled = new Map<string, AnyFunction>();
/** The most recently used source: repeated runs of one function skip the reordering. */
let mostRecent: string | undefined;

function compileInline(source: string): AnyFunction {
  let fn = compiled.get(source);
  if (fn) {
    if (source !== mostRecent) {
      compiled.delete(source);
      compiled.set(source, fn);
      mostRecent = source;
    }
    return fn;
  }
  const factory = new Function(
    '__name',
    '__vite_ssr_dynamic_import__',
    'require',
    'arguments',
    `return (${source}\n);\n//# sourceURL=${SOURCE_URL}`,
  );
  fn = reflectApply(factory, thisTrap, [
    nameHelper,
    dynamicImport,
    requireFromApp,
    argumentsTrap,
  ]) as AnyFunction;
  compiled.set(source, fn);
  mostRecent = source;
  if (compiled.size > COMPILED_FUNCTIONS_PER_THREAD) {
    const oldest = compiled.keys().next().value;
    if (oldest !== undefined) compiled.delete(oldest);
  }
  return fn;
}

/** Module namespaces by the URL the task names; a failed import is not kept (see below). */
const modules = new Map<string, Promise<Record<string, unknown>>>();
/** How many times each URL failed to import on this thread. */
const importFailures = new Map<string, number>();

/**
 * Node keeps a module that failed to import (a syntax error, a throw at the top level) in its
 * module map under its URL, failing every later import of that URL even after the file is
 * fixed. After a failure the next run imports the file under a fresh URL (a search parameter),
 * which Node loads anew; once one succeeds, that namespace is kept for the thread.
 */
function importModule(url: string): Promise<Record<string, unknown>> {
  let pending = modules.get(url);
  if (!pending) {
    const failures = importFailures.get(url) ?? 0;
    const loading = import(failures === 0 ? url : freshUrl(url, failures)) as Promise<
      Record<string, unknown>
    >;
    loading.catch(() => {
      modules.delete(url);
      importFailures.set(url, failures + 1);
    });
    modules.set(url, loading);
    pending = loading;
  }
  return pending;
}

function freshUrl(url: string, attempt: number): string {
  if (!url.startsWith('file:')) return url;
  const fresh = new URL(url);
  fresh.searchParams.set('async-load-retry', String(attempt));
  return fresh.href;
}

/** Own exports only: `constructor` or `toString` must not resolve to Object's members. */
function exportOf(mod: Record<string, unknown>, ref: ModuleRef): AnyFunction {
  const name = ref.exportName;
  let exported: unknown;
  if (Object.hasOwn(mod, name)) exported = mod[name];
  else {
    // A CommonJS module's exports arrive as `default`; names the lexer missed are found there.
    const viaDefault = mod.default;
    if ((typeof viaDefault === 'object' && viaDefault !== null) || typeof viaDefault === 'function') {
      if (Object.hasOwn(viaDefault, name)) exported = (viaDefault as Record<string, unknown>)[name];
    }
  }
  if (typeof exported !== 'function') {
    throw new UnsendableFunctionError(
      `${ref.url} has no exported function \`${name}\` (its exports: ${Object.keys(mod).join(', ') || 'none'}).`,
    );
  }
  return exported as AnyFunction;
}

// ---------------------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------------------

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

function startAt(notBefore: number): void {
  const wait = notBefore - now();
  if (wait > 0) Atomics.wait(sleepCell, 0, 0, wait);
}

/** A ReferenceError raised inside an inline function almost always means a captured variable. */
function explain(error: unknown): unknown {
  if (!(error instanceof ReferenceError)) return error;
  const missing = /^(\S+) is not defined$/.exec(error.message);
  const firstFrame = error.stack?.split('\n').find((line) => line.trimStart().startsWith('at '));
  if (missing?.[1] && firstFrame?.includes(SOURCE_URL))
    return new OuterScopeError(missing[1], { cause: error });
  return error;
}

/** Builds the reply with optional fields only when set: every field is cloned on the way back. */
function reply(
  ok: boolean,
  carried: Carried,
  startedAt: number,
  finishedAt: number,
  arrivedAt: number | undefined,
): ResultMessage {
  const message: ResultMessage = ok
    ? { ok: true, value: carried.value, startedAt, finishedAt }
    : { ok: false, error: carried.value, startedAt, finishedAt };
  if (carried.encoded) message.encoded = true;
  if (arrivedAt !== undefined) message.arrivedAt = arrivedAt;
  return message;
}

function throwIfStray(context: RunContext): void {
  if (context.stray) throw context.stray.error;
}

async function execute(
  context: RunContext,
  startedAt: number,
  arrivedAt: number | undefined,
): Promise<ResultMessage> {
  const { task } = context;
  try {
    const fn =
      typeof task.fn === 'string'
        ? compileInline(task.fn)
        : exportOf(await importModule(task.fn.url), task.fn);
    const args = task.encoded ? (decode(task.args) as unknown[]) : task.args;
    context.args = args;
    let value = reflectApply(fn, thisTrap, args);
    throwIfStray(context);
    if (typeof (value as PromiseLike<unknown> | null)?.then === 'function') {
      // Only promises wait on strays: a synchronous function has finished by now.
      const failed = new Promise<never>((_resolve, reject) => {
        context.fail = (error) => {
          context.stray ??= { error };
          reject(error);
        };
      });
      value = await Promise.race([value, failed]);
      // A stray between the promise settling and this line still belongs to the run.
      throwIfStray(context);
    }
    context.settled = true;
    return reply(true, prepare(value, 'result'), startedAt, now(), arrivedAt);
  } catch (error) {
    context.settled = true;
    return reply(false, encodeThrown(explain(error)), startedAt, now(), arrivedAt);
  }
}

export default function run(task: TaskMessage): Promise<ResultMessage> | ResultMessage {
  // Only Piscina calls this, from outside any run. A function that imported this module and
  // called it could claim other runs' start slots.
  if (runs.getStore() !== undefined)
    throw new Error('async-load: the worker entry point is not for functions to call.');
  let arrivedAt: number | undefined;
  if (task.notBefore !== undefined) {
    arrivedAt = now();
    startAt(task.notBefore);
  }
  const startedAt = now();
  if (!claimStart(slots, task.slot, task.ticket, threadId, startedAt)) return { skipped: true };
  const context: RunContext = { task, settled: false, fail: undefined, stray: undefined, args: undefined };
  return runs.run(context, execute, context, startedAt, arrivedAt);
}
