// The CPU-bound work of the original example, as a module of its own so that it can be run on
// worker threads with moduleTask(): about `sleepMs` of busy loop (the original slept, which
// would not show anything about threads), then a 5x5 table of random normal numbers times x.
import { existsSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function randomNormal() {
  // Box-Muller: two uniform numbers in (0, 1] give one standard normal number.
  const u = 1 - Math.random();
  const v = Math.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * @param {number} x multiplier, 0-100 (the slider)
 * @param {number} sleepMs how long to keep the thread busy
 * @param {string} faultDir where the page's "fail the next run" leaves a file `fail-<x>`; a run that finds it deletes it and fails.
 *   Tests leave a file `hold-<x>` there to keep runs in flight until they remove it: such a run
 *   writes `held-<x>` once it is waiting, so a test knows a run is in flight however slow the machine.
 */
export function refreshData(x, sleepMs, faultDir) {
  const end = Date.now() + sleepMs;
  let spins = 0;
  while (Date.now() < end) spins++;
  const hold = join(faultDir, `hold-${x}`);
  if (existsSync(hold)) {
    writeFileSync(join(faultDir, `held-${x}`), '');
    const nap = new Int32Array(new SharedArrayBuffer(4));
    while (existsSync(hold)) Atomics.wait(nap, 0, 0, 5);
  }
  try {
    // unlink is atomic: exactly one run consumes the injected failure.
    unlinkSync(join(faultDir, `fail-${x}`));
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
    const columns = ['a', 'b', 'c', 'd', 'e'];
    const rows = Array.from({ length: 5 }, () => columns.map(() => randomNormal() * x));
    return { columns, rows, spins };
  }
  throw Object.assign(new Error('Injected failure: the page asked this run to fail'), { code: 'E_INJECTED' });
}
