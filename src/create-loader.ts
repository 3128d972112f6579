/**
 * A Loader: its own pool, cache and coordinator. Threads start on first use, so the default
 * loader costs nothing until something is loaded through it.
 */

import { makeAsyncLoad, type AsyncLoad } from './async-load.js';
import type { UpdateEvent } from './entry.js';
import { LoaderClosedError } from './errors.js';
import { Coordinator } from './loader.js';
import {
  checkKey,
  checkListener,
  resolveLoaderOptions,
  type LoaderOptions,
  type ResolvedLoaderOptions,
} from './options.js';
import { PoolExecutor } from './pool-executor.js';

export interface Loader {
  /** asyncLoad() bound to this loader. */
  asyncLoad: AsyncLoad;
  /** The latest value settled under the `key` option `key`. */
  get(key: string): unknown;
  /** How many entries the loader holds now (running and settled). */
  readonly size: number;
  /** Called with every settled run of this loader, one call per batch. Returns the unsubscribe function. */
  subscribe(listener: (events: UpdateEvent<unknown>[]) => void): () => void;
  /** Fails queued and running runs with LoaderClosedError, stops every timer and thread. Safe to call twice. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

class LoaderImpl implements Loader {
  readonly asyncLoad: AsyncLoad;
  readonly #options: ResolvedLoaderOptions;
  #core: Coordinator | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: ResolvedLoaderOptions) {
    this.#options = options;
    this.asyncLoad = makeAsyncLoad(() => this.#coordinator());
  }

  #coordinator(): Coordinator {
    if (this.#closing) throw new LoaderClosedError();
    this.#core ??= new Coordinator(this.#options.executor ?? new PoolExecutor(this.#options), this.#options);
    return this.#core;
  }

  get size(): number {
    return this.#core?.size ?? 0;
  }

  get(key: string): unknown {
    checkKey(key);
    return this.#core?.get(key);
  }

  subscribe(listener: (events: UpdateEvent<unknown>[]) => void): () => void {
    checkListener(listener);
    const core = this.#coordinator();
    return core.subscribe(core.loaderListeners, listener);
  }

  close(): Promise<void> {
    this.#closing ??= this.#core ? this.#core.close() : Promise.resolve();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Creates a loader with its own pool, cache and coordinator. */
export function createLoader(options?: LoaderOptions): Loader {
  return new LoaderImpl(resolveLoaderOptions(options));
}
