// Per-file mutation scores (killed + timed out over valid mutants) and the surviving mutants,
// from a Stryker JSON report: `node scripts/mutation-scores.mjs [report.json] [quiet]`.
import { readFileSync } from 'node:fs';
const r = JSON.parse(readFileSync(process.argv[2] ?? 'reports/mutation/mutation.json', 'utf8'));
const show = process.argv[3] !== 'quiet';
for (const [file, { mutants, source }] of Object.entries(r.files)) {
  const c = {};
  for (const m of mutants) c[m.status] = (c[m.status] ?? 0) + 1;
  const det = (c.Killed ?? 0) + (c.Timeout ?? 0);
  const valid = det + (c.Survived ?? 0) + (c.NoCoverage ?? 0);
  console.log(file, JSON.stringify(c), 'score', ((100 * det) / valid).toFixed(1));
  if (!show) continue;
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
