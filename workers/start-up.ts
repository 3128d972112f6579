/**
 * What a thread captures and locks when it starts. Piscina loads the worker's modules before
 * handing the thread its first task, so all of this happens before any user code runs:
 * afterwards functions share the thread's globals (see the README, "Threads are shared"), but
 * cannot reach the pool's own machinery through them.
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import { BroadcastChannel, MessagePort, workerData } from 'node:worker_threads';
import type { WorkerSetup } from '../src/protocol.js';
import { slotViews, type SlotViews } from '../src/start-slots.js';

const setup = workerData as WorkerSetup;

/** What the pool's own code needs and user code must not reach. */
export interface Machinery {
  /** The start slots (see start-slots.ts). */
  slots: SlotViews;
  /** Reports of errors no run is waiting for; unref'd so it never holds the thread open. */
  strayChannel: BroadcastChannel;
}

let machinery: Machinery | undefined = {
  slots: slotViews(setup.slots, setup.slotCount),
  strayChannel: new BroadcastChannel(setup.strays),
};
machinery.strayChannel.unref();

/**
 * Hands the machinery over once, to the worker's own modules as they load (before any user
 * code). A module's exports are reachable by anyone who imports the same file, so the slots and
 * the channel are never exported: a function importing this file later gets only an error.
 */
export function takeMachinery(): Machinery {
  const taken = machinery;
  if (!taken) throw new Error('async-load: the pool machinery is not for functions to take.');
  machinery = undefined;
  return taken;
}

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

/**
 * Calls functions without `fn.apply`/`fn.call`, which a function could replace on
 * Function.prototype and so break every later run on the thread.
 */
export const reflectApply = Reflect.apply;

const timeOrigin = performance.timeOrigin;
const performanceNow = performance.now.bind(performance);

/**
 * Epoch ms, from the clock the thread started with. Start and end times feed the host's
 * timeouts: a function that moved `performance.now` ahead must not stretch another run's.
 */
export const now = (): number => timeOrigin + performanceNow();

const mapProto = Map.prototype;
/* eslint-disable @typescript-eslint/unbound-method -- built-ins taken before user code, always called on our own maps */
const mapGet = mapProto.get;
const mapSet = mapProto.set;
const mapDelete = mapProto.delete;
const mapKeys = mapProto.keys;
const mapSize = Object.getOwnPropertyDescriptor(mapProto, 'size')!.get!;
const mapIteratorNext = Object.getPrototypeOf(new Map().keys()).next as (
  this: Iterator<unknown>,
) => IteratorResult<unknown>;
/* eslint-enable @typescript-eslint/unbound-method */

/**
 * A Map whose methods were taken when the thread started: the worker's caches (compiled
 * functions, modules) keep working when a function replaces Map.prototype's methods, which
 * would otherwise hand later runs a function of its choosing.
 */
export class SafeMap<K, V> {
  readonly #map = new Map<K, V>();

  get(key: K): V | undefined {
    return reflectApply(mapGet, this.#map, [key]) as V | undefined;
  }

  set(key: K, value: V): void {
    reflectApply(mapSet, this.#map, [key, value]);
  }

  delete(key: K): void {
    reflectApply(mapDelete, this.#map, [key]);
  }

  get size(): number {
    return reflectApply(mapSize, this.#map, []) as number;
  }

  /** The key that went in first (the least recently used, for a cache that re-inserts on use). */
  first(): K | undefined {
    const keys = reflectApply(mapKeys, this.#map, []) as Iterator<K>;
    return (reflectApply(mapIteratorNext, keys, []) as IteratorResult<K>).value as K | undefined;
  }
}

/**
 * Built-ins the pool's own code (and Piscina's, on this thread) calls on every run. A function
 * that replaced one (Object.prototype.then, Array.prototype[Symbol.iterator], Map.prototype.get,
 * Promise.race, Function.prototype.apply, ...) would hang or hijack every later run on the
 * thread, whatever its `timeout`: they are put back as they were after each run (see the
 * README, "Threads are shared").
 */
const GUARDED: [object, PropertyKey][] = [
  [Object.prototype, 'then'],
  ...(['apply', 'call', 'bind'] as const).map((k): [object, PropertyKey] => [Function.prototype, k]),
  ...(
    [
      'push',
      'pop',
      'shift',
      'unshift',
      'splice',
      'slice',
      'map',
      'forEach',
      'filter',
      'indexOf',
      'includes',
      'join',
      Symbol.iterator,
    ] as const
  ).map((k): [object, PropertyKey] => [Array.prototype, k]),
  [Object.getPrototypeOf([][Symbol.iterator]()) as object, 'next'],
  ...(['get', 'set', 'has', 'delete', 'keys', 'values', 'entries', 'forEach', Symbol.iterator] as const).map(
    (k): [object, PropertyKey] => [Map.prototype, k],
  ),
  [Object.getPrototypeOf(new Map()[Symbol.iterator]()) as object, 'next'],
  ...(['add', 'has', 'delete', 'values', 'forEach', Symbol.iterator] as const).map(
    (k): [object, PropertyKey] => [Set.prototype, k],
  ),
  [Object.getPrototypeOf(new Set()[Symbol.iterator]()) as object, 'next'],
  ...(['then', 'catch', 'finally'] as const).map((k): [object, PropertyKey] => [Promise.prototype, k]),
  ...(['resolve', 'reject', 'race', 'all', 'allSettled', 'any'] as const).map((k): [object, PropertyKey] => [
    Promise,
    k,
  ]),
  [globalThis, 'Promise'],
  [globalThis, 'Map'],
  [globalThis, 'Set'],
  [globalThis, 'Array'],
  [globalThis, 'Object'],
  [globalThis, 'JSON'],
  [globalThis, 'Reflect'],
  ...(['stringify', 'parse'] as const).map((k): [object, PropertyKey] => [JSON, k]),
  // The pool keeps each run's identity (its task, and so its reply's nonce) in an
  // AsyncLocalStorage: replaced, `run` would hand later runs' tasks to a function, which could
  // then forge their replies.
  ...(['run', 'getStore', 'enterWith', 'exit'] as const).map((k): [object, PropertyKey] => [
    AsyncLocalStorage.prototype,
    k,
  ]),
  // Copying a big argument out of the entry's shared memory (codec.ts) goes through `set`:
  // replaced, it would hand a function the shared memory of another entry's argument.
  [Object.getPrototypeOf(Uint8Array.prototype) as object, 'set'],
  [globalThis, 'Uint8Array'],
  [globalThis, 'ArrayBuffer'],
  // Read by the codec on every reply and every argument: replaced, they made later runs of other
  // functions fail, hang (an error that could not be carried back), receive the codec's own
  // tagged objects, or send a typed array's whole backing buffer (lying byteOffset/byteLength).
  [Array, 'isArray'],
  [ArrayBuffer, 'isView'],
  ...(
    ['getPrototypeOf', 'keys', 'hasOwn', 'defineProperty', 'getOwnPropertyNames', 'create', 'assign'] as const
  ).map((k): [object, PropertyKey] => [Object, k]),
  [Number, 'isInteger'],
  ...(['Number', 'String', 'Date', 'RegExp', 'URL', 'Error', 'AggregateError'] as const).map(
    (k): [object, PropertyKey] => [globalThis, k],
  ),
  [Error, 'captureStackTrace'],
  [Error, Symbol.hasInstance],
  // A getter put on Error.prototype (`name`, `cause`) made even the error that says an error
  // could not be carried impossible to build.
  ...(['name', 'message', 'cause', 'stack', 'toString', 'errors'] as const).map(
    (k): [object, PropertyKey] => [Error.prototype, k],
  ),
  ...(['buffer', 'byteOffset', 'byteLength', 'length'] as const).map((k): [object, PropertyKey] => [
    Object.getPrototypeOf(Uint8Array.prototype) as object,
    k,
  ]),
];
const getDescriptor = Reflect.getOwnPropertyDescriptor;
const defineProperty = Reflect.defineProperty;
const deleteProperty = Reflect.deleteProperty;
const originals = GUARDED.map(([target, key]) => getDescriptor(target, key));

/** Puts back any guarded built-in a function replaced, added or removed. */
export function restoreBuiltins(): void {
  // Indexes only, no destructuring or for-of: those go through the array iterator, which may be
  // the very thing replaced.
  for (let i = 0; i < GUARDED.length; i++) {
    const entry = GUARDED[i]!;
    const target = entry[0];
    const key = entry[1];
    const original = originals[i];
    const current = getDescriptor(target, key);
    if (
      current?.value === original?.value &&
      current?.get === original?.get &&
      current?.set === original?.set &&
      (current === undefined) === (original === undefined)
    )
      continue;
    if (original) defineProperty(target, key, original);
    else deleteProperty(target, key);
  }
}
