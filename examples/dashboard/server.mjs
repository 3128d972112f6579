// The original async_load example as a live Node dashboard. A CPU-bound refreshData() runs on
// worker threads through async-load, refreshing every few seconds; the server pushes each
// settled run to the page over Server-Sent Events, and the page stays interactive throughout.
//
// node:http rather than a framework: the whole server is four routes and one event stream,
// and SSE is just a response left open; a framework would add a dependency and nothing else.
import { writeFileSync, mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createLoader, moduleTask } from 'async-load';

const PORT = Number(process.env.PORT ?? 3000);
const SLEEP_MS = Number(process.env.DEMO_SLEEP_MS ?? 2000);
const REFRESH_MS = Number(process.env.DEMO_REFRESH_MS ?? 4000);
// Where the page's "fail the next run" leaves its marker. Tests pass their own (DEMO_FAULT_DIR)
// to hold a run in flight with a `hold-<x>` file (see refresh-data.mjs).
const FAULT_DIR = process.env.DEMO_FAULT_DIR || mkdtempSync(join(tmpdir(), 'async-load-dashboard-'));

// With DASHBOARD_REDIS=redis://…, runs go to `async-load worker` processes through BullMQ, and
// every dashboard process on that Redis shows the same runs (npm run start:cluster). Imported
// only then: the local dashboard never loads bullmq.
const executor = process.env.DASHBOARD_REDIS
  ? (await import('async-load/bullmq')).bullmqExecutor({
      connection: process.env.DASHBOARD_REDIS,
      queue: process.env.DASHBOARD_QUEUE ?? 'dashboard',
      ttl: 30_000,
    })
  : undefined;

// Entries for slider values nobody is looking at any more are forgotten after 30 s, which
// also stops their refresh.
const loader = createLoader({ pollInterval: 0, ttl: 30_000, ...(executor && { executor }) });
const refreshData = loader.asyncLoad(
  moduleTask(new URL('./refresh-data.mjs', import.meta.url), 'refreshData'),
  {
    refreshEvery: REFRESH_MS,
  },
);

/** @param {number} x */
function snapshot(x) {
  const state = refreshData.state(x, SLEEP_MS, FAULT_DIR);
  return {
    x,
    status: state.status,
    table: state.value ?? null,
    error: state.status === 'error' ? String(state.error?.message ?? state.error) : null,
    startedAt: state.startedAt ?? null,
    finishedAt: state.finishedAt ?? null,
    runs: state.runs,
  };
}

/** Each open page: its response stream and the slider value it shows. */
const clients = new Set();

function send(client, type, data) {
  client.res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
}

// Push every settled run to the pages showing that value: the page re-renders from this.
loader.subscribe((events) => {
  for (const event of events) {
    const x = event.args[0];
    for (const client of clients) {
      if (client.x === x) send(client, 'run', { ...snapshot(x), duration: event.duration });
    }
  }
});

// Once a second, push the server's event-loop delay and the live status (a run that just
// started has no event yet). Reading the state also keeps the entry from expiring.
const delay = monitorEventLoopDelay({ resolution: 5 });
delay.enable();
setInterval(() => {
  const stats = { p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 };
  delay.reset();
  for (const client of clients) send(client, 'tick', { ...snapshot(client.x), loop: stats });
}, 1000).unref();

function parseX(url) {
  const x = Number(url.searchParams.get('x') ?? 50);
  return Number.isInteger(x) && x >= 0 && x <= 100 ? x : null;
}

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

const page = await readFile(new URL('./index.html', import.meta.url), 'utf8');

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method === 'GET' && url.pathname === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page);
    return;
  }
  if (req.method === 'GET' && url.pathname === '/events') {
    const x = parseX(url);
    if (x === null) return json(res, 400, { error: 'x must be an integer from 0 to 100' });
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    const client = { res, x };
    clients.add(client);
    req.on('close', () => clients.delete(client));
    // The call itself starts the first run for this value (or returns the cached table). It
    // throws when the latest run failed; the snapshot below carries that error to the page.
    try {
      refreshData(x, SLEEP_MS, FAULT_DIR);
    } catch {
      // Shown through the snapshot.
    }
    send(client, 'run', snapshot(x));
    return;
  }
  if (req.method === 'POST' && url.pathname === '/api/ping') {
    return json(res, 200, { serverTime: Date.now() });
  }
  if (req.method === 'POST' && url.pathname === '/api/fail') {
    const x = parseX(url);
    if (x === null) return json(res, 400, { error: 'x must be an integer from 0 to 100' });
    writeFileSync(join(FAULT_DIR, `fail-${x}`), '1');
    return json(res, 200, { armed: true });
  }
  json(res, 404, { error: 'not found' });
});

server.listen(PORT, '127.0.0.1', () => {
  const address = server.address();
  console.log(`async-load dashboard: http://127.0.0.1:${address.port}/`);
});

async function shutdown() {
  server.close();
  for (const client of clients) client.res.end();
  await loader.close();
  process.exit(0);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
