/**
 * A run cleared before it starts never executes: neither one still in the loader's own queue
 * nor one already handed to the pool (stopped through its start slot). Real threads; runs
 * count themselves by appending to a file, and the blocking run waits for a file.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { CancelledError, createLoader } from '../src/index.js';
import { watchHostErrors } from './helpers.js';

const loader = createLoader({ threads: 1 });
afterAll(() => loader.close());
watchHostErrors();

describe('clear() before a run starts', () => {
  it('the run never executes, whether it waits in our queue or at the pool', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'async-load-cancel-'));
    const started = join(dir, 'started');
    const release = join(dir, 'release');
    const log = join(dir, 'log');
    writeFileSync(log, '');
    const block = loader.asyncLoad((startedAt: string, releaseAt: string) => {
      const fs = require('node:fs') as typeof import('node:fs');
      fs.writeFileSync(startedAt, '');
      const nap = new Int32Array(new SharedArrayBuffer(4));
      while (!fs.existsSync(releaseAt)) Atomics.wait(nap, 0, 0, 2);
      return 'released';
    });
    const record = loader.asyncLoad((path: string, name: string) => {
      (require('node:fs') as typeof import('node:fs')).appendFileSync(path, name);
      return name;
    });
    const blocked = block.wait(started, release);
    await vi.waitFor(() => expect(existsSync(started)).toBe(true), { timeout: 20_000, interval: 5 });
    // The only thread is busy: these queue up. Four are handed to the pool, the rest wait here.
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    const waits = names.map((name) => record.wait(log, name).catch((error: unknown) => error));
    record.clear(log, 'b'); // handed to the pool: stopped through its start slot
    record.clear(log, 'f'); // still in the loader's own queue
    writeFileSync(release, '');
    expect(await blocked).toBe('released');
    const outcomes = await Promise.all(waits);
    expect(outcomes[1]).toBeInstanceOf(CancelledError);
    expect(outcomes[5]).toBeInstanceOf(CancelledError);
    expect(outcomes.filter((o) => typeof o === 'string')).toEqual(['a', 'c', 'd', 'e']);
    expect([...readFileSync(log, 'utf8')].sort().join('')).toBe('acde');
  });
});
