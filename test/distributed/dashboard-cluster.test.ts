/// <reference lib="dom" />
// The dashboard on the distributed executor (item 11 of issue 11): two dashboard processes and
// two workers on one Redis, opened in two Chromium pages. Both show the same table (the same
// run's start time), refreshed once per interval, not once per process.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, redisInstalled, RedisServer, ROOT, until, WorkerProcess } from './cluster.js';

const CHROMIUM = '/usr/bin/chromium';
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser && process.env.CI)
  throw new Error(`Chromium is missing at ${CHROMIUM}: CI must install it.`);
const installed = redisInstalled();
const REFRESH_MS = 2_000;

function dashboard(redis: RedisServer, faultDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['examples/dashboard/server.mjs'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      DASHBOARD_REDIS: redis.url,
      DEMO_SLEEP_MS: '300',
      DEMO_REFRESH_MS: String(REFRESH_MS),
      DEMO_FAULT_DIR: faultDir,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const found = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
      if (found) resolve({ child, url: found[0] });
    });
    child.on('exit', (code) => reject(new Error(`dashboard exited with code ${code}: ${out}`)));
  });
}

describe.skipIf(!haveBrowser || !installed)('two dashboards on one Redis', { timeout: 120_000 }, () => {
  let redis: RedisServer;
  const workers: WorkerProcess[] = [];
  const servers: ChildProcess[] = [];
  let context: BrowserContext;
  let profile: string;
  const faultDir = mkdtempSync(join(tmpdir(), 'async-load-dashboards-'));
  const pages: Page[] = [];

  beforeAll(async () => {
    ensureBuilt();
    redis = await RedisServer.start();
    workers.push(
      ...(await Promise.all([
        WorkerProcess.start(redis, ['--queue', 'dashboard']),
        WorkerProcess.start(redis, ['--queue', 'dashboard']),
      ])),
    );
    const started = await Promise.all([dashboard(redis, faultDir), dashboard(redis, faultDir)]);
    servers.push(...started.map((s) => s.child));
    profile = mkdtempSync(join(tmpdir(), 'async-load-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
    for (const { url } of started) {
      const page = await context.newPage();
      await page.goto(url);
      pages.push(page);
    }
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    for (const s of servers) s.kill('SIGTERM');
    await Promise.all([
      ...servers.map((s) => new Promise((r) => (s.exitCode !== null ? r(null) : s.once('exit', r)))),
      ...workers.map((w) => w.stop()),
    ]);
    await redis?.stopAndClean();
    if (profile) rmSync(profile, { recursive: true, force: true });
    rmSync(faultDir, { recursive: true, force: true });
  }, 60_000);

  it('both show the same runs, one per interval', async () => {
    const startedAt = (page: Page): Promise<number> =>
      page
        .locator('#started')
        .getAttribute('data-ms')
        .then((ms) => Number(ms || NaN));
    const seen: Set<number>[] = [new Set(), new Set()];
    const tables = new Map<number, string>();
    await until(
      async () => {
        for (const [i, page] of pages.entries()) {
          const at = await startedAt(page);
          if (Number.isNaN(at)) continue;
          seen[i]!.add(at);
          const table = await page.locator('#table tbody').innerText();
          // The same run shows the same table in both processes.
          if (table && !tables.has(at)) tables.set(at, table);
          else if (table && (await startedAt(page)) === at) expect(table).toBe(tables.get(at));
        }
        return seen[0]!.size >= 4 && seen[1]!.size >= 4;
      },
      'four runs on both pages',
      60_000,
    );
    // Runs seen on one page are the runs seen on the other (each page may have joined one late
    // or not yet seen the latest).
    const common = [...seen[0]!].filter((at) => seen[1]!.has(at));
    expect(common.length).toBeGreaterThanOrEqual(3);
    // One run per interval: consecutive starts about REFRESH_MS apart, never two in one interval.
    const all = [...new Set([...seen[0]!, ...seen[1]!])].sort((a, b) => a - b);
    const gaps = all.slice(1).map((at, i) => at - all[i]!);
    for (const gap of gaps) expect(gap).toBeGreaterThan(REFRESH_MS * 0.75);
  });
});
