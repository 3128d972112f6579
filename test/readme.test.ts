/** The README's example runs as written, against the built package (npm test builds first). */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const repo = fileURLToPath(new URL('..', import.meta.url));

it('the README example prints the report and the landing, then exits', async () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const example = /## Example\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(example).toBeDefined();
  const file = fileURLToPath(new URL('../examples/.readme-example.ts', import.meta.url));
  writeFileSync(file, `${example}\nconsole.log('report', JSON.stringify(report));\n`);
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', file], {
      cwd: repo,
      timeout: 60_000,
    });
    const report = /report (\{.*\})/.exec(stdout)?.[1];
    expect(JSON.parse(report!)).toMatchObject({ month: '2026-11', total: expect.any(Number) });
    expect(stdout).toContain('landed');
  } finally {
    rmSync(file, { force: true });
  }
}, 90_000);
