// The dispatcher's thread (started by lib/events/dispatch-thread.ts): reads the outbox over its
// own read-only connection, renders, publishes and handles the targets' acknowledgements, so
// the server's event loop only writes the outbox rows. Deleting confirmed rows and trimming
// are writes: they go to the server's thread, which owns the one writer connection and commits
// them before answering, so a row still goes only after its target confirmed it.
import { parentPort, workerData } from 'node:worker_threads';
import { openOutboxReader } from '../metadata/outbox-reads.ts';
import { KICKED, type ToThread, type ToWorker, WAITING, type WorkerInit } from './dispatch-thread.ts';
import { Dispatcher } from './dispatcher.ts';
import { createTarget } from './targets/create.ts';

const DEAD_LETTER_POLL_MS = 1000;

const init = workerData as WorkerInit;
const port = parentPort!;
const post = (m: ToThread): void => port.postMessage(m);
const { reads, close } = openOutboxReader(init.file);
const calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
let lastCall = 0;
function call<T>(m: Extract<ToThread, { t: 'delivered' | 'trim' }>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    calls.set(m.id, { resolve: resolve as (v: unknown) => void, reject });
    post(m);
  });
}
let active = init.active;
const targets = init.targets.map(createTarget);
const dispatcher = new Dispatcher(
  {
    pending: (target, limit) => reads.pending(target, limit),
    delivered: (target, seqs, maxDelayMs) => call({ t: 'delivered', id: ++lastCall, target, seqs, maxDelayMs }),
    trim: (target, keep) => call({ t: 'trim', id: ++lastCall, target, keep }),
    oldestSeq: (target) => reads.oldestSeq(target),
    depth: (target) => reads.depth(target),
  },
  targets,
  {
    ...init.options,
    ...(init.clustered ? { active: () => active } : {}),
    onWaiting: (delta) => Atomics.add(init.waiting, WAITING, delta),
    onPublished: (target, n, latencyMs) => post({ t: 'published', target, n, latencyMs }),
    onFailed: (target, err, publishing) => post({ t: 'failed', target, message: err.message, publishing }),
  },
);
// RabbitMQ counts its dead letters on demand; the server's /health reads the last count.
const deadLetterPoll = setInterval(() => {
  for (const t of targets) {
    const n = t.deadLetters?.();
    if (n !== undefined) post({ t: 'deadLetters', target: t.name, n });
  }
}, DEAD_LETTER_POLL_MS);
deadLetterPoll.unref();

port.on('message', (m: ToWorker) => {
  switch (m.t) {
    case 'kick':
      // Taken before the loops look: a commit from now on may send the next kick.
      Atomics.store(init.waiting, KICKED, 0);
      dispatcher.kick();
      break;
    case 'active':
      active = m.value;
      break;
    case 'reply': {
      const c = calls.get(m.id);
      calls.delete(m.id);
      if (m.error === undefined) c?.resolve(m.value);
      else c?.reject(new Error(m.error));
      break;
    }
    case 'stop':
      clearInterval(deadLetterPoll);
      void dispatcher.stop().finally(() => {
        close();
        post({ t: 'stopped' });
      });
      break;
  }
});
dispatcher.start();
