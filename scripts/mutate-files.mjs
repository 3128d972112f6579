import { readFileSync } from 'node:fs';

/**
 * The file groups `npm run mutate` tests, one Stryker run each (stryker.config.mjs reads the group
 * from `ASYNC_LOAD_MUTATE_GROUP`), each with its own incremental file in reports/incremental/
 * (committed: a clean clone re-tests only the mutants whose code or covering tests changed since).
 *
 * - `key`, `pure`: pure functions of values, each with unit and property tests of their own, tested
 *   against the thread-free tests only (vitest.mutate-unit.config.ts). Every other test also
 *   reaches them (each call derives a key and carries its arguments), so a survivor would
 *   otherwise run the whole suite only to survive again. Two processes at once: no threads.
 * - `coordinator`: the loader, store, entries, options, notifier and timers, against the
 *   thread-free tests (which drive the coordinator with a fake executor and fake time) and the
 *   files in its `threadTests` (its API with real threads, and thread-free files whose text
 *   names `createLoader()`, which the selection by text skips). Every test with threads
 *   reaches the loader, so against the whole suite each survivor would cost about a minute.
 * - `workers`: the code each thread runs, against the thread-free tests (which never reach it)
 *   and the files in its `threadTests`: those that drive runs through the worker's paths
 *   (faults, attribution, tampering, batches, values, functions, start times). A thread reports
 *   the mutants it reaches per test file, not per test (test/stryker/), so a survivor runs every
 *   listed file: against the whole suite that is two minutes a survivor.
 * - `slots` (the start slots, the stray-report channel, the start watch and the executor's types) and `pool-1` to
 *   `pool-7` (the pool executor, by line range): against the thread-free tests and the files in
 *   `POOL_TESTS`, one process at a time. Apart because the pool executor's 750 mutants take hours
 *   on a first run (every test with threads reaches it), and a run's results are kept only once
 *   it ends.
 * - `distributed-1`, `distributed-2`: the BullMQ executor's modules, against the thread-free tests and the files of
 *   test/distributed/ that test src/ in process (they start a redis-server; the others run the
 *   build). Nothing else reaches these modules, so the whole suite would only add cost.
 */

/**
 * The tests with threads that the pool groups (`slots`, `pool-1` to `pool-7`) run besides the
 * thread-free ones (which hold the pool executor's own edge tests and the start-slot tests): every
 * file one of whose tests killed a mutant of these groups when they ran against the whole mutation
 * suite (26 and 27 Nov 2026), and the start-failure files added since. Every test with threads
 * reaches the pool executor, so against the whole suite each survivor ran about 830 tests (two
 * to three minutes instrumented), each group's initial run took five, and any new test file anywhere
 * made every survivor it reached stale; these files take about a third of that.
 */
const POOL_TESTS = [
  'test/batch.test.ts',
  'test/batch-runs.test.ts',
  'test/pool-faults.test.ts',
  'test/attribution.test.ts',
  'test/refresh-busy.test.ts',
  'test/start-exit.test.ts',
  'test/start-exit-shared.test.ts',
  'test/start-exit-report.test.ts',
  'test/idle-exit.test.ts',
  'test/tampering-more.test.ts',
  'test/listeners.test.ts',
  'test/faults.test.ts',
  'test/cancel.test.ts',
  'test/identity.test.ts',
  'test/lifecycle.test.ts',
  'test/calls.test.ts',
  'test/module-task.test.ts',
  'test/durations.test.ts',
  'test/thrown-unreadable.test.ts',
  'test/distributed/worker-jobs.test.ts',
];

/**
 * The pool executor in seven parts by line range, each starting at a method's doc comment (a
 * part holds only the mutants wholly inside its lines, so no method may straddle two parts):
 * about an hour each on a first run, so each can finish in one sitting. Found by method name,
 * so edits to the file move the ranges with it.
 */
function poolParts() {
  const file = 'src/pool-executor.ts';
  const lines = readFileSync(new URL(`../${file}`, import.meta.url), 'utf8').split('\n');
  const starts = [1];
  for (const method of [
    '#stopThread(',
    '#onReply(',
    '#handOff(',
    '#stealRound(',
    '#learnDuration(',
    'async close(',
  ]) {
    let at = lines.findIndex((line) => line.startsWith(`  ${method}`));
    if (at < 0) throw new Error(`${file}: no method ${method} to split the pool group at`);
    while (lines[at - 1].trim().startsWith('*') || lines[at - 1].trim().startsWith('/**')) at--;
    starts.push(at + 1);
  }
  starts.push(lines.length + 1);
  return Object.fromEntries(
    starts
      .slice(0, -1)
      .map((start, i) => [
        `pool-${i + 1}`,
        { files: [`${file}:${start}-${starts[i + 1] - 1}`], threadTests: POOL_TESTS },
      ]),
  );
}

export const GROUPS = {
  key: {
    files: ['src/key.ts'],
    // Its end-to-end run of a huge sparse argument starts one thread: two processes still fit.
    threadTests: ['test/key-sparse.test.ts'],
    concurrency: 2,
  },
  pure: {
    files: [
      'src/kinds.ts',
      'src/codec.ts',
      'src/key-memo.ts',
      'src/hash.ts',
      'src/rebuild-args.ts',
      'src/task-function.ts',
      'src/errors.ts',
      'src/thread-answers.ts',
    ],
    // The module specifiers moduleTask() accepts, and thrown values the codec cannot read: each
    // file starts a few threads, so two processes still fit.
    threadTests: ['test/module-task-specifiers.test.ts', 'test/thrown-unreadable.test.ts'],
    concurrency: 2,
  },
  coordinator: {
    files: [
      'src/loader.ts',
      'src/store.ts',
      'src/entry.ts',
      'src/entry-identity.ts',
      'src/options.ts',
      'src/notifier.ts',
      'src/timers.ts',
      'src/clock.ts',
      'src/registration.ts',
      'src/async-load.ts',
      'src/create-loader.ts',
      'src/default-loader.ts',
    ],
    threadTests: [
      'test/options.test.ts',
      'test/calls.test.ts',
      'test/listeners.test.ts',
      'test/lifecycle.test.ts',
      'test/errors.test.ts',
      'test/wrapper-forms.test.ts',
      'test/durations.test.ts',
      'test/wrapper-fake.test.ts',
      'test/listener-events.test.ts',
      // Runs that found no thread able to start: run again on the next call, no refresh before.
      'test/start-exit.test.ts',
      // Thread-free, but named: its messages mention createLoader(), which the selection skips.
      'test/options-messages.test.ts',
    ],
  },
  workers: {
    files: ['workers/**/*.ts'],
    threadTests: [
      'test/attribution.test.ts',
      'test/faults.test.ts',
      'test/tampering.test.ts',
      'test/tampering-more.test.ts',
      'test/tampering-batch.test.ts',
      'test/worker-functions.test.ts',
      'test/worker-messages.test.ts',
      'test/worker-refresh.test.ts',
      'test/values.test.ts',
      'test/depth.test.ts',
      'test/shared-args.test.ts',
      'test/module-task.test.ts',
      'test/cancel.test.ts',
      'test/batch.test.ts',
      'test/guarded-builtins.test.ts',
      'test/stray-culprit.test.ts',
      'test/batch-runs.test.ts',
      'test/worker-start-time.test.ts',
      'test/codec-builtins.test.ts',
      // Not thrown-unreadable.test.ts: with the worker instrumented, its thrower's run takes
      // longer than a batch's budget (5 ms, workers/worker.ts), so the runs behind it go back
      // and run one by one, and its check that they ran in the batch fails the initial run.
    ],
  },
  slots: {
    files: [
      'src/start-slots.ts',
      'src/stray-reports.ts',
      'src/start-watch.ts',
      'src/protocol.ts',
      'src/executor.ts',
    ],
    threadTests: POOL_TESTS,
  },
  ...poolParts(),
  // Two parts, each short enough to finish in one sitting (1,490 mutants in all; a run keeps its
  // results only if it ends): the executor (the app's side), then the rest.
  ...Object.fromEntries(
    [
      // The executor's own, in process: two apps on one Redis (the lease's follower path), Redis
      // stopped under a run, jobs the worker refuses.
      [
        'distributed-1',
        ['src/distributed/bullmq-executor.ts'],
        [
          'test/distributed/executor-apps.test.ts',
          'test/distributed/executor-redis-down.test.ts',
          'test/distributed/executor-refused.test.ts',
          'test/distributed/follower-race.test.ts',
        ],
      ],
      ['distributed-2', ['src/distributed/**/*.ts', '!src/distributed/bullmq-executor.ts'], []],
    ].map(([name, files, own]) => [
      name,
      {
        files,
        // Two test processes: these tests start no threads and mostly wait on their redis-server.
        concurrency: 2,
        // Only these reach src/distributed/ (no file in test/ imports it); the other files in
        // test/distributed/ run the build and are left out of every mutation run.
        threadTests: [
          'test/distributed/units.test.ts',
          'test/distributed/wire.test.ts',
          'test/distributed/lease.test.ts',
          'test/distributed/acl.test.ts',
          'test/distributed/settle-order.test.ts',
          'test/distributed/revive.test.ts',
          'test/distributed/worker-jobs.test.ts',
          'test/distributed/executor-options.test.ts',
          'test/distributed/results.test.ts',
          'test/distributed/executor-runs.test.ts',
          ...own,
        ],
      },
    ]),
  ),
};
