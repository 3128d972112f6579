/**
 * The public wrapper: `asyncLoad(fn, options?)` and `asyncLoad(options)(fn)` return a callable
 * bound to one loader, with state(), wait(), refresh(), clear() and subscribe() beside it.
 */

import type { LoadState, UpdateEvent } from './entry.js';
import type { Coordinator } from './loader.js';
import { checkListener, validateLoadOptions, type LoadOptions } from './options.js';
import { isModuleTask, toFunctionRef, type ModuleTask } from './task-function.js';

export interface AsyncLoaded<A extends unknown[], R> {
  /** Never blocks: returns the latest value (undefined until the first run lands), or throws the latest run's error. Starts a run when the entry is new. */
  (...args: A): R | undefined;
  /** The entry's state; never starts a run ('idle' for an entry that does not exist). */
  state(...args: A): LoadState<R>;
  /** Starts a run when needed; resolves with the current run's value or rejects with its error. */
  wait(...args: A): Promise<R>;
  /** Starts a new run now unless one is running; the old value is served meanwhile. */
  refresh(...args: A): void;
  /** Forgets that entry (no arguments: all of this function's); its running run is cancelled. */
  clear(...args: A | []): void;
  /** Called with this function's settled runs, batched by pollInterval. Returns the unsubscribe function. */
  subscribe(listener: (events: UpdateEvent<R>[]) => void): () => void;
}

/** Anything that can be loaded: an inline function (sync or async) or a moduleTask(). */
export type Loadable<A extends unknown[], R> = ((...args: A) => R) | ModuleTask<A, R>;

export interface AsyncLoad {
  <A extends unknown[], R>(fn: Loadable<A, R>, options?: LoadOptions): AsyncLoaded<A, Awaited<R>>;
  (options?: LoadOptions): <A extends unknown[], R>(fn: Loadable<A, R>) => AsyncLoaded<A, Awaited<R>>;
}

export function makeAsyncLoad(coordinator: () => Coordinator): AsyncLoad {
  function asyncLoad(fnOrOptions?: unknown, maybeOptions?: unknown): unknown {
    if (typeof fnOrOptions === 'function' || isModuleTask(fnOrOptions)) {
      return wrap(coordinator, fnOrOptions, validateLoadOptions(maybeOptions));
    }
    if (fnOrOptions === undefined || (typeof fnOrOptions === 'object' && fnOrOptions !== null)) {
      const options = validateLoadOptions(fnOrOptions);
      return (fn: unknown) => wrap(coordinator, fn, options);
    }
    // A string, number, ...: refuse it the way an unsendable function is refused.
    return toFunctionRef(fnOrOptions);
  }
  return asyncLoad as AsyncLoad;
}

function wrap(
  coordinator: () => Coordinator,
  fn: unknown,
  options: LoadOptions,
): AsyncLoaded<unknown[], unknown> {
  const ref = toFunctionRef(fn);
  const core = coordinator();
  const loaded = (...args: unknown[]): unknown => core.read(registration, args);
  // The loader counts this wrapper while it lives, so a forgotten wrapper's function is forgotten too.
  const registration = core.register(ref, options, loaded);
  loaded.state = (...args: unknown[]) => core.state(registration, args);
  loaded.wait = (...args: unknown[]) => core.wait(registration, args);
  loaded.refresh = (...args: unknown[]) => core.refresh(registration, args);
  loaded.clear = (...args: unknown[]) => core.clear(registration, args.length === 0 ? undefined : args);
  loaded.subscribe = (listener: (events: UpdateEvent<unknown>[]) => void) => {
    checkListener(listener);
    return core.subscribe(registration.listeners, listener);
  };
  return loaded;
}
