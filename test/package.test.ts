/**
 * The published tarball, installed into fresh projects: imported from an ES module, required
 * from CommonJS, run from TypeScript through tsx with an inline arrow function, and type-checked
 * under `tsc --strict`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('..', import.meta.url));
const bin = (name: string): string => join(repo, 'node_modules', '.bin', name);
let project = '';

function sh(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 180_000,
  });
}

beforeAll(() => {
  const work = mkdtempSync(join(tmpdir(), 'async-load-pack-'));
  sh('npm', ['pack', '--pack-destination', work, '--silent'], repo);
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'))!;
  project = join(work, 'app');
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'app', version: '1.0.0', private: true }),
  );
  sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(work, tarball)], project);
}, 240_000);

afterAll(() => {
  if (project) rmSync(join(project, '..'), { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('ships the compiled library and worker', () => {
    const files = readdirSync(join(project, 'node_modules', 'async-load', 'dist'));
    expect(files.sort()).toEqual(['bin', 'src', 'workers']);
  });

  it('ships async-load/bullmq and the worker command', () => {
    writeFileSync(
      join(project, 'dist.mjs'),
      `const m = await import('async-load/bullmq');
console.log(typeof m.bullmqExecutor, typeof m.startWorker, new m.RunLostError('x').code);`,
    );
    expect(sh(process.execPath, ['dist.mjs'], project).trim()).toBe(
      'function function ERR_ASYNC_LOAD_RUN_LOST',
    );
    // Without --redis the command explains its usage and exits 2 (no Redis needed to check it runs).
    let usage = '';
    try {
      sh(join(project, 'node_modules', '.bin', 'async-load'), ['worker'], project);
    } catch (error) {
      usage = String((error as { stderr?: string }).stderr);
      expect((error as { status?: number }).status).toBe(2);
    }
    expect(usage).toContain('Usage: async-load worker --redis URL');
  });

  it('works from an ES module', () => {
    writeFileSync(
      join(project, 'esm.mjs'),
      `import { asyncLoad, defaultLoader } from 'async-load';
const square = asyncLoad((n) => n * n);
console.log(square(4), await square.wait(4), square(4));
await defaultLoader.close();`,
    );
    expect(sh(process.execPath, ['esm.mjs'], project).trim()).toBe('undefined 16 16');
  });

  it('loads the worker in each thread through import(), never require() of an ES module', () => {
    // On Node 22 a thread terminated while `require()` instantiated the worker's ES modules
    // aborted the whole process (a V8 fatal error; seen once in a CI run, under load, at close()).
    // A module loaded by require() is in require.cache; one loaded by import() is not.
    writeFileSync(
      join(project, 'loaded.mjs'),
      `import { createLoader } from 'async-load';
const loader = createLoader({ threads: 1 });
const loaded = loader.asyncLoad(() =>
  Object.keys(require.cache).filter((k) => k.includes('/async-load/dist/')).map((k) => k.split('/dist/')[1]),
);
console.log(JSON.stringify(await loaded.wait()));
await loader.close();`,
    );
    expect(JSON.parse(sh(process.execPath, ['loaded.mjs'], project))).toEqual(['workers/entry.cjs']);
  });

  it('survives loaders closed while their threads are still starting', () => {
    // The symptom itself: rare (a few in a thousand closes, more under load), so a probe, not proof.
    writeFileSync(
      join(project, 'starting.mjs'),
      `import { createLoader } from 'async-load';
for (let i = 0; i < 60; i++) {
  const loader = createLoader({ threads: 2, minThreads: 2 });
  loader.asyncLoad((n) => n + 1)(i);
  await new Promise((resolve) => setTimeout(resolve, i % 12));
  await loader.close();
}
console.log('closed 60');`,
    );
    expect(sh(process.execPath, ['starting.mjs'], project).trim()).toBe('closed 60');
  }, 60_000);

  it('works from CommonJS', () => {
    writeFileSync(
      join(project, 'cjs.cjs'),
      `const { createLoader, TimeoutError } = require('async-load');
const loader = createLoader({ threads: 1 });
const up = loader.asyncLoad((s) => s.toUpperCase());
up.wait('ok').then(async (v) => { console.log(v, typeof TimeoutError); await loader.close(); });`,
    );
    expect(sh(process.execPath, ['cjs.cjs'], project).trim()).toBe('OK function');
  });

  it('runs an inline arrow function from a .ts file under tsx, and type-checks under tsc --strict', () => {
    writeFileSync(
      join(project, 'main.ts'),
      `import { createLoader, type AsyncLoaded, type LoadState } from 'async-load';
const loader = createLoader({ threads: 1, maxEntries: 100 });
const total: AsyncLoaded<[number[]], number> = loader.asyncLoad((xs: number[]) => xs.reduce((a, b) => a + b, 0), { refreshEvery: 60_000 });
const first: number | undefined = total([1, 2, 3]);
const value: number = await total.wait([1, 2, 3]);
const state: LoadState<number> = total.state([1, 2, 3]);
console.log(first, value, state.status);
await loader.close();
`,
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          skipLibCheck: false,
          types: ['node'],
          typeRoots: [join(repo, 'node_modules', '@types')],
        },
        files: ['main.ts'],
      }),
    );
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }),
    );
    expect(sh(bin('tsx'), ['main.ts'], project).trim()).toBe('undefined 6 complete');
    expect(() => sh(bin('tsc'), ['-p', 'tsconfig.json'], project)).not.toThrow();
  });
});
