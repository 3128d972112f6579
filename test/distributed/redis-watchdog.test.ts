// The test helper's redis-server does not outlive a test process that dies without stopping it
// (killed by a timeout, or by Stryker between mutants): its watchdog stops it.
// Skipped when redis-server is not installed (except under CI, where that fails).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { redisInstalled, ROOT, until } from './cluster.js';

const installed = redisInstalled();

describe.skipIf(!installed)('RedisServer watchdog', () => {
  /** Starts a process that starts a server and prints where it is; `kill` then ends it. */
  async function orphan(kill: (pid: number) => void): Promise<void> {
    const script = `
      import { RedisServer } from ${JSON.stringify(join(ROOT, 'test/distributed/cluster.ts'))};
      const s = await RedisServer.start();
      console.log(JSON.stringify({ port: s.port, dir: s.dir }));
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: string) => {
        output += chunk;
        if (output.includes('\n')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`the server's process exited early (${code})`)));
    });
    const exited = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    kill(child.pid!);
    expect(await exited).toBe('SIGKILL');
    const { port, dir } = JSON.parse(output) as { port: number; dir: string };
    const ping = (): boolean => {
      try {
        return (
          execFileSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).trim() === 'PONG'
        );
      } catch {
        return false;
      }
    };
    await until(() => !ping(), `the orphaned redis-server on port ${port} to stop`, 15_000);
    // Stopped by its pid file, so the server removed that file as it shut down.
    expect(existsSync(join(dir, 'redis.pid'))).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  }

  /** Every descendant of `pid`, found by parent pid as Stryker's tree-kill finds them. */
  function descendants(pid: number): number[] {
    let children: number[];
    try {
      children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map(Number);
    } catch {
      children = []; // ps exits 1 when there are none
    }
    return children.flatMap((child) => [child, ...descendants(child)]);
  }

  it('stops the server once the process that started it is killed', async () => {
    await orphan((pid) => process.kill(pid, 'SIGKILL'));
  }, 30_000);

  it('stops the server once the process is killed with all its descendants', async () => {
    await orphan((pid) => {
      for (const p of [pid, ...descendants(pid)]) process.kill(p, 'SIGKILL');
    });
  }, 30_000);
});
