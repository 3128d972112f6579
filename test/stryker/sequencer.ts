import { readFileSync } from 'node:fs';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Files that start real threads cost seconds each; those that hold many such tests go last. */
const SLOWEST = /(faults|memory)\.test\.ts$/;

/**
 * Stryker stops a mutant's run at its first failing test, so the order of files sets the cost of
 * a killed mutant: tests without threads (fake executor, fake time, pure functions) first, then
 * those with real threads, the slowest last.
 */
export class FastFirstSequencer extends BaseSequencer {
  override sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const cost = (file: TestSpecification): number => {
      if (SLOWEST.test(file.moduleId)) return 2;
      return /createLoader|asyncLoad\(/.test(readFileSync(file.moduleId, 'utf8')) ? 1 : 0;
    };
    return Promise.resolve([...files].sort((a, b) => cost(a) - cost(b)));
  }
}
