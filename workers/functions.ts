/**
 * Finding the function a task names: an inline function compiled from its source text (kept in
 * a bounded per-thread LRU), or a module export looked up among the module's own exports.
 */

import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { OuterScopeError, UnsendableFunctionError } from '../src/errors.js';
import { COMPILED_FUNCTIONS_PER_THREAD, type FunctionRef, type TaskMessage } from '../src/protocol.js';
import { reflectApply, SafeMap } from './start-up.js';

export type AnyFunction = (...args: unknown[]) => unknown;
type ModuleRef = Extract<FunctionRef, { kind: 'module' }>;

/**
 * The function a task names; compiles or imports it on first use on this thread. Call only
 * when hasFunction() says the thread has what it needs.
 */
export function findFunction(fn: TaskMessage['fn']): AnyFunction | Promise<AnyFunction> {
  if ('url' in fn) return importModule(fn.url).then((mod) => exportOf(mod, fn));
  return compileInline(fn.id, fn.source!);
}

/** False for an inline function sent by number only that this thread has not compiled (or dropped). */
export function hasFunction(fn: TaskMessage['fn']): boolean {
  return 'url' in fn || fn.source !== undefined || compiled.get(fn.id) !== undefined;
}

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
export const thisTrap: object = new Proxy(Object.create(null) as object, {
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

/**
 * Stands in for `arguments` in arrow functions, which would otherwise read the compiling
 * factory's own arguments (this module's helpers): like any variable from the scope the
 * function was written in, it is refused. Ordinary functions still have their own `arguments`.
 */
const refuseArguments = (): never => {
  throw new OuterScopeError('arguments');
};
const argumentsTrap: object = new Proxy(Object.create(null) as object, {
  get: refuseArguments,
  set: refuseArguments,
  has: refuseArguments,
  deleteProperty: refuseArguments,
  defineProperty: refuseArguments,
  getOwnPropertyDescriptor: refuseArguments,
  ownKeys: refuseArguments,
  getPrototypeOf: refuseArguments,
  setPrototypeOf: refuseArguments,
});

/**
 * Compiled inline functions by source text, least recently used first (a Map keeps insertion
 * order; a hit moves the function to the end). Bounded: a process that makes functions on the
 * fly would otherwise keep every one compiled on every thread for the thread's life.
 */
const compiled = new SafeMap<number, AnyFunction>();
/** The most recently used function: repeated runs of one function skip the reordering. */
let mostRecent: number | undefined;

/** By the number the executor gave the source (its source comes along until threads have it). */
function compileInline(id: number, source: string): AnyFunction {
  let fn = compiled.get(id);
  if (fn) {
    if (id !== mostRecent) {
      compiled.delete(id);
      compiled.set(id, fn);
      mostRecent = id;
    }
    return fn;
  }
  const factory = new Function(
    '__name',
    '__vite_ssr_dynamic_import__',
    'require',
    'arguments',
    `return (${source}\n);\n//# sourceURL=${SOURCE_URL}`,
  );
  const helpers = [nameHelper, dynamicImport, requireFromApp, argumentsTrap];
  fn = reflectApply(factory, thisTrap, helpers) as AnyFunction;
  compiled.set(id, fn);
  mostRecent = id;
  if (compiled.size > COMPILED_FUNCTIONS_PER_THREAD) {
    const oldest = compiled.first();
    if (oldest !== undefined) compiled.delete(oldest);
  }
  return fn;
}

/** Module namespaces by the URL the task names; a failed import is not kept (see below). */
const modules = new SafeMap<string, Promise<Record<string, unknown>>>();
/** How many times each URL failed to import on this thread. */
const importFailures = new SafeMap<string, number>();

/**
 * Node keeps a module that failed to import (a syntax error, a throw at the top level) in its
 * module map under its URL, failing every later import of that URL even after the file is
 * fixed. After a failure the next run imports the file under a fresh URL (a search parameter),
 * which Node loads anew; once one succeeds, that namespace is kept for the thread.
 */
function importModule(url: string): Promise<Record<string, unknown>> {
  let pending = modules.get(url);
  if (!pending) {
    const failures = importFailures.get(url) ?? 0;
    const loading = import(failures === 0 ? url : freshUrl(url, failures)) as Promise<
      Record<string, unknown>
    >;
    loading.catch(() => {
      modules.delete(url);
      importFailures.set(url, failures + 1);
    });
    modules.set(url, loading);
    pending = loading;
  }
  return pending;
}

function freshUrl(url: string, attempt: number): string {
  if (!url.startsWith('file:')) return url;
  const fresh = new URL(url);
  fresh.searchParams.set('async-load-retry', String(attempt));
  return fresh.href;
}

/** Own exports only: `constructor` or `toString` must not resolve to Object's members. */
function exportOf(mod: Record<string, unknown>, ref: ModuleRef): AnyFunction {
  const name = ref.exportName;
  let exported: unknown;
  if (Object.hasOwn(mod, name)) exported = mod[name];
  else {
    // A CommonJS module's exports arrive as `default`; names the lexer missed are found there.
    const viaDefault = mod.default;
    if ((typeof viaDefault === 'object' && viaDefault !== null) || typeof viaDefault === 'function') {
      if (Object.hasOwn(viaDefault, name)) exported = (viaDefault as Record<string, unknown>)[name];
    }
  }
  if (typeof exported !== 'function') {
    throw new UnsendableFunctionError(
      `${ref.url} has no exported function \`${name}\` (its exports: ${Object.keys(mod).join(', ') || 'none'}).`,
    );
  }
  return exported as AnyFunction;
}

/** A ReferenceError raised inside an inline function almost always means a captured variable. */
export function explain(error: unknown): unknown {
  try {
    if (!(error instanceof ReferenceError)) return error;
    const missing = /^(\S+) is not defined$/.exec(error.message);
    const firstFrame = error.stack?.split('\n').find((line) => line.trimStart().startsWith('at '));
    if (missing?.[1] && firstFrame?.includes(SOURCE_URL))
      return new OuterScopeError(missing[1], { cause: error });
    return error;
  } catch {
    // A thrown value whose reads throw (a revoked Proxy fails even `instanceof`): left as it
    // is, for encodeThrown, which never throws. Thrown from here, it would escape the run's
    // reply and fail the whole task, and with it every run batched after this one.
    return error;
  }
}
