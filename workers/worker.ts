/**
 * The code that runs inside each thread: receive a task, find the function, run it, reply.
 * Failures of any kind become a reply ({ ok: false }), never a rejected task, so error
 * classes and own properties survive (Piscina would clone a rejection into a plain Error).
 */

import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { threadId, workerData } from 'node:worker_threads';
import { now } from '../src/clock.js';
import { decode, encodeThrown, prepare, type Carried } from '../src/codec.js';
import { OuterScopeError, UnsendableFunctionError } from '../src/errors.js';
import {
  MAX_START_WAIT_MS,
  type FunctionRef,
  type ResultMessage,
  type TaskMessage,
  type WorkerSetup,
} from '../src/protocol.js';
import { claimStart, slotViews } from '../src/start-slots.js';

type AnyFunction = (...args: unknown[]) => unknown;

const setup = workerData as WorkerSetup;
const slots = slotViews(setup.slots, setup.slotCount);

/** Marks frames of inline functions in stacks, so a ReferenceError can be traced to them. */
const SOURCE_URL = 'async-load-inline-function';

/** esbuild (tsx, vitest) wraps named functions in `__name(fn, "name")`; the helper is not global here. */
function nameHelper<T>(fn: T, name: string): T {
  try {
    Object.defineProperty(fn, 'name', { value: name, configurable: true });
  } catch {
    // A frozen function keeps its own name; nothing is lost.
  }
  return fn;
}

/**
 * Vite/vitest's SSR transform rewrites `import(x)` into `__vite_ssr_dynamic_import__(x)`; give
 * such code a real dynamic import so functions written in vitest tests run unchanged.
 */
const dynamicImport = (specifier: string): Promise<unknown> => import(specifier);

/** `require` for inline functions, resolving from the app's working directory. */
const requireFromApp = createRequire(pathToFileURL(`${process.cwd()}/`));

/** Stands in for `this`: a function that reads it gets told why it cannot work. */
const thisTrap: object = new Proxy(Object.create(null) as object, {
  get(_target, property) {
    throw new UnsendableFunctionError(
      `The function reads \`this.${String(property)}\`, but \`this\` is not carried to the worker thread. ` +
        'Pass what it needs as arguments.',
    );
  },
  set(_target, property) {
    throw new UnsendableFunctionError(
      `The function writes \`this.${String(property)}\`, but \`this\` does not exist on the worker thread.`,
    );
  },
});

const compiled = new Map<string, AnyFunction>();
const loaded = new Map<string, Promise<AnyFunction>>();

function compileInline(source: string): AnyFunction {
  let fn = compiled.get(source);
  if (!fn) {
    const factory = new Function(
      '__name',
      '__vite_ssr_dynamic_import__',
      'require',
      `return (${source}\n);\n//# sourceURL=${SOURCE_URL}`,
    );
    fn = factory.call(thisTrap, nameHelper, dynamicImport, requireFromApp) as AnyFunction;
    compiled.set(source, fn);
  }
  return fn;
}

async function loadExport(ref: Extract<FunctionRef, { kind: 'module' }>): Promise<AnyFunction> {
  const id = `${ref.url}#${ref.exportName}`;
  let pending = loaded.get(id);
  if (!pending) {
    pending = import(ref.url).then((mod: Record<string, unknown>) => {
      const viaDefault = mod.default as Record<string, unknown> | undefined;
      const exported = ref.exportName in mod ? mod[ref.exportName] : viaDefault?.[ref.exportName];
      if (typeof exported !== 'function') {
        throw new UnsendableFunctionError(
          `${ref.url} has no exported function \`${ref.exportName}\` (its exports: ${Object.keys(mod).join(', ') || 'none'}).`,
        );
      }
      return exported as AnyFunction;
    });
    // A failed import is not cached: the next run may find the file fixed.
    pending.catch(() => loaded.delete(id));
    loaded.set(id, pending);
  }
  return pending;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

function startAt(notBefore: number): void {
  const wait = notBefore - now();
  if (wait > 0) Atomics.wait(sleepCell, 0, 0, Math.min(wait, MAX_START_WAIT_MS));
}

/** A ReferenceError raised inside an inline function almost always means a captured variable. */
function explain(error: unknown): unknown {
  if (!(error instanceof ReferenceError)) return error;
  const missing = /^(\S+) is not defined$/.exec(error.message);
  const firstFrame = error.stack?.split('\n').find((line) => line.trimStart().startsWith('at '));
  if (missing?.[1] && firstFrame?.includes(SOURCE_URL))
    return new OuterScopeError(missing[1], { cause: error });
  return error;
}

/** Builds the reply with optional fields only when set: every field is cloned on the way back. */
function reply(
  ok: boolean,
  carried: Carried,
  startedAt: number,
  finishedAt: number,
  arrivedAt: number | undefined,
): ResultMessage {
  const message: ResultMessage = ok
    ? { ok: true, value: carried.value, startedAt, finishedAt }
    : { ok: false, error: carried.value, startedAt, finishedAt };
  if (carried.encoded) message.encoded = true;
  if (arrivedAt !== undefined) message.arrivedAt = arrivedAt;
  return message;
}

export default async function run(task: TaskMessage): Promise<ResultMessage> {
  let arrivedAt: number | undefined;
  if (task.notBefore !== undefined) {
    arrivedAt = now();
    startAt(task.notBefore);
  }
  const startedAt = now();
  if (!claimStart(slots, task.slot, task.ticket, threadId, startedAt)) return { skipped: true };
  try {
    const fn = typeof task.fn === 'string' ? compileInline(task.fn) : await loadExport(task.fn);
    const args = task.encoded ? (decode(task.args) as unknown[]) : task.args;
    const value = await fn.apply(thisTrap, args);
    const finishedAt = now();
    return reply(true, prepare(value, 'result'), startedAt, finishedAt, arrivedAt);
  } catch (error) {
    return reply(false, encodeThrown(explain(error)), startedAt, now(), arrivedAt);
  }
}
