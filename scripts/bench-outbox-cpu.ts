// CPU per object.put command in the metadata store alone, with and without an event stamp and
// a server-wide target: what the outbox costs the writer's thread, without HTTP, brokers or the
// dispatcher. Groups of GROUP commands share a commit (as 16 concurrent PUTs do); with events
// the confirmed rows are deleted every DELETE_EVERY groups, as the dispatcher's batches do.
//   node scripts/bench-outbox-cpu.ts            N=20000 GROUP=16 ROUNDS=5
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MetadataStore } from '../lib/metadata/sqlite.ts';
import { createBucket, putObject } from './bench-commands.ts';

const N = Number(process.env.N ?? 20_000);
const GROUP = Number(process.env.GROUP ?? 16);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const DELETE_EVERY = 5;

async function run(events: boolean): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bleepstore-outbox-cpu-'));
  const store = new MetadataStore({
    path: path.join(dir, 'm.db'),
    durability: 'off',
    eventTargets: events ? ['q'] : [],
  });
  try {
    await store.submit(createBucket('b') as never);
    const outbox = store.outbox();
    const t0 = process.cpuUsage();
    for (let g = 0; g < N / GROUP; g++) {
      const batch = [];
      for (let i = 0; i < GROUP; i++) {
        const key = `k-${g}-${i}`;
        batch.push(store.submit(putObject('b', key, events) as never));
      }
      if (events && g % DELETE_EVERY === DELETE_EVERY - 1) {
        const seqs = [...new Set(outbox.pending('q', 1000).map((r) => r.rowSeq))];
        batch.push(outbox.delivered('q', seqs, 0));
      }
      await Promise.all(batch);
    }
    const u = process.cpuUsage(t0);
    return (u.user + u.system) / N;
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

for (let r = 0; r < ROUNDS; r++) {
  const none = await run(false);
  const ev = await run(true);
  console.log(
    `round ${r + 1}: none ${none.toFixed(1)} µs/put, events ${ev.toFixed(1)} µs/put (+${(ev - none).toFixed(1)})`,
  );
}
