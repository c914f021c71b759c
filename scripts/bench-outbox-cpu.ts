// CPU per object.put command in the metadata store alone, with and without an event stamp and
// a server-wide target: what the outbox costs the writer's thread, without HTTP, brokers or the
// dispatcher. Groups of GROUP commands share a commit (as 16 concurrent PUTs do); with events
// the confirmed rows are deleted every DELETE_EVERY groups, as the dispatcher's batches do.
//   node scripts/bench-outbox-cpu.ts            N=20000 GROUP=16 ROUNDS=5
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MetadataStore } from '../lib/metadata/sqlite.ts';

const N = Number(process.env.N ?? 20_000);
const GROUP = Number(process.env.GROUP ?? 16);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const DELETE_EVERY = 5;
const at = '2026-01-01T00:00:00.000Z';
const owner = 'a1b2c3d4'.repeat(8);
const stamp = { requestId: 'A1B2C3D40000001A', principal: owner, sourceIp: '127.0.0.1', region: 'us-east-1', at };
const acl = { owner: { id: owner, display_name: 'owner' }, grants: [] };

async function run(events: boolean): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bleepstore-outbox-cpu-'));
  const store = new MetadataStore({
    path: path.join(dir, 'm.db'),
    durability: 'off',
    eventTargets: events ? ['q'] : [],
  });
  try {
    await store.submit({
      type: 'bucket.create',
      bucket: { name: 'b', region: 'us-east-1', ownerId: owner, ownerDisplay: 'owner', acl, createdAt: at },
    });
    const outbox = store.outbox();
    const t0 = process.cpuUsage();
    for (let g = 0; g < N / GROUP; g++) {
      const batch = [];
      for (let i = 0; i < GROUP; i++) {
        const key = `k-${g}-${i}`;
        batch.push(
          store.submit({
            type: 'object.put',
            object: {
              bucket: 'b',
              key,
              fileId: '',
              inline: new Uint8Array(1024),
              size: 1024,
              etag: '"0123456789abcdef0123456789abcdef"',
              storageClass: 'STANDARD',
              acl,
              userMetadata: {},
              lastModified: at,
              checksum: null,
              partsCount: null,
              ownerId: owner,
              ownerDisplay: 'owner',
              contentType: 'application/octet-stream',
              contentEncoding: null,
              contentLanguage: null,
              contentDisposition: null,
              cacheControl: null,
              expires: null,
            },
            at,
            ...(events ? { event: stamp } : {}),
          } as never),
        );
      }
      if (events && g % DELETE_EVERY === DELETE_EVERY - 1) {
        const seqs = outbox.pending('q', 1000).map((r) => r.seq);
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
