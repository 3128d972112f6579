/** Types of mutate-files.mjs, for the TypeScript configs that import it. */
export interface MutateGroup {
  /** Globs of the files this group mutates. */
  readonly files: readonly string[];
  /** Tested against the thread-free tests (plus `threadTests`), not the whole mutation suite. */
  readonly threadFree: boolean;
  /** Test files with threads added to a thread-free group's tests. */
  readonly threadTests?: readonly string[];
}
export declare const GROUPS: Readonly<
  Record<'key' | 'pure' | 'coordinator' | 'workers' | 'slots' | 'pool' | 'distributed', MutateGroup>
>;
