/**
 * Which run an error belongs to. Each run carries its context through its async work
 * (AsyncLocalStorage), so an uncaught exception or unhandled rejection is charged to the run
 * that started the failing work: in flight, that run fails with it; settled, it is reported to
 * the host's `onError`. The thread lives on either way, so a run that merely shares the thread
 * never fails for another's fault.
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import type { BroadcastChannel } from 'node:worker_threads';
import { inspect } from 'node:util';
import { encodeThrown } from '../src/codec.js';
import type { StrayReport, TaskMessage } from '../src/protocol.js';

export interface RunContext {
  readonly task: TaskMessage;
  /** Set once the run's reply is decided: later strays go to the host as reports. */
  settled: boolean;
  /** Fails the run while it awaits its function's promise. */
  fail: ((error: unknown) => void) | undefined;
  /** A stray caught while the run was in flight: it fails the run. */
  stray: { error: unknown } | undefined;
  /** For reports: the function's name, its source (inline), the arguments as it received them. */
  name: string;
  source: string | undefined;
  args: unknown[] | undefined;
}

export const runs = new AsyncLocalStorage<RunContext>();

let strayChannel: BroadcastChannel | undefined;

/** Given the channel by the worker at start-up (see start-up.ts: takeMachinery). */
export function reportStraysOn(channel: BroadcastChannel): void {
  strayChannel = channel;
}

export function newContext(task: TaskMessage): RunContext {
  return {
    task,
    settled: false,
    fail: undefined,
    stray: undefined,
    name: '',
    source: undefined,
    args: undefined,
  };
}

/** Throws the stray error a run in flight caught, if any. */
export function throwIfStray(context: RunContext): void {
  if (context.stray) throw context.stray.error;
}

/** A promise that rejects with the first stray error of the run, for racing its function. */
export function strayFailure(context: RunContext): Promise<never> {
  return new Promise<never>((_resolve, reject) => {
    context.fail = (error) => {
      context.stray ??= { error };
      reject(error);
    };
  });
}

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
// A function may remove them (process.removeAllListeners): each run puts them back first.
const listenersOf = process.listeners.bind(process);
const listen = process.on.bind(process);

export function keepStrayHandlers(): void {
  if (!listenersOf('uncaughtException').includes(onStray)) listen('uncaughtException', onStray);
  if (!listenersOf('unhandledRejection').includes(onStray)) listen('unhandledRejection', onStray);
}
keepStrayHandlers();

// On Node 20 and 22 a throw from a queueMicrotask callback reaches 'uncaughtException' without
// its run (the callback itself still has it): catch it where the run is still known.
const nativeQueueMicrotask = globalThis.queueMicrotask;
globalThis.queueMicrotask = function queueMicrotask(callback: () => void): void {
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
    // The prototype's method is locked at start-up and the channel is out of user code's reach.
    strayChannel?.postMessage(message);
  } catch {
    // The channel is closed: the host has gone, nobody is left to tell.
  }
}

/** "`name` called with [ 1, 'a' ]", kept short: it goes into an error message. */
function describeRun(context: RunContext): string {
  const { fn } = context.task;
  let what: string;
  if ('url' in fn) what = `\`${fn.exportName}\` from ${fn.url}`;
  else if (context.name) what = `\`${context.name}\``;
  else if (context.source)
    what = `the inline function \`${shorten(context.source.replace(/\s+/g, ' '), 60)}\``;
  else what = 'an inline function';
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
