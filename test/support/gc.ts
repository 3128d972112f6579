import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// Tests run without --expose-gc (vitest starts the process); the flag can still be set at run
// time, and a new context then sees the `gc` global.
setFlagsFromString('--expose-gc');

/** A full garbage collection, for tests that check what is let go. */
export const gc = runInNewContext('gc') as () => void;
