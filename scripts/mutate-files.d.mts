/** Types of mutate-files.mjs, for the TypeScript configs that import it. */
export interface MutateGroup {
  /** Globs of the files this group mutates (or `path:first-last`, a line range). */
  readonly files: readonly string[];
  /** Test files with threads run besides the thread-free tests (vitest.mutate-unit.config.ts). */
  readonly threadTests?: readonly string[];
  /** Test processes at once; one by default (the listed tests start real threads). */
  readonly concurrency?: number;
}
export declare const GROUPS: Readonly<
  Record<
    | 'key'
    | 'pure'
    | 'coordinator'
    | 'workers'
    | 'slots'
    | 'pool-1'
    | 'pool-2'
    | 'pool-3'
    | 'pool-4'
    | 'pool-5'
    | 'pool-6'
    | 'pool-7'
    | 'distributed-1'
    | 'distributed-2',
    MutateGroup
  >
>;
