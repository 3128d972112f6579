/** What one asyncLoad() call registers with its loader: the function, its options, its listeners. */

import type { UpdateEvent } from './entry.js';
import type { LoadOptions } from './options.js';
import type { FunctionRef } from './protocol.js';

export type Listener<R = unknown> = (events: UpdateEvent<R>[]) => void;

export interface Registration {
  readonly fn: FunctionRef;
  readonly options: Readonly<LoadOptions>;
  /** Identity text shared by all this registration's entries: function id and key. */
  readonly prefix: string;
  /** Effective pollInterval (the option, else the loader's default), in ms. */
  readonly pollInterval: number;
  readonly listeners: Set<Listener>;
}
