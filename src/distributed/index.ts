export { bullmqExecutor } from './bullmq-executor.js';
export { startWorker } from './worker-service.js';
export {
  AsyncLoadError,
  JobRefusedError,
  RedisUnavailableError,
  RunLostError,
  TimeoutError,
  WorkerCrashedError,
} from '../errors.js';

export type { BullmqExecutorOptions } from './options.js';
export type { WorkerOptions, WorkerHandle } from './worker-service.js';
