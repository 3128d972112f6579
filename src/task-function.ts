/**
 * Turning what the user passes as `fn` into something a thread can run: an inline function
 * becomes its source text (checked here, once, so a function that cannot work is refused at
 * asyncLoad() time), a moduleTask() becomes a module URL and export name.
 */

import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UnsendableFunctionError } from './errors.js';
import { invalid } from './options.js';
import type { FunctionRef } from './protocol.js';

const MODULE_TASK = Symbol.for('async-load.moduleTask');

/** A function that lives in a module file, made by `moduleTask()`. `A` and `R` type the calls. */
export interface ModuleTask<A extends unknown[] = unknown[], R = unknown> {
  readonly [MODULE_TASK]: true;
  readonly url: string;
  readonly exportName: string;
  /** Type-only: carries the function's signature. */
  readonly __signature?: (...args: A) => R;
}

/**
 * Names a function exported by an ES or CommonJS module, to be imported and run on the worker
 * threads with its own imports and module state. Use it for functions that need their module's
 * imports, helpers or closures.
 *
 * @param moduleUrlOrPath A `file:` URL (string or URL object), an absolute path, or a path
 *   relative to the current working directory. `new URL('./tasks.js', import.meta.url)` is the
 *   most robust form.
 * @param exportName The export to run. @default 'default'
 * @example
 * const build = asyncLoad(moduleTask<typeof import('./report.js').build>(new URL('./report.js', import.meta.url), 'build'));
 */
export function moduleTask<F extends (...args: any[]) => unknown = (...args: unknown[]) => unknown>(
  moduleUrlOrPath: string | URL,
  exportName = 'default',
): ModuleTask<Parameters<F>, Awaited<ReturnType<F>>> {
  if (typeof exportName !== 'string' || exportName === '') {
    throw invalid('exportName', exportName, 'a non-empty string');
  }
  let url: string;
  if (moduleUrlOrPath instanceof URL) url = moduleUrlOrPath.href;
  else if (typeof moduleUrlOrPath !== 'string' || moduleUrlOrPath === '')
    throw invalid('moduleUrlOrPath', moduleUrlOrPath, 'a file URL or a path');
  // A scheme has two letters or more: `C:\\…` is a Windows path.
  else if (/^[a-z][a-z0-9+.-]+:/i.test(moduleUrlOrPath)) url = moduleUrlOrPath;
  else url = pathToFileURL(isAbsolute(moduleUrlOrPath) ? moduleUrlOrPath : resolve(moduleUrlOrPath)).href;
  // What a thread can import. Any other scheme (http:, https:) failed only at run time, taken
  // for a path: a file not found under the working directory.
  if (!/^(file|data|node):/i.test(url))
    throw invalid('moduleUrlOrPath', moduleUrlOrPath, 'a file: or data: URL, a node: built-in, or a path');
  return Object.freeze({ [MODULE_TASK]: true as const, url, exportName });
}

export function isModuleTask(value: unknown): value is ModuleTask {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MODULE_TASK] === true
  );
}

/** The text that identifies the function in cache keys. */
export function functionIdentity(ref: FunctionRef): string {
  // The URL is length-prefixed: `url#x` + `y` and `url` + `x#y` must not read the same.
  return ref.kind === 'inline' ? `f${ref.source}` : `m${ref.url.length}:${ref.url}${ref.exportName}`;
}

// Stryker disable next-line Regex: V8 writes a native function's body as `{ [native code] }` with one space each side and nothing after
const NATIVE = /\{\s*\[native code\]\s*\}\s*$/;
const ADVICE =
  'Pass a plain function or arrow function written in your code, or use moduleTask() for one in a module.';

/** Checks an inline function can be sent as source and compiled on a thread; returns its reference. */
export function toFunctionRef(fn: unknown): FunctionRef {
  if (isModuleTask(fn)) return { kind: 'module', url: fn.url, exportName: fn.exportName };
  if (typeof fn !== 'function') {
    const shown =
      typeof fn === 'string' ? `the string ${JSON.stringify(fn.slice(0, 40))}` : `${typeof fn} ${String(fn)}`;
    throw new UnsendableFunctionError(
      `asyncLoad() needs a function or a moduleTask(), got ${shown}. Source text is never run as code. ${ADVICE}`,
    );
  }
  // Function.prototype.toString, not fn.toString(): an overridden toString must not decide what runs.
  // Stryker disable next-line MethodExpression: Function.prototype.toString gives the source text from its first token to its last, never with whitespace around it
  const source = Function.prototype.toString.call(fn).trim();
  const label = fn.name ? `\`${fn.name}\`` : 'the function';
  if (NATIVE.test(source)) {
    const what = fn.name.startsWith('bound ') ? 'a bound function' : 'a built-in (native) function';
    throw new UnsendableFunctionError(
      `${label} is ${what}, whose source cannot be sent to a thread. ${ADVICE}`,
    );
  }
  if (/^class\b/.test(source)) {
    throw new UnsendableFunctionError(`${label} is a class; asyncLoad() runs functions. ${ADVICE}`);
  }
  const ctor = (fn as { constructor?: { name?: string } }).constructor?.name;
  if (ctor === 'GeneratorFunction' || ctor === 'AsyncGeneratorFunction') {
    throw new UnsendableFunctionError(
      `${label} is a generator; its result (an iterator) cannot cross threads. Return an array instead.`,
    );
  }
  if (/^(get|set)\s+[\w$[]/.test(source) && !compiles(source)) {
    throw new UnsendableFunctionError(
      `${label} is a getter or setter, not a function that can be called with arguments. ${ADVICE}`,
    );
  }
  return { kind: 'inline', source: compilableSource(source, label) };
}

/**
 * Method shorthand (`{ build(x) {...} }.build`) prints as `build(x) {...}`, which is not an
 * expression; writing `function` in front makes it one without changing what it does.
 */
function compilableSource(source: string, label: string): string {
  if (compiles(source)) return source;
  const method = /^(async\s+)?([\w$]+\s*\()/.exec(source);
  if (method) {
    const fixed = `${method[1] ?? ''}function ${source.slice(method[1]?.length ?? 0)}`;
    if (compiles(fixed)) return fixed;
  }
  let problem: unknown;
  try {
    new Function(`return (${source}\n)`);
  } catch (error) {
    problem = error;
  }
  throw new UnsendableFunctionError(
    `The source of ${label} does not parse on its own (${(problem as Error | undefined)?.message ?? 'unknown syntax'}). ${ADVICE}`,
    { cause: problem },
  );
}

/** Compiles without running anything: a syntax check on the exact text the thread will compile. */
function compiles(source: string): boolean {
  try {
    new Function(`return (${source}\n)`);
    return true;
  } catch {
    return false;
  }
}
