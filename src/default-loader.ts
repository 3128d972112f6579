/** The loader behind the top-level `asyncLoad`; its threads start on first use. */

import type { AsyncLoad } from './async-load.js';
import { createLoader, type Loader } from './create-loader.js';

export const defaultLoader: Loader = createLoader();

export const asyncLoad: AsyncLoad = defaultLoader.asyncLoad;
