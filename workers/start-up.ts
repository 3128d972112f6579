/**
 * What a thread captures and locks when it starts. Piscina loads the worker's modules before
 * handing the thread its first task, so all of this happens before any user code runs:
 * afterwards functions share the thread's globals (see the README, "Threads are shared"), but
 * cannot reach the pool's own machinery through them.
 */

import { BroadcastChannel, MessagePort, workerData } from 'node:worker_threads';
import type { WorkerSetup } from '../src/protocol.js';
import { slotViews } from '../src/start-slots.js';

const setup = workerData as WorkerSetup;

/** The start slots (see start-slots.ts), reachable from here only. */
export const slots = slotViews(setup.slots, setup.slotCount);

/** Reports of errors no run is waiting for; unref'd so it never holds the thread open. */
export const strayChannel = new BroadcastChannel(setup.strays);
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
