/**
 * A wrapper's methods on a loader whose executor is a fake one (no threads): what each one
 * passes to the coordinator. Listed by name in the coordinator's mutation group
 * (scripts/mutate-files.mjs), since the thread-free selection skips files that make loaders.
 */
import { expect, it, describe, vi } from 'vitest';
import { createLoader } from '../src/create-loader.js';
import { FakeExecutor, useFakeClock } from './fixtures/fake-executor.js';

useFakeClock();

const settle = async (): Promise<void> => {
  await vi.advanceTimersByTimeAsync(1);
};

describe('a wrapper on a loader with its own executor', () => {
  it('clears the entry of its arguments, or all of its entries', async () => {
    const executor = new FakeExecutor();
    const loader = createLoader({ executor });
    const double = loader.asyncLoad((n: number) => n * 2);
    const other = loader.asyncLoad((n: number) => n * 3);
    for (const n of [1, 2]) {
      double(n);
      executor.last.succeed(n * 2);
      other(n);
      executor.last.succeed(n * 3);
    }
    await settle();
    expect([double(1), double(2), other(1)]).toEqual([2, 4, 3]);
    double.clear(1);
    expect(double.state(1).status).toBe('idle');
    expect(double.state(2).status).toBe('complete');
    double.clear();
    expect(double.state(2).status).toBe('idle');
    expect(other.state(1).status).toBe('complete');
    await loader.close();
  });
});
