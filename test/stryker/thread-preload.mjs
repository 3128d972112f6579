// Loaded with `--import` into each of the pool's worker threads, only during a Stryker dry run
// (test/stryker/thread-mutants.ts adds it to the threads' execArgv). Instrumented code counts the
// mutants it reaches in `globalThis.__stryker__.mutantCoverage.static`; on a thread nobody reads
// that object, so this writes each mutant id the first time the thread reaches it to a file that
// the test process reads after each test file.
import { appendFileSync } from 'node:fs';

const file = process.env.ASYNC_LOAD_STRYKER_COVERAGE_FILE;
if (file) {
  const seen = new Set();
  const reached = new Proxy(
    {},
    {
      set(target, id, count) {
        target[id] = count;
        if (!seen.has(id)) {
          seen.add(id);
          appendFileSync(file, `${String(id)}\n`);
        }
        return true;
      },
    },
  );
  const ns = (globalThis.__stryker__ ??= {});
  ns.mutantCoverage = { static: reached, perTest: {} };
}
