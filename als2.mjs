import { AsyncLocalStorage } from 'node:async_hooks';
const als = new AsyncLocalStorage();
process.on('unhandledRejection', (e, p) => console.log('unhandled', e.message, als.getStore()));
let rejectLater;
als.run('A', () => { new Promise((_, r) => { rejectLater = r; }); });
als.run('B', () => { setTimeout(() => rejectLater(new Error('created A, rejected in B')), 5); });
