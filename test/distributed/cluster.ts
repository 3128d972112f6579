/**
 * Real processes for the distributed tests: a redis-server on a free loopback port, worker
 * processes (`async-load worker` from the build) and app processes driven over IPC. Every
 * wait is for a message, an output line or a condition; time bounds are generous because CI
 * machines are loaded.
 */

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JOB_VERSION, type JobData } from '../../src/distributed/job.js';
import { Wire } from '../../src/distributed/wire.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'dist/bin/async-load.js');
const APP = fileURLToPath(new URL('./fixtures/app.mjs', import.meta.url));

/** Whether redis-server is installed; under CI its absence is a failure, not a skip. */
export function redisInstalled(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI)
      throw new Error('redis-server is not installed, and CI requires the distributed tests');
    return false;
  }
}

/** The tests run the build (as the packed package would): build it if it is missing. */
export function ensureBuilt(): void {
  if (!existsSync(BIN) || !existsSync(join(ROOT, 'dist/src/distributed/index.js')))
    execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 30_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * A well-formed job as an app would add it, unsigned: an inline `(x) => x + 1` of `[1]`,
 * expiring in a minute; `fields` override any part (the tests that hand-craft jobs).
 */
export function jobData(run: string, fields: Partial<JobData> = {}): JobData {
  return {
    v: JOB_VERSION,
    run,
    fn: { kind: 'inline', source: '(x) => x + 1' },
    args: new Wire().pack([1]).text,
    bins: 0,
    encoded: false,
    entry: `entry-${run}`,
    exp: Date.now() + 60_000,
    ...fields,
  };
}

export class RedisServer {
  readonly port: number;
  readonly dir: string;

  private constructor(port: number, dir: string) {
    this.port = port;
    this.dir = dir;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(port?: number): Promise<RedisServer> {
    const server = new RedisServer(
      port ?? (await freePort()),
      mkdtempSync(join(tmpdir(), 'async-load-redis-')),
    );
    await server.restart();
    await server.#watch();
    return server;
  }

  /**
   * Stops the server if this process dies without stopping it (killed by a timeout, or by
   * Stryker between mutants), which would leave it running for good. Watches while the
   * server's folder exists (stopAndClean() removes it) and stops it by its pid file (a server
   * that is stopped has none), so it never stops a later server on the same port. The loop runs
   * in a background subshell whose parent exits at once, so it is no process's descendant:
   * Stryker stops a test process by killing its whole tree (found by parent pid), which used to
   * take a child watchdog with it and leave the server running.
   */
  async #watch(): Promise<void> {
    const loop = `while kill -0 ${process.pid} 2>/dev/null && [ -d "$1" ]; do sleep 1; done; [ -f "$1/redis.pid" ] && kill "$(cat "$1/redis.pid")"`;
    const parent = spawn('sh', ['-c', `(${loop}) </dev/null >/dev/null 2>&1 &`, 'watch', this.dir], {
      detached: true,
      stdio: 'ignore',
    });
    // Once the parent has exited, the loop is orphaned: no tree-kill of this process reaches it.
    await new Promise((resolve) => parent.once('exit', resolve));
  }

  /** Starts (again, on the same port, empty: persistence is off). */
  async restart(): Promise<void> {
    const d = this.dir;
    // "--daemonize yes": redis-server returns once it has forked; PONG follows within ~100 ms.
    execFileSync('redis-server', [
      '--bind',
      '127.0.0.1',
      '--port',
      String(this.port),
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'yes',
      '--pidfile',
      join(d, 'redis.pid'),
      '--logfile',
      join(d, 'redis.log'),
      '--dir',
      d,
    ]);
    await until(() => this.ping(), `redis-server on port ${this.port}`, 10_000);
  }

  ping(): boolean {
    try {
      const reply = execFileSync('redis-cli', ['-p', String(this.port), 'ping'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      return reply.trim() === 'PONG';
    } catch {
      return false;
    }
  }

  cli(...args: string[]): string {
    return execFileSync('redis-cli', ['-p', String(this.port), ...args], { encoding: 'utf8' }).trim();
  }

  stop(): void {
    try {
      execFileSync('redis-cli', ['-p', String(this.port), 'shutdown', 'nosave'], { stdio: 'ignore' });
    } catch {
      // Already stopped.
    }
  }

  async stopAndClean(): Promise<void> {
    this.stop();
    await until(() => !this.ping(), 'redis-server to stop', 10_000);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A child process whose output lines can be awaited. */
class Child {
  readonly process: ChildProcess;
  output = '';

  constructor(child: ChildProcess) {
    this.process = child;
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  get pid(): number {
    return this.process.pid!;
  }

  async waitFor(text: string, ms = 30_000): Promise<void> {
    await until(
      () => this.output.includes(text),
      `"${text}" from pid ${this.pid}; output so far:\n${this.output}`,
      ms,
    );
  }

  exited(): Promise<number | null> {
    if (this.process.exitCode !== null || this.process.signalCode !== null)
      return Promise.resolve(this.process.exitCode);
    return new Promise((resolve) => this.process.once('exit', (code) => resolve(code)));
  }

  /** SIGTERM, then SIGKILL if it has not exited within `ms` (reported: a clean exit is expected). */
  async stop(ms = 15_000): Promise<void> {
    this.kill('SIGTERM');
    const timer = setTimeout(() => {
      process.stderr.write(
        `pid ${this.pid} did not exit on SIGTERM within ${ms} ms; killed. Output:\n${this.output}\n`,
      );
      this.kill('SIGKILL');
    }, ms);
    await this.exited();
    clearTimeout(timer);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill(signal);
  }
}

export class WorkerProcess extends Child {
  static async start(
    redis: RedisServer,
    args: string[] = [],
    env: Record<string, string> = {},
  ): Promise<WorkerProcess> {
    const worker = new WorkerProcess(
      spawn(
        process.execPath,
        [
          BIN,
          'worker',
          '--redis',
          redis.url,
          '--threads',
          '1',
          '--concurrency',
          '2',
          '--lock-duration',
          '2000',
          '--stalled-interval',
          '1000',
          '--grace',
          '5000',
          ...args,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
      ),
    );
    await worker.waitFor('async-load worker ready');
    return worker;
  }
}

export interface Reply {
  ok: boolean;
  result?: any;
  error?: { name: string; code?: string; message: string; cause?: unknown };
}

/** An app process (fixtures/app.mjs) with its own loader on the bullmq executor. */
export class AppProcess extends Child {
  #next = 0;
  readonly #waiting = new Map<number, (reply: Reply) => void>();

  static async start(redis: RedisServer, env: Record<string, string> = {}): Promise<AppProcess> {
    const app = new AppProcess(
      spawn(process.execPath, [APP], {
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        env: { ...process.env, REDIS_URL: redis.url, ...env },
      }),
    );
    app.process.on('message', (m: { id: number } & Reply) => {
      app.#waiting.get(m.id)?.(m);
      app.#waiting.delete(m.id);
    });
    await app.waitFor('app ready');
    return app;
  }

  request(message: Record<string, unknown>, ms = 60_000): Promise<Reply> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`app ${this.pid}: no reply to ${JSON.stringify(message)}\n${this.output}`)),
        ms,
      );
      this.#waiting.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.process.send({ id, ...message });
    });
  }

  /** Closes the loader, then ends the process (killed if it has not exited within 15 s). */
  async close(): Promise<void> {
    if (this.process.connected) {
      await this.request({ op: 'close' }, 15_000).catch((error: unknown) => {
        process.stderr.write(`app ${this.pid} did not close its loader: ${String(error)}\n`);
      });
    }
    await this.stop();
  }
}
