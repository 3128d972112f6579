import { describe, expect, it } from 'vitest';
import { AsyncLoadError, createLoader, moduleTask, OptionError } from '../src/index.js';
import {
  DEFAULT_MAX_ENTRIES,
  DEFAULT_POLL_INTERVAL,
  MAX_THREADS,
  MIN_RESOURCE_LIMITS,
  resolveLoaderOptions,
  validateLoadOptions,
} from '../src/options.js';
import { MAX_TIMER_MS } from '../src/timers.js';

/** What `call` threw: an OptionError with the stable code, naming `option` and carrying `value`. */
function refusal(call: () => unknown, option: string, value: unknown): OptionError {
  let thrown: unknown;
  try {
    call();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(OptionError);
  expect(thrown).toBeInstanceOf(AsyncLoadError);
  const error = thrown as OptionError;
  expect(error.code).toBe('ERR_ASYNC_LOAD_INVALID_OPTION');
  expect(error.name).toBe('OptionError');
  expect(error.option).toBe(option);
  expect(Object.is(error.value, value)).toBe(true);
  expect(error.message).toContain(`\`${option}\``);
  return error;
}

const shown = (value: unknown): string =>
  `\`${typeof value === 'string' ? JSON.stringify(value) : String(value)}\``;

describe('asyncLoad() options', () => {
  const bad: [string, unknown][] = [
    ['refreshEvery', -1],
    ['refreshEvery', 0],
    ['refreshEvery', NaN],
    ['refreshEvery', Infinity],
    ['refreshEvery', '100'],
    ['timeout', -5],
    ['timeout', NaN],
    ['timeout', Infinity],
    ['timeout', null],
    ['pollInterval', -1],
    ['pollInterval', Infinity],
    ['pollInterval', {}],
    ['key', 5],
  ];
  it.each(bad)(
    'refuses %s = %s with code ERR_ASYNC_LOAD_INVALID_OPTION, naming the option and the value',
    (name, value) => {
      const error = refusal(() => validateLoadOptions({ [name]: value }), name, value);
      expect(error.message).toContain(`got ${shown(value)}`);
    },
  );

  it('refuses unknown option names, naming them', () => {
    const error = refusal(() => validateLoadOptions({ refreshevery: 10 }), 'refreshevery', 10);
    expect(error.message).toMatch(/Unknown asyncLoad\(\) option `refreshevery`/);
  });

  it('refuses options that are not an object', () => {
    refusal(() => validateLoadOptions(5), 'options', 5);
  });

  it('accepts durations of a year and more (timers are chained past 2^31-1 ms)', () => {
    const year = 365 * 24 * 3600 * 1000;
    expect(validateLoadOptions({ timeout: year, refreshEvery: year, pollInterval: year })).toEqual({
      timeout: year,
      refreshEvery: year,
      pollInterval: year,
    });
  });

  it('accepts valid options', () => {
    expect(validateLoadOptions({ key: 'k', pollInterval: 0, refreshEvery: 100, timeout: 5 })).toEqual({
      key: 'k',
      pollInterval: 0,
      refreshEvery: 100,
      timeout: 5,
    });
  });
});

describe('createLoader() options', () => {
  const bad: [string, unknown][] = [
    ['threads', 0],
    ['threads', 1.5],
    ['threads', Infinity],
    ['threads', '2'],
    ['threads', MAX_THREADS + 1],
    ['minThreads', -1],
    ['idleTimeout', -1],
    ['idleTimeout', NaN],
    ['idleTimeout', MAX_TIMER_MS + 1],
    ['maxQueue', -1],
    ['maxQueue', 0.5],
    ['maxEntries', 0],
    ['maxEntries', NaN],
    ['ttl', 0],
    ['ttl', -1],
    ['pollInterval', -1],
    ['onError', 'log'],
    ['resourceLimits', 5],
  ];
  it.each(bad)('refuses %s = %s at createLoader() time, with the code, option and value', (name, value) => {
    refusal(() => createLoader({ [name]: value }), name, value);
  });

  it('names the limit when refusing threads and idleTimeout above it', () => {
    expect(refusal(() => createLoader({ threads: 100_000 }), 'threads', 100_000).message).toContain(
      `<= ${MAX_THREADS}`,
    );
    expect(
      refusal(() => createLoader({ idleTimeout: 30 * 86_400_000 }), 'idleTimeout', 30 * 86_400_000).message,
    ).toContain(`<= ${MAX_TIMER_MS}`);
  });

  it('accepts the largest threads and idleTimeout, and a year-long ttl', () => {
    const year = 365 * 86_400_000;
    const o = resolveLoaderOptions({ threads: MAX_THREADS, idleTimeout: MAX_TIMER_MS, ttl: year });
    expect(o).toMatchObject({ threads: MAX_THREADS, idleTimeout: MAX_TIMER_MS, ttl: year });
    expect(resolveLoaderOptions({ idleTimeout: Infinity }).idleTimeout).toBe(Infinity);
  });

  it('names nested resource limits', () => {
    refusal(
      () => createLoader({ resourceLimits: { maxOldGenerationSizeMb: -1 } }),
      'resourceLimits.maxOldGenerationSizeMb',
      -1,
    );
    const unknown = refusal(
      () => createLoader({ resourceLimits: { heap: 1 } as never }),
      'resourceLimits.heap',
      1,
    );
    expect(unknown.message).toContain('Unknown resourceLimits option `resourceLimits.heap`');
  });

  it.each([
    ['maxOldGenerationSizeMb', 4],
    ['maxOldGenerationSizeMb', 7.9],
    ['stackSizeMb', 0.1],
    ['stackSizeMb', 0.5],
    ['maxYoungGenerationSizeMb', 0],
    ['codeRangeSizeMb', -1],
  ] as const)(
    'refuses resourceLimits.%s = %s, below what a thread needs to start, naming the minimum',
    (name, value) => {
      const error = refusal(
        () => createLoader({ resourceLimits: { [name]: value } }),
        `resourceLimits.${name}`,
        value,
      );
      expect(error.message).toContain(`${MIN_RESOURCE_LIMITS[name]}`);
    },
  );

  it('accepts the smallest resource limits that start a thread', () => {
    expect(
      resolveLoaderOptions({
        resourceLimits: {
          maxOldGenerationSizeMb: 8,
          stackSizeMb: 1,
          maxYoungGenerationSizeMb: 0.1,
          codeRangeSizeMb: 0.1,
        },
      }).resourceLimits,
    ).toEqual({
      maxOldGenerationSizeMb: 8,
      stackSizeMb: 1,
      maxYoungGenerationSizeMb: 0.1,
      codeRangeSizeMb: 0.1,
    });
  });

  it('refuses minThreads above threads and unknown names', () => {
    refusal(() => createLoader({ threads: 1, minThreads: 2 }), 'minThreads', 2);
    const unknown = refusal(() => createLoader({ thread: 2 } as never), 'thread', 2);
    expect(unknown.message).toMatch(/Unknown createLoader\(\) option `thread`/);
  });

  it('has bounded defaults', () => {
    const o = resolveLoaderOptions(undefined);
    expect(o.maxEntries).toBe(DEFAULT_MAX_ENTRIES);
    expect(o.pollInterval).toBe(DEFAULT_POLL_INTERVAL);
    expect(o.ttl).toBe(Infinity);
    expect(o.threads).toBeGreaterThanOrEqual(1);
    expect(o.minThreads).toBe(o.threads);
  });
});

describe('arguments of the API', () => {
  it('subscribe(listener) refuses a listener that is not a function, for a function and for a loader', async () => {
    const l = createLoader({ threads: 1 });
    try {
      const loaded = l.asyncLoad((n: number) => n);
      refusal(() => loaded.subscribe('log' as never), 'listener', 'log');
      refusal(() => l.subscribe(undefined as never), 'listener', undefined);
    } finally {
      await l.close();
    }
  });

  it('loader.get(key) refuses a key that is not a string', () => {
    refusal(() => createLoader().get(5 as never), 'key', 5);
  });

  it('moduleTask() refuses what is not a module reference or an export name', () => {
    refusal(() => moduleTask(''), 'moduleUrlOrPath', '');
    refusal(() => moduleTask(5 as never), 'moduleUrlOrPath', 5);
    refusal(() => moduleTask('/a.js', ''), 'exportName', '');
  });
});
