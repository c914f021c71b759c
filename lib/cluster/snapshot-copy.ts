// A consistent copy of an SQLite database file, made off the event loop: a one-shot worker
// thread opens its own read-only connection and runs VACUUM INTO, which reads one snapshot
// of the database (https://www.sqlite.org/lang_vacuum.html#vacuuminto). In WAL mode the
// writer goes on committing meanwhile; the copy reflects the last commit before it began.
import { Worker } from 'node:worker_threads';

const COPY = `
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(workerData.src, { readOnly: true });
try {
  db.exec('PRAGMA busy_timeout = 5000');
  db.prepare('VACUUM INTO ?').run(workerData.dest);
} finally {
  db.close();
}
parentPort.postMessage('done');
`;

export function copyDatabase(src: string, dest: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const w = new Worker(COPY, { eval: true, workerData: { src, dest } });
    let done = false;
    w.once('message', () => {
      done = true;
      resolve();
    });
    w.once('error', reject);
    w.once('exit', (code) => {
      if (!done) reject(new Error(`the database copy thread exited with code ${code}`));
    });
  });
}
