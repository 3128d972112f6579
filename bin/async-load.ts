#!/usr/bin/env node
/**
 * `async-load worker`: takes async-load jobs from a BullMQ queue on Redis and runs them on
 * this process's own worker threads. Stops cleanly on SIGTERM and SIGINT: no new jobs, running
 * ones finish (up to --grace ms; past that another worker takes them again).
 */

import { parseArgs } from 'node:util';
import { startWorker } from '../src/distributed/worker-service.js';

const USAGE = `Usage: async-load worker --redis URL [--queue NAME] [--concurrency N] [--threads T]
       [--modules-only] [--allow DIR]... [--secret-env VAR] [--lock-duration MS]
       [--stalled-interval MS] [--grace MS]

  --redis URL           redis:// or rediss:// (use TLS across machines)
  --queue NAME          queue name (default async-load; the apps' bullmqExecutor queue)
  --concurrency N       jobs at once (default: threads)
  --threads T           worker threads (default: cores)
  --modules-only        refuse inline functions; run moduleTask()s only
  --allow DIR           run only modules under DIR (repeatable)
  --secret-env VAR      read the signing secret from env VAR (default ASYNC_LOAD_SECRET, if set):
                        unsigned, tampered and expired jobs are refused
  --lock-duration MS    job lock (default 8000); a dead worker's job is taken again after
  --stalled-interval MS   about lock-duration + up to 2 x stalled-interval (default 4000)
  --grace MS            on SIGTERM, how long running jobs may finish (default 30000)`;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

/** Digits only: Number() would also take `1e3`, `0x10` and ` 5 `. */
function integer(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = /^[0-9]{1,16}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    fail(`--${name} must be an integer >= 1, got ${JSON.stringify(text)}`);
  return n;
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command !== 'worker')
    fail(command === undefined ? 'No command given.' : `Unknown command ${JSON.stringify(command)}.`);
  let values;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        redis: { type: 'string' },
        queue: { type: 'string' },
        concurrency: { type: 'string' },
        threads: { type: 'string' },
        'modules-only': { type: 'boolean' },
        allow: { type: 'string', multiple: true },
        'secret-env': { type: 'string' },
        'lock-duration': { type: 'string' },
        'stalled-interval': { type: 'string' },
        grace: { type: 'string' },
      },
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  if (!values.redis) fail('--redis is required.');
  const secretVar = values['secret-env'] ?? 'ASYNC_LOAD_SECRET';
  const secret = process.env[secretVar];
  if (values['secret-env'] && !secret) fail(`--secret-env ${secretVar}: that variable is not set.`);
  const grace = integer('grace', values.grace);
  if (grace !== undefined && grace > 2_147_483_647)
    fail(`--grace must be at most 2147483647 (the longest a Node timer waits), got ${grace}`);
  const worker = startWorker({
    connection: values.redis,
    queue: values.queue,
    concurrency: integer('concurrency', values.concurrency),
    threads: integer('threads', values.threads),
    modulesOnly: values['modules-only'] === true,
    allow: values.allow,
    secret: secret || undefined,
    lockDuration: integer('lock-duration', values['lock-duration']),
    stalledInterval: integer('stalled-interval', values['stalled-interval']),
    onError: (error) => process.stderr.write(`async-load worker: ${error.message}\n`),
  });
  const stop = (): void => {
    process.stdout.write('async-load worker: stopping\n');
    worker.close(grace).then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`async-load worker: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await worker.ready;
  process.stdout.write(
    `async-load worker ready (queue ${values.queue ?? 'async-load'}, pid ${process.pid})\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`async-load worker: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
