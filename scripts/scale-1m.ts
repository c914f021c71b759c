// Scale check for the write path (issue #11), not a timed test: fills a store with
// 1,000,000 objects straight through submit() in big group commits, then prints how long a
// /metrics scrape takes (target < 5 ms: the gauges read bucket_stats, not objects) and how
// long start-up to ready takes (target < 2 s: no per-object work at start).
//   npm run bench:scale            (OBJECTS=200000 npm run bench:scale for a quicker run)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnServer } from '../test/helpers/process.ts';
import { MetadataStore } from '../lib/metadata/sqlite.ts';
import { objectRecord } from '../lib/metadata/commands.ts';
import type { Acl, ObjectRow } from '../lib/metadata/types.ts';

const OBJECTS = Number(process.env.OBJECTS ?? 1_000_000);
const PER_TURN = 10_000;
const BUCKETS = 4;
const SCRAPES = 50;

const owner = { id: 'f'.repeat(64), display_name: 'scale' };
const acl: Acl = {
  owner,
  grants: [
    { grantee: { type: 'CanonicalUser', id: owner.id, display_name: owner.display_name }, permission: 'FULL_CONTROL' },
  ],
};
const at = new Date().toISOString();

function object(i: number): ObjectRow {
  const body = Buffer.from(`object ${i}`);
  return {
    bucket: `scale-${i % BUCKETS}`,
    key: `dir-${Math.floor(i / 1000)}/key-${i}`,
    fileId: '',
    inline: body,
    size: body.length,
    etag: '"0123456789abcdef0123456789abcdef"',
    contentType: 'text/plain',
    contentEncoding: null,
    contentLanguage: null,
    contentDisposition: null,
    cacheControl: null,
    expires: null,
    storageClass: 'STANDARD',
    acl,
    userMetadata: {},
    lastModified: at,
    checksum: null,
    partsCount: null,
    ownerId: owner.id,
    ownerDisplay: owner.display_name,
  };
}

const ms = (t0: number) => performance.now() - t0;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-scale-'));
try {
  const store = new MetadataStore({ path: path.join(dir, 'metadata.db'), durability: 'normal' });
  let t0 = performance.now();
  for (let b = 0; b < BUCKETS; b++) {
    await store.submit({
      type: 'bucket.create',
      bucket: {
        name: `scale-${b}`,
        region: 'us-east-1',
        ownerId: owner.id,
        ownerDisplay: owner.display_name,
        acl,
        createdAt: at,
      },
    });
  }
  for (let i = 0; i < OBJECTS; i += PER_TURN) {
    const turn: Array<Promise<unknown>> = [];
    for (let j = i; j < Math.min(OBJECTS, i + PER_TURN); j++)
      turn.push(store.submit({ type: 'object.put', object: objectRecord(object(j)), at }));
    await Promise.all(turn);
    if ((i / PER_TURN) % 20 === 19)
      process.stderr.write(`  ${i + PER_TURN} objects, ${(ms(t0) / 1000).toFixed(1)} s\n`);
  }
  const fill = ms(t0);
  const stats = store.stats();
  store.close();
  console.log(
    `populated ${stats.objects} objects (${stats.bytes} bytes) in ${stats.buckets} buckets through submit: ${(fill / 1000).toFixed(1)} s (${Math.round(OBJECTS / (fill / 1000))} commands/s)`,
  );

  t0 = performance.now();
  const srv = await spawnServer(dir, ['--durability', 'normal']);
  const ready = ms(t0);
  try {
    const times: number[] = [];
    let gauge = '';
    for (let i = 0; i < SCRAPES; i++) {
      const t = performance.now();
      const text = await (await fetch(`${srv.url}/metrics`)).text();
      times.push(ms(t));
      gauge = /^bleepstore_objects_total (\d+)/m.exec(text)?.[1] ?? '?';
    }
    console.log(`start-up to ready (process spawn until the "ready" log line): ${ready.toFixed(0)} ms (target < 2000)`);
    console.log(
      `/metrics scrape over HTTP, ${SCRAPES} scrapes: median ${pct(times, 0.5).toFixed(2)} ms, p99 ${pct(times, 0.99).toFixed(2)} ms, first ${times[0]!.toFixed(2)} ms (target < 5); bleepstore_objects_total ${gauge}`,
    );
  } finally {
    srv.proc.kill('SIGTERM');
    await srv.exited;
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
