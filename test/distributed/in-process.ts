/**
 * A redis-server and an async-load worker in this process, for the test files that drive the
 * BullMQ executor in process (the mutation runs reach only those). Apart from cluster.ts so
 * that the files driving the build do not load the worker's sources.
 */

import { afterAll, beforeAll } from 'vitest';
import { startWorker, type WorkerHandle, type WorkerOptions } from '../../src/distributed/worker-service.js';
import { RedisServer } from './cluster.js';

export interface RedisWithWorker {
  redis: RedisServer;
  worker: WorkerHandle;
}

/**
 * Started before the enclosing describe block's tests, stopped after them; the fields are set
 * once its beforeAll has run.
 */
export function redisWithWorker(options: Omit<WorkerOptions, 'connection'>): RedisWithWorker {
  const context = {} as RedisWithWorker;
  beforeAll(async () => {
    context.redis = await RedisServer.start();
    context.worker = startWorker({ ...options, connection: context.redis.url });
    await context.worker.ready;
  }, 60_000);
  afterAll(async () => {
    await context.worker?.close(5_000);
    await context.redis?.stopAndClean();
  }, 60_000);
  return context;
}
