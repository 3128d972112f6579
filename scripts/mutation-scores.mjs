// Per-file mutation scores (killed + timed out over valid mutants), totals over src/ and
// workers/, and the surviving mutants, from Stryker JSON reports:
// `node scripts/mutation-scores.mjs [report.json ...] [--quiet]` (default: every group's last report).
import { existsSync, readFileSync } from 'node:fs';
import { GROUPS } from './mutate-files.mjs';

const args = process.argv.slice(2);
const quiet = args.includes('--quiet') || args.includes('quiet');
let reports = args.filter((a) => a !== '--quiet' && a !== 'quiet');
if (reports.length === 0)
  reports = Object.keys(GROUPS)
    .map((group) => `reports/mutation/${group}.json`)
    .filter(existsSync);

/** A group's glob: a path, `dir/**` + `/*.ts`, or `path:first-last` (lines; see mutate-files.mjs). */
function parseGlob(glob) {
  const range = /^(.*):(\d+)-(\d+)$/.exec(glob);
  return range ? { path: range[1], first: Number(range[2]), last: Number(range[3]) } : { path: glob };
}
/** The glob of a group that holds `file`, if any. */
const globFor = (file, globs) =>
  globs
    .map(parseGlob)
    .find(({ path }) =>
      path.endsWith('/**/*.ts') ? file.startsWith(path.slice(0, -'**/*.ts'.length)) : file === path,
    );
/** Mutants of one file from every group that tests part of it, each once. */
const files = {};
for (const report of reports) {
  const group = Object.entries(GROUPS).find(([name]) => report.endsWith(`/${name}.json`))?.[1];
  for (const [file, result] of Object.entries(JSON.parse(readFileSync(report, 'utf8')).files)) {
    // A group's report keeps files it no longer mutates (results reused from its incremental file).
    const glob = group ? globFor(file, group.files) : { path: file };
    if (!glob) continue;
    const mutants = result.mutants.filter(
      (m) =>
        glob.first === undefined || (m.location.start.line >= glob.first && m.location.end.line <= glob.last),
    );
    const into = (files[file] ??= { source: result.source, mutants: [], seen: new Set() });
    for (const m of mutants) {
      const l = m.location;
      const id = `${l.start.line}:${l.start.column}-${l.end.line}:${l.end.column} ${m.mutatorName} ${m.replacement}`;
      if (into.seen.has(id)) continue;
      into.seen.add(id);
      into.mutants.push(m);
    }
  }
}
const totals = {};
const add = (into, c) => {
  for (const [k, v] of Object.entries(c)) into[k] = (into[k] ?? 0) + v;
};
const score = (c) => {
  const det = (c.Killed ?? 0) + (c.Timeout ?? 0);
  const valid = det + (c.Survived ?? 0) + (c.NoCoverage ?? 0);
  return { det, valid, text: valid ? `${((100 * det) / valid).toFixed(1)} % (${det} of ${valid})` : 'n/a' };
};
for (const [file, { mutants, source }] of Object.entries(files).sort()) {
  const c = {};
  for (const m of mutants) c[m.status] = (c[m.status] ?? 0) + 1;
  add((totals[file.split('/')[0]] ??= {}), c);
  console.log(file, JSON.stringify(c), 'score', score(c).text);
  if (quiet) continue;
  const lines = source.split('\n');
  for (const m of mutants
    .filter((m) => m.status === 'Survived' || m.status === 'NoCoverage')
    .sort((a, b) => a.location.start.line - b.location.start.line)) {
    const l = m.location;
    console.log(
      `  ${m.id} ${m.status[0]} L${l.start.line}:${l.start.column} ${m.mutatorName}: ${lines[l.start.line - 1].trim().slice(0, 110)}  =>  ${(m.replacement ?? '').replace(/\s+/g, ' ').slice(0, 80)}`,
    );
  }
}
for (const [dir, c] of Object.entries(totals))
  console.log(`${dir}/ total`, JSON.stringify(c), 'score', score(c).text);
