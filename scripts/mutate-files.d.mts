/** Types of mutate-files.mjs, for the TypeScript configs that import it. */
export interface MutateGroup {
  /** Globs of the files this group mutates (or `path:first-last`, a line range). */
  readonly files: readonly string[];
  /** Tested against the thread-free tests (plus `threadTests`), not the whole mutation suite. */
  readonly threadFree: boolean;
  /** Test files with threads added to a thread-free group's tests. */
  readonly threadTests?: readonly string[];
  /** Test processes at once; by default two for thread-free groups, else one. */
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
    | 'distributed-1'
    | 'distributed-2',
    MutateGroup
  >
>;
