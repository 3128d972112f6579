export { asyncLoad, defaultLoader } from './default-loader.js';
export { createLoader } from './create-loader.js';
export { moduleTask } from './task-function.js';
export {
  AsyncLoadError,
  CancelledError,
  JobRefusedError,
  LoaderClosedError,
  OptionError,
  OuterScopeError,
  QueueFullError,
  RedisUnavailableError,
  RunLostError,
  TimeoutError,
  UnsendableFunctionError,
  UnsendableValueError,
  WorkerCrashedError,
  WorkerStartError,
} from './errors.js';

export type { AsyncLoad, AsyncLoaded, Loadable } from './async-load.js';
export type { Loader } from './create-loader.js';
export type { LoadState, Status, UpdateEvent } from './entry.js';
export type { AsyncLoadErrorCode } from './errors.js';
export type { LoadOptions, LoaderOptions } from './options.js';
export type { ModuleTask } from './task-function.js';
