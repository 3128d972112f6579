/** What one asyncLoad() call registers with its loader: the function, its options, its channel. */

import type { UpdateEvent } from './entry.js';
import type { LoadOptions } from './options.js';
import type { FunctionRef } from './protocol.js';

export type Listener<R = unknown> = (events: UpdateEvent<R>[]) => void;

/**
 * What every wrapper of one (function, key) shares: their entries are the same, so their
 * subscribers hear the same runs, whichever wrapper started them. The channel lives while a
 * wrapper or an entry uses it; then the loader forgets it and, with its last channel, the
 * function's identity.
 */
export interface Channel {
  /** Function id and key option: how the loader finds the channel when a wrapper registers. */
  readonly name: string;
  /** Start of every key text of the channel's entries: the channel's own number. */
  readonly prefix: string;
  /** The function's identity text (source or module URL and export). */
  readonly identity: string;
  readonly fn: FunctionRef;
  readonly listeners: Set<Listener>;
  /** Live wrappers (asyncLoad() results not yet garbage-collected). */
  registrations: number;
  /** Entries in the store. */
  entries: number;
}

export interface Registration {
  readonly fn: FunctionRef;
  readonly options: Readonly<LoadOptions>;
  /** Identity text shared by all this registration's entries: function id and key. */
  readonly prefix: string;
  /** Effective pollInterval (the option, else the loader's default), in ms. */
  readonly pollInterval: number;
  /** The channel's listeners: shared by every wrapper of the same (function, key). */
  readonly listeners: Set<Listener>;
  readonly channel: Channel;
}
