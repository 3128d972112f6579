/**
 * Option validation on its own, without a loader: every refusal is an OptionError whose message
 * names the option (with its path), says what was expected, with the limit and why it exists,
 * and quotes what was received with its type; the defaults a loader gets when an option is left
 * out. The README promises these messages; the thread tests of options.test.ts check that a
 * loader uses them.
 */
import { availableParallelism } from 'node:os';
import { describe, expect, it, vi } from 'vitest';
import { OptionError } from '../src/errors.js';
import {
  checkKey,
  checkListener,
  DEFAULT_MAX_ENTRIES,
  DEFAULT_POLL_INTERVAL,
  MAX_THREADS,
  resolveLoaderOptions,
  validateLoadOptions,
} from '../src/options.js';
import type { Executor } from '../src/executor.js';

function refusal(run: () => unknown): OptionError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(OptionError);
    expect((error as OptionError).code).toBe('ERR_ASYNC_LOAD_INVALID_OPTION');
    return error as OptionError;
  }
  throw new Error('accepted');
}

/** One test per case: `validate(input)` refuses it, naming `option`, with exactly `message`. */
function refusesEach(cases: [unknown, string, string][], validate: (input: unknown) => unknown): void {
  it.each(cases)('%o is refused as %s', (input, option, message) => {
    const error = refusal(() => validate(input));
    expect(error.option).toBe(option);
    expect(error.message).toBe(message);
  });
}

const THREADS_WHY = `an integer >= 1 and <= ${MAX_THREADS} (about 9 MiB of memory per thread, all started at once)`;
const ADDRESS_SPACE = 'reserved as address space when a thread starts';

describe('asyncLoad() options', () => {
  const cases: [unknown, string, string][] = [
    ['x', 'options', 'Expected asyncLoad() `options` to be an object, got `"x"` (string).'],
    [null, 'options', 'Expected asyncLoad() `options` to be an object, got `null` (null).'],
    [[1], 'options', 'Expected asyncLoad() `options` to be an object, got `1` (object).'],
    [
      { colour: 1 },
      'colour',
      'Unknown asyncLoad() option `colour`; expected one of: key, pollInterval, refreshEvery, timeout.',
    ],
    [{ key: 5 }, 'key', 'Expected `key` to be a string, got `5` (number).'],
    [{ timeout: 0 }, 'timeout', 'Expected `timeout` to be a number > 0, got `0` (number).'],
    [{ timeout: Infinity }, 'timeout', 'Expected `timeout` to be a number > 0, got `Infinity` (number).'],
    [{ timeout: NaN }, 'timeout', 'Expected `timeout` to be a number > 0, got `NaN` (number).'],
    [{ timeout: '5' }, 'timeout', 'Expected `timeout` to be a number > 0, got `"5"` (string).'],
    [{ refreshEvery: 1n }, 'refreshEvery', 'Expected `refreshEvery` to be a number > 0, got `1n` (bigint).'],
    [{ refreshEvery: -1 }, 'refreshEvery', 'Expected `refreshEvery` to be a number > 0, got `-1` (number).'],
    [{ pollInterval: -1 }, 'pollInterval', 'Expected `pollInterval` to be a number >= 0, got `-1` (number).'],
    [
      {
        pollInterval: {
          toString(): never {
            throw new Error('no');
          },
        },
      },
      'pollInterval',
      'Expected `pollInterval` to be a number >= 0, got `[object Object]` (object).',
    ],
  ];

  refusesEach(cases, validateLoadOptions);

  it('accepts each option at its limit, and nothing given as no options', () => {
    expect(validateLoadOptions(undefined)).toEqual({});
    expect(validateLoadOptions({})).toEqual({});
    expect(validateLoadOptions({ key: '', pollInterval: 0, refreshEvery: 0.5, timeout: 1e-3 })).toEqual({
      key: '',
      pollInterval: 0,
      refreshEvery: 0.5,
      timeout: 1e-3,
    });
  });
});

describe('createLoader() options', () => {
  const cases: [unknown, string, string][] = [
    [5, 'options', 'Expected createLoader() `options` to be an object, got `5` (number).'],
    [
      { thread: 2 },
      'thread',
      'Unknown createLoader() option `thread`; expected one of: threads, minThreads, idleTimeout, maxQueue, resourceLimits, maxEntries, ttl, pollInterval, onError, executor.',
    ],
    [{ threads: 1.5 }, 'threads', `Expected \`threads\` to be ${THREADS_WHY}, got \`1.5\` (number).`],
    [
      { threads: MAX_THREADS + 1 },
      'threads',
      `Expected \`threads\` to be ${THREADS_WHY}, got \`257\` (number).`,
    ],
    [{ threads: 0 }, 'threads', `Expected \`threads\` to be ${THREADS_WHY}, got \`0\` (number).`],
    [
      { threads: 2, minThreads: 3 },
      'minThreads',
      'Expected `minThreads` to be at most `threads` (2), got `3` (number).',
    ],
    [{ minThreads: 0.5 }, 'minThreads', 'Expected `minThreads` to be an integer >= 0, got `0.5` (number).'],
    [{ resourceLimits: 5 }, 'resourceLimits', 'Expected `resourceLimits` to be an object, got `5` (number).'],
    [
      { resourceLimits: { heap: 1 } },
      'resourceLimits.heap',
      'Unknown resourceLimits option `resourceLimits.heap`; expected one of: maxOldGenerationSizeMb, maxYoungGenerationSizeMb, codeRangeSizeMb, stackSizeMb.',
    ],
    [
      { resourceLimits: { stackSizeMb: 0.5 } },
      'resourceLimits.stackSizeMb',
      `Expected \`resourceLimits.stackSizeMb\` to be a number >= 1 and <= 4096 (${ADDRESS_SPACE}), got \`0.5\` (number).`,
    ],
    [
      { resourceLimits: { codeRangeSizeMb: 4097 } },
      'resourceLimits.codeRangeSizeMb',
      `Expected \`resourceLimits.codeRangeSizeMb\` to be a number > 0 and <= 4096 (${ADDRESS_SPACE}), got \`4097\` (number).`,
    ],
    [
      { resourceLimits: { maxYoungGenerationSizeMb: 0 } },
      'resourceLimits.maxYoungGenerationSizeMb',
      'Expected `resourceLimits.maxYoungGenerationSizeMb` to be a number > 0, got `0` (number).',
    ],
    [
      { resourceLimits: { maxOldGenerationSizeMb: 7 } },
      'resourceLimits.maxOldGenerationSizeMb',
      'Expected `resourceLimits.maxOldGenerationSizeMb` to be a number >= 8, got `7` (number).',
    ],
    [{ onError: 1 }, 'onError', 'Expected `onError` to be a function, got `1` (number).'],
    [
      { maxQueue: 1.5 },
      'maxQueue',
      'Expected `maxQueue` to be an integer >= 0 (or Infinity), got `1.5` (number).',
    ],
    [
      { maxEntries: 0 },
      'maxEntries',
      'Expected `maxEntries` to be an integer >= 1 (or Infinity), got `0` (number).',
    ],
    [{ ttl: 0 }, 'ttl', 'Expected `ttl` to be a number > 0 (or Infinity), got `0` (number).'],
    [
      { pollInterval: Infinity },
      'pollInterval',
      'Expected `pollInterval` to be a number >= 0, got `Infinity` (number).',
    ],
  ];

  refusesEach(cases, resolveLoaderOptions);

  it("refuses an idleTimeout past Node's longest timer, saying why", () => {
    const error = refusal(() => resolveLoaderOptions({ idleTimeout: 2 ** 31 }));
    expect(error.message).toBe(
      "Expected `idleTimeout` to be a number >= 0 and <= 2147483647 (Node's longest timer, about 24.8 days; Infinity keeps idle threads) (or Infinity), got `2147483648` (number).",
    );
  });

  it('refuses an executor without submit() and close()', () => {
    const noop = (): void => undefined;
    for (const executor of [null, 5, {}, { submit: noop }, { submit: noop, close: 1 }, { close: noop }]) {
      const error = refusal(() => resolveLoaderOptions({ executor }));
      expect(error.message).toMatch(
        /^Expected `executor` to be an executor \(an object with submit\(\) and close\(\)\), got /,
      );
    }
    const executor = { submit: noop, close: noop } as unknown as Executor;
    expect(resolveLoaderOptions({ executor }).executor).toBe(executor);
  });

  it('gives a loader its defaults', () => {
    const resolved = resolveLoaderOptions(undefined);
    const threads = Math.max(1, availableParallelism());
    expect(resolved).toMatchObject({
      threads,
      minThreads: threads,
      idleTimeout: 60_000,
      maxQueue: Infinity,
      resourceLimits: undefined,
      maxEntries: DEFAULT_MAX_ENTRIES,
      ttl: Infinity,
      pollInterval: DEFAULT_POLL_INTERVAL,
      executor: undefined,
    });
    // The default onError hands the error to process warnings.
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const error = new Error('stray');
      resolved.onError(error);
      expect(warn).toHaveBeenCalledWith(error);
    } finally {
      warn.mockRestore();
    }
  });

  it('keeps what it accepts, at every limit', () => {
    const accepted = {
      threads: MAX_THREADS,
      minThreads: 0,
      idleTimeout: Infinity,
      maxQueue: 0,
      resourceLimits: {
        stackSizeMb: 4096,
        maxOldGenerationSizeMb: 8,
        codeRangeSizeMb: 0.1,
        maxYoungGenerationSizeMb: 1,
      },
      maxEntries: Infinity,
      ttl: 1,
      pollInterval: 0,
      onError: (): void => undefined,
    };
    expect(resolveLoaderOptions(accepted)).toMatchObject(accepted);
    expect(resolveLoaderOptions({ resourceLimits: {} }).resourceLimits).toEqual({});
    expect(resolveLoaderOptions({ threads: 3 }).minThreads).toBe(3);
  });
});

describe('arguments checked where they are passed', () => {
  it('a listener must be a function, a key a string', () => {
    expect(refusal(() => checkListener('x')).message).toBe(
      'Expected `listener` to be a function, got `"x"` (string).',
    );
    expect(refusal(() => checkKey(1)).message).toBe('Expected `key` to be a string, got `1` (number).');
    expect(() => checkListener(() => undefined)).not.toThrow();
    expect(() => checkKey('')).not.toThrow();
  });
});
