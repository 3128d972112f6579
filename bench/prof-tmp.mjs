import { createLoader } from 'async-load';
import { Piscina } from 'piscina';
const loader = createLoader({ threads: 2, maxEntries: Infinity });
const add = loader.asyncLoad((a) => a + 1);
const piscina = new Piscina({
  filename: new URL('./fixtures/add.mjs', import.meta.url).href,
  minThreads: 2,
  maxThreads: 2,
  atomics: 'async',
});
for (let r = 0; r < 6; r++) {
  let t0 = performance.now();
  let all = [];
  for (let i = 0; i < 20000; i++) all.push(add.wait(r * 20000 + i));
  const issueOurs = performance.now() - t0;
  await Promise.all(all);
  const totalOurs = performance.now() - t0;
  add.clear();
  t0 = performance.now();
  all = [];
  for (let i = 0; i < 20000; i++) all.push(piscina.run(i));
  const issueP = performance.now() - t0;
  await Promise.all(all);
  const totalP = performance.now() - t0;
  console.log(
    `ours issue ${issueOurs.toFixed(1)} total ${totalOurs.toFixed(1)} | piscina issue ${issueP.toFixed(1)} total ${totalP.toFixed(1)}`,
  );
}
await loader.close();
await piscina.destroy();
