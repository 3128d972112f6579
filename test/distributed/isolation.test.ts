// Local users of `async-load` must not load bullmq or ioredis: the main entry point
// is imported in a child process whose resolve hook fails any import of them.

import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT } from './cluster.js';

const HOOK = `export async function resolve(specifier, context, next) {
  if (/^(bullmq|ioredis)(\\/|$)/.test(specifier)) throw new Error('loaded ' + specifier);
  return next(specifier, context);
}`;

function importWithHook(entry: string): string {
  const script = `
    import { register } from 'node:module';
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOK)}));
    try {
      const m = await import(${JSON.stringify(entry)});
      console.log('ok ' + Object.keys(m).length);
    } catch (error) {
      console.log('refused: ' + error.message);
    }`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
  }).trim();
}

describe('package entry points', () => {
  it('async-load does not load bullmq or ioredis; async-load/bullmq does', () => {
    ensureBuilt();
    expect(importWithHook('async-load')).toMatch(/^ok \d+$/);
    expect(importWithHook('async-load/bullmq')).toMatch(/^refused: loaded (bullmq|ioredis)/);
  });
});
