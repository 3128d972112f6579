// npm run start:cluster: the dashboard on the distributed executor, as it would run on several
// machines: a redis-server (started here when installed and none is given), two
// `async-load worker` processes and two dashboard processes on two ports, all on one Redis.
// Open both pages: they show the same table (same start time), refreshed once per interval.
// Ctrl-C stops everything this started.
//
//   DASHBOARD_REDIS=redis://host:6379 npm run start:cluster   use that Redis instead
//   PORT=3000 (the second dashboard gets PORT + 1)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const port = Number(process.env.PORT ?? 3000);
const children = [];
let redisPort;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port: p } = server.address();
      server.close(() => resolve(p));
    });
  });
}

function run(name, args, env = {}) {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout.on('data', (d) => process.stdout.write(`[${name}] ${d}`));
  children.push(child);
  return child;
}

let redis = process.env.DASHBOARD_REDIS;
if (!redis) {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
  } catch {
    console.error(
      'redis-server is not installed (Debian: apt-get install redis-server); or set DASHBOARD_REDIS=redis://…',
    );
    process.exit(1);
  }
  redisPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'async-load-cluster-'));
  execFileSync('redis-server', [
    '--bind',
    '127.0.0.1',
    '--port',
    String(redisPort),
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'yes',
    '--pidfile',
    join(dir, 'redis.pid'),
    '--logfile',
    join(dir, 'redis.log'),
    '--dir',
    dir,
  ]);
  redis = `redis://127.0.0.1:${redisPort}`;
  console.log(`redis-server on ${redis} (persistence off)`);
}

const queue = ['--queue', 'dashboard'];
for (const n of [1, 2])
  run(`worker ${n}`, ['dist/bin/async-load.js', 'worker', '--redis', redis, ...queue, '--threads', '1']);
// One fault directory for both: it is one of the refresh's arguments, so it must be the same
// in both processes for them to share entries.
const faultDir = process.env.DEMO_FAULT_DIR || mkdtempSync(join(tmpdir(), 'async-load-dashboard-'));
for (const n of [0, 1])
  run(`dashboard ${n + 1}`, ['examples/dashboard/server.mjs'], {
    DASHBOARD_REDIS: redis,
    PORT: String(port + n),
    DEMO_FAULT_DIR: faultDir,
  });

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await Promise.all(
    children.map(
      (child) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', resolve);
          child.kill('SIGTERM');
        }),
    ),
  );
  if (redisPort) {
    try {
      execFileSync('redis-cli', ['-p', String(redisPort), 'shutdown', 'nosave'], { stdio: 'ignore' });
    } catch {
      // Already gone.
    }
  }
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
