import { describe, expect, it } from 'vitest';
import { createLoader } from '../src/index.js';
import {
  DEFAULT_MAX_ENTRIES,
  DEFAULT_POLL_INTERVAL,
  resolveLoaderOptions,
  validateLoadOptions,
} from '../src/options.js';

describe('asyncLoad() options', () => {
  const bad: [string, unknown, typeof TypeError | typeof RangeError][] = [
    ['refreshEvery', -1, RangeError],
    ['refreshEvery', 0, RangeError],
    ['refreshEvery', NaN, RangeError],
    ['refreshEvery', Infinity, RangeError],
    ['refreshEvery', '100', TypeError],
    ['timeout', -5, RangeError],
    ['timeout', NaN, RangeError],
    ['timeout', Infinity, RangeError],
    ['timeout', null, TypeError],
    ['pollInterval', -1, RangeError],
    ['pollInterval', Infinity, RangeError],
    ['pollInterval', {}, TypeError],
    ['key', 5, TypeError],
  ];
  it.each(bad)('refuses %s = %s, naming the option and the value', (name, value, Kind) => {
    const call = (): unknown => validateLoadOptions({ [name]: value });
    expect(call).toThrow(Kind);
    expect(call).toThrow(`\`${name}\``);
    expect(call).toThrow(`got \`${typeof value === 'string' ? JSON.stringify(value) : String(value)}\``);
  });

  it('refuses unknown option names', () => {
    expect(() => validateLoadOptions({ refreshevery: 10 })).toThrow(
      /Unknown asyncLoad\(\) option `refreshevery`/,
    );
  });

  it('refuses options that are not an object', () => {
    expect(() => validateLoadOptions(5)).toThrow(TypeError);
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
  const bad: [string, unknown, typeof TypeError | typeof RangeError][] = [
    ['threads', 0, RangeError],
    ['threads', 1.5, RangeError],
    ['threads', Infinity, RangeError],
    ['threads', '2', TypeError],
    ['minThreads', -1, RangeError],
    ['idleTimeout', -1, RangeError],
    ['idleTimeout', NaN, RangeError],
    ['maxQueue', -1, RangeError],
    ['maxQueue', 0.5, RangeError],
    ['maxEntries', 0, RangeError],
    ['maxEntries', NaN, RangeError],
    ['ttl', 0, RangeError],
    ['ttl', -1, RangeError],
    ['pollInterval', -1, RangeError],
    ['onError', 'log', TypeError],
    ['resourceLimits', 5, TypeError],
  ];
  it.each(bad)('refuses %s = %s at createLoader() time', (name, value, Kind) => {
    const call = (): unknown => createLoader({ [name]: value });
    expect(call).toThrow(Kind);
    expect(call).toThrow(`\`${name}\``);
  });

  it('names nested resource limits', () => {
    expect(() => createLoader({ resourceLimits: { maxOldGenerationSizeMb: -1 } })).toThrow(
      '`resourceLimits.maxOldGenerationSizeMb`',
    );
    expect(() => createLoader({ resourceLimits: { heap: 1 } as never })).toThrow(
      'Unknown resourceLimits option `heap`',
    );
  });

  it('refuses minThreads above threads and unknown names', () => {
    expect(() => createLoader({ threads: 1, minThreads: 2 })).toThrow(RangeError);
    expect(() => createLoader({ thread: 2 } as never)).toThrow(/Unknown createLoader\(\) option `thread`/);
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
