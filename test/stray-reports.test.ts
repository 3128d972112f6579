/**
 * The stray-error channel's host end (src/stray-reports.ts) without threads: a report is
 * posted on the channel by name, as a thread does, and must reach this loader's onError (and
 * no other loader's) as a WorkerCrashedError saying what failed and whose run left it.
 */
import { BroadcastChannel } from 'node:worker_threads';
import { afterEach, expect, it } from 'vitest';
import { encodeThrown } from '../src/codec.js';
import { WorkerCrashedError } from '../src/index.js';
import type { StrayReport } from '../src/protocol.js';
import { StrayReports } from '../src/stray-reports.js';

const open: { close: () => void }[] = [];
afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

function reports(): { reports: StrayReports; errors: Error[]; next: () => Promise<Error> } {
  const errors: Error[] = [];
  const waiting: ((e: Error) => void)[] = [];
  const r = new StrayReports((e) => {
    errors.push(e);
    waiting.shift()?.(e);
  });
  open.push(r);
  return { reports: r, errors, next: () => new Promise((resolve) => waiting.push(resolve)) };
}

/** Posts as a thread does: a channel of its own, opened by name. */
function post(name: string, report: StrayReport): void {
  const channel = new BroadcastChannel(name);
  channel.postMessage(report);
  channel.close();
}

/** Resolves once a message posted now on `name` has been delivered to another listener. */
function delivered(name: string): Promise<void> {
  const listener = new BroadcastChannel(name);
  open.push(listener);
  return new Promise((resolve) => {
    listener.onmessage = () => resolve();
  });
}

it('each loader has a channel of its own: a report reaches only the loader it was posted to', async () => {
  const a = reports();
  const b = reports();
  expect(a.reports.name).not.toBe(b.reports.name);
  expect(a.reports.name).toMatch(/^async-load:strays:[0-9a-f-]{36}$/);
  const got = a.next();
  const seenByB = delivered(b.reports.name);
  post(a.reports.name, { culprit: 'report("2026-11")', error: new TypeError('late') });
  post(b.reports.name, { culprit: undefined, error: 'marker' });
  await got;
  await seenByB;
  await new Promise((resolve) => setImmediate(resolve));
  expect(a.errors).toHaveLength(1);
  expect(b.errors.map((e) => e.message)).toEqual([expect.stringContaining('marker')]);
});

it("names the run that left the error behind, the error's class and message, and what to do", async () => {
  const { reports: r, next } = reports();
  const got = next();
  const cause = new RangeError('out of range');
  post(r.name, { culprit: 'report("2026-11")', error: cause });
  const error = await got;
  expect(error).toBeInstanceOf(WorkerCrashedError);
  expect(error.message).toBe(
    'A run of report("2026-11") left an error behind after it had settled: RangeError: out of range. ' +
      'No call failed for it and the thread kept running; await or catch everything the function starts before it returns.',
  );
  expect(error.cause).toBeInstanceOf(RangeError);
  expect((error.cause as Error).message).toBe('out of range');
});

it('an error no run could be traced to says so; a thrown non-Error is shown as text', async () => {
  const { reports: r, next } = reports();
  const got = next();
  post(r.name, { culprit: undefined, error: 42 });
  const error = await got;
  expect(error.message).toBe(
    'Code on a worker thread that no run could be traced to failed: 42. ' +
      'No call failed for it and the thread kept running; await or catch everything the function starts before it returns.',
  );
  expect(error.cause).toBe(42);
});

it('an encoded error (one structured clone cannot carry whole) is decoded, with its class', async () => {
  const { reports: r, next } = reports();
  const got = next();
  class ReportError extends Error {
    override name = 'ReportError';
    code = 'E_REPORT';
  }
  // As the thread sends it (workers/attribution.ts): the carried value, flagged when encoded.
  const carried = encodeThrown(new ReportError('bad month'));
  expect(carried.encoded).toBe(true);
  post(r.name, { culprit: 'f()', error: carried.value, encoded: true });
  const error = await got;
  expect(error.message).toContain(': ReportError: bad month. ');
  expect((error.cause as { code?: string }).code).toBe('E_REPORT');
});

it('no report is delivered after close(), not even one posted just before it', async () => {
  for (let i = 0; i < 50; i++) {
    const { reports: r, errors } = reports();
    const seen = delivered(r.name);
    post(r.name, { culprit: undefined, error: 'after close' });
    r.close();
    // Another listener of the name got it: it was on its way to this one too.
    await seen;
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors).toEqual([]);
  }
});

it('a report not flagged as encoded is delivered as it came, even if it looks like an encoded value', async () => {
  const { reports: r, next } = reports();
  const got = next();
  // The codec's tag for a URL: only a report flagged `encoded` is decoded.
  const lookalike = { '\u0000asyncLoad': 'url', href: 'https://example.com/' };
  post(r.name, { culprit: undefined, error: lookalike });
  const error = await got;
  expect(error.cause).toEqual(lookalike);
  expect(error.cause).not.toBeInstanceOf(URL);
});
