// bullmqExecutor()'s options: each duration is taken exactly when it is in its range (checked
// against generated values, boundaries included), and every refusal names the option, keeps
// the value and says what was expected.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveExecutorOptions } from '../../src/distributed/options.js';
import { OptionError } from '../../src/errors.js';

const LONGEST_TIMER = 2 ** 31 - 1;
const TIMER_LIMIT = `at most 2,147,483,647 (the longest a Node timer waits)`;

/** Each duration option: when a number is taken, and what a refusal says is expected. */
const DURATIONS = {
  ttl: {
    takes: (v: number) => Number.isFinite(v) && v > 0 && v <= Number.MAX_SAFE_INTEGER,
    expected: 'a number of milliseconds > 0 and at most Number.MAX_SAFE_INTEGER',
  },
  jobExpiry: {
    takes: (v: number) => Number.isFinite(v) && v > 0 && v <= Number.MAX_SAFE_INTEGER,
    expected: 'a number of milliseconds > 0 and at most Number.MAX_SAFE_INTEGER',
  },
  unavailableAfter: {
    takes: (v: number) => v > 0 && v <= LONGEST_TIMER,
    expected: `a number of milliseconds > 0 and ${TIMER_LIMIT}`,
  },
  sweepInterval: {
    takes: (v: number) => v > 0 && v <= LONGEST_TIMER,
    expected: `a number of milliseconds > 0 and ${TIMER_LIMIT}`,
  },
  leasePeriod: {
    takes: (v: number) => v >= 100 && v <= LONGEST_TIMER,
    expected: `a number of milliseconds from 100 and ${TIMER_LIMIT}`,
  },
} as const;

/** The error `resolveExecutorOptions(input)` throws, or undefined. */
function refusal(input: unknown): OptionError | undefined {
  try {
    resolveExecutorOptions(input);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(OptionError);
    return error as OptionError;
  }
}

function expectRefused(input: unknown, option: string, value: unknown, expected: string): void {
  const error = refusal(input);
  expect(error).toMatchObject({ option, code: 'ERR_ASYNC_LOAD_INVALID_OPTION' });
  expect(Object.is(error!.value, value)).toBe(true);
  expect(error!.message.startsWith(`Expected \`${option}\` to be ${expected}, got `)).toBe(true);
}

const duration = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(
    0,
    -0,
    0.5,
    1,
    99,
    99.999,
    100,
    LONGEST_TIMER,
    LONGEST_TIMER + 1,
    Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER + 2,
    1e300,
    Infinity,
    -Infinity,
    NaN,
  ),
);

describe('bullmqExecutor options', () => {
  it('takes each duration exactly when it is in its range', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...(Object.keys(DURATIONS) as (keyof typeof DURATIONS)[])),
        duration,
        (name, v) => {
          const { takes, expected } = DURATIONS[name];
          if (takes(v)) expect(resolveExecutorOptions({ connection: 'redis://x', [name]: v })[name]).toBe(v);
          else expectRefused({ connection: 'redis://x', [name]: v }, name, v, expected);
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it.each(Object.keys(DURATIONS))('refuses a %s that is not a number', (name) => {
    for (const v of ['5', null, 5n, [5]]) {
      expectRefused(
        { connection: 'redis://x', [name]: v },
        name,
        v,
        DURATIONS[name as keyof typeof DURATIONS].expected,
      );
    }
  });

  it('takes a connection URL or ioredis options, and refuses anything else', () => {
    const options = { host: '127.0.0.1', port: 6390 };
    expect(resolveExecutorOptions({ connection: options }).connection).toBe(options);
    expect(resolveExecutorOptions({ connection: 'rediss://h:1' }).connection).toBe('rediss://h:1');
    for (const url of ['http://h:1', ' redis://h:1', 'redis:/h', 'xredis://h:1'])
      expectRefused({ connection: url }, 'connection', url, 'a redis:// or rediss:// URL');
    for (const v of [null, [options], 6379, undefined])
      expectRefused({ connection: v }, 'connection', v, 'a redis:// or rediss:// URL or ioredis options');
  });

  it('takes a queue name of 1 to 100 letters, digits, - or _', () => {
    expect(
      resolveExecutorOptions({ connection: 'redis://x', queue: `A-z_9${'q'.repeat(95)}` }).queue,
    ).toHaveLength(100);
    for (const q of ['', 'a b', 'q'.repeat(101), 'a:b', 5])
      expectRefused(
        { connection: 'redis://x', queue: q },
        'queue',
        q,
        'a name of 1 to 100 letters, digits, `-` or `_`',
      );
  });

  it('takes a non-empty string or Buffer as the secret', () => {
    const buffer = Buffer.from('k');
    expect(resolveExecutorOptions({ connection: 'redis://x', secret: buffer }).secret).toBe(buffer);
    expect(resolveExecutorOptions({ connection: 'redis://x', secret: 's' }).secret).toBe('s');
    for (const s of ['', Buffer.alloc(0), 5, new Uint8Array([1])])
      expectRefused({ connection: 'redis://x', secret: s }, 'secret', s, 'a non-empty string or Buffer');
  });

  it('refuses options that are not an object, and names an unknown option with the known ones', () => {
    for (const v of [null, [], 'redis://x', undefined])
      expectRefused(v, 'options', v, 'an object with at least `connection`');
    const error = refusal({ connection: 'redis://x', colour: 'red' });
    expect(error).toMatchObject({ option: 'colour', value: 'red' });
    expect(error!.message).toBe(
      'Unknown bullmqExecutor() option `colour`; expected one of: connection, queue, secret, ttl, jobExpiry, ' +
        'unavailableAfter, sweepInterval, leasePeriod.',
    );
  });
});
