import { deriveKey } from '../dist/src/key.js';
const N = 2_000_000;
const strs = Array.from({length: 64}, () => 'report-2026-11');
const objs = Array.from({length: 64}, () => ({ month: '2026-11', region: 'eu', limit: 50, draft: false, scale: 1.5 }));
const m = new Map([['0|s14:report-2026-11', 1]]);
function time(name, f) { for (let r=0;r<3;r++){ const t0=process.hrtime.bigint(); let s=0; for (let i=0;i<N;i++) s+=f(i)?1:0; if(r==2) console.log(name, (Number(process.hrtime.bigint()-t0)/N).toFixed(1),'ns'); } }
time('derive str', i => deriveKey('0|', [strs[i&63]]));
time('derive+get str', i => m.get(deriveKey('0|', [strs[i&63]]).text));
time('derive obj', i => deriveKey('0|', [objs[i&63]]));
time('json obj', i => JSON.stringify([objs[i&63]]));
time('keys sort', i => Object.keys(objs[i&63]).sort());
