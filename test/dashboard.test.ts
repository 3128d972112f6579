/// <reference lib="dom" />
/**
 * The example dashboard end to end, in Debian's Chromium driven by playwright-core. Without
 * Chromium these tests skip locally (with how to install it) and fail under CI.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser) {
  if (process.env.CI)
    throw new Error(`Chromium is missing at ${CHROMIUM}: CI must install it (apt-get install chromium).`);
  console.warn(
    `Skipping dashboard browser tests: ${CHROMIUM} not found. Install it with: sudo apt-get install chromium`,
  );
}

const repo = fileURLToPath(new URL('..', import.meta.url));
const artifacts = join(repo, 'test', 'artifacts');
let server: ChildProcess;
let context: BrowserContext;
let page: Page;
let profile: string;
let url: string;
/** The dashboard's fault directory: a `hold-<x>` file here holds runs of x in flight. */
const faultDir = mkdtempSync(join(tmpdir(), 'async-load-dashboard-test-'));

/**
 * Holds the next run of `x` in flight, whatever the machine's speed: that run waits while
 * `hold-<x>` exists and says so with `held-<x>`. `start` (if any) makes the run begin; `body`
 * runs once it is held; the hold is released after, whatever `body` did.
 */
async function holding(x: number, start: (() => Promise<unknown>) | undefined, body: () => Promise<void>) {
  const hold = join(faultDir, `hold-${x}`);
  const held = join(faultDir, `held-${x}`);
  writeFileSync(hold, '');
  try {
    await start?.();
    await expect.poll(() => existsSync(held), { timeout: 10_000, interval: 20 }).toBe(true);
    await body();
  } finally {
    rmSync(hold, { force: true });
    rmSync(held, { force: true });
  }
}

function startServer(): Promise<string> {
  server = spawn(process.execPath, ['examples/dashboard/server.mjs'], {
    cwd: repo,
    env: {
      ...process.env,
      PORT: '0',
      DEMO_SLEEP_MS: '700',
      DEMO_REFRESH_MS: '1500',
      DEMO_FAULT_DIR: faultDir,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    server.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const found = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
      if (found) resolve(found[0]);
    });
    server.on('exit', (code) => reject(new Error(`dashboard server exited with code ${code}: ${out}`)));
  });
}

describe.skipIf(!haveBrowser)('dashboard in Chromium', () => {
  beforeAll(async () => {
    url = await startServer();
    profile = mkdtempSync(join(tmpdir(), 'async-load-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    page = context.pages()[0] ?? (await context.newPage());
    // Record every timer the page sets: it must re-render from pushes, not from polling.
    await page.addInitScript(() => {
      const w = window as unknown as { timerCalls: number; loadedAt: number };
      w.timerCalls = 0;
      w.loadedAt = Date.now();
      const count =
        <T extends (...a: never[]) => unknown>(original: T) =>
        (...args: Parameters<T>) => {
          w.timerCalls++;
          return original(...args);
        };
      window.setInterval = count(window.setInterval.bind(window)) as typeof window.setInterval;
      window.setTimeout = count(window.setTimeout.bind(window)) as typeof window.setTimeout;
    });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    server?.kill('SIGTERM');
    if (profile) rmSync(profile, { recursive: true, force: true });
    rmSync(faultDir, { recursive: true, force: true });
  });

  it('shows the skeleton first, then the table within 5 s', async () => {
    // The first run of x=50 is held in flight until the skeleton has been seen: on a loaded
    // machine its 700 ms could end before the page was read, and the table would already show.
    await holding(
      50,
      () => page.goto(url),
      async () => {
        await expect
          .poll(() => page.locator('[data-testid=skeleton]').isVisible(), { timeout: 2000 })
          .toBe(true);
        expect(await page.locator('[data-testid=table]').isVisible()).toBe(false);
      },
    );
    await page.locator('[data-testid=table]').waitFor({ state: 'visible', timeout: 5000 });
    expect(await page.locator('[data-testid=skeleton]').isVisible()).toBe(false);
    expect(await page.locator('#table tbody tr').count()).toBe(5);
  });

  it('updates the table after a refresh, without a reload and without a polling timer', async () => {
    const loadedAt = await page.evaluate(() => (window as unknown as { loadedAt: number }).loadedAt);
    const before = await page.locator('#table tbody').innerText();
    await page.waitForFunction(
      (old) => document.querySelector('#table tbody')!.textContent !== old,
      await page.locator('#table tbody').textContent(),
      {
        timeout: 8000,
      },
    );
    expect(await page.locator('#table tbody').innerText()).not.toBe(before);
    const after = await page.evaluate(() => {
      const w = window as unknown as { loadedAt: number; timerCalls: number };
      return { loadedAt: w.loadedAt, timerCalls: w.timerCalls };
    });
    expect(after.loadedAt).toBe(loadedAt);
    expect(after.timerCalls).toBe(0);
  });

  it('answers a click in under 100 ms while a run is in flight', async () => {
    await holding(50, undefined, async () => {
      await page.locator('#status', { hasText: 'running' }).waitFor({ timeout: 8000 });
      await page.locator('#ping').click();
      await page.locator('#rtt[data-ms]').waitFor();
      const rtt = Number(await page.locator('#rtt').getAttribute('data-ms'));
      // Still in flight: the run cannot finish before the hold file is removed.
      expect(await page.locator('#status').innerText()).toBe('running');
      expect(rtt).toBeLessThan(100);
    });
  });

  it('loads a new table when the slider moves to a new value', async () => {
    await page.locator('#slider').fill('80');
    await page.locator('#table[data-x="80"]').waitFor({ state: 'visible', timeout: 8000 });
    const numbers = (await page.locator('#table tbody td').allInnerTexts()).map(Number);
    expect(numbers).toHaveLength(25);
    expect(numbers.every((n) => Number.isFinite(n))).toBe(true);
  });

  it('shows a failed run next to the last good table, and the next refresh recovers', async () => {
    await page.locator('#fail').click();
    await page.locator('#error').waitFor({ state: 'visible', timeout: 8000 });
    expect(await page.locator('#error').innerText()).toContain('Injected failure');
    expect(await page.locator('[data-testid=table]').isVisible()).toBe(true);
    await page.locator('#error').waitFor({ state: 'hidden', timeout: 8000 });
    expect(await page.locator('#status').innerText()).not.toBe('error');
  });

  it('saves a screenshot of the page with the table', async () => {
    mkdirSync(artifacts, { recursive: true });
    const file = join(artifacts, 'dashboard.png');
    await page.screenshot({ path: file, fullPage: true });
    expect(existsSync(file)).toBe(true);
  });
});
