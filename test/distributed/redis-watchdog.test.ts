// The test helper's redis-server does not outlive a test process that dies without stopping it
// (killed by a timeout, or by Stryker between mutants): its watchdog stops it.
// Skipped when redis-server is not installed (except under CI, where that fails).
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { redisInstalled, ROOT, until } from './cluster.js';

const installed = redisInstalled();

describe.skipIf(!installed)('RedisServer watchdog', () => {
  it('stops the server once the process that started it is killed', async () => {
    // A process that starts a server, prints where it is, and kills itself with SIGKILL.
    const script = `
      import { RedisServer } from ${JSON.stringify(join(ROOT, 'test/distributed/cluster.ts'))};
      const s = await RedisServer.start();
      console.log(JSON.stringify({ port: s.port, dir: s.dir }));
      process.kill(process.pid, 'SIGKILL');`;
    let output = '';
    try {
      execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        encoding: 'utf8',
        cwd: ROOT,
      });
    } catch (error) {
      output = (error as { stdout: string }).stdout;
      expect((error as { signal: string }).signal).toBe('SIGKILL');
    }
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
  }, 30_000);
});
