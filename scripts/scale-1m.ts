// Scale check for the write path (issue #11), not a timed test: fills a store with
// 1,000,000 objects straight through submit() in big group commits, then prints how long a
// /metrics scrape takes (target < 5 ms: the gauges read bucket_stats, not objects) and how
// long start-up to ready takes (target < 2 s: no per-object work at start); then, against the
// same server process kind on an empty store and on the full one (issue #17): ListObjectsV2
// page p50 (target < 10 ms), GET and PUT 1 KiB p50 (target: within 10% of empty) and RSS
// (target: within 20 MiB of empty). "Empty" is a store of 2,000 objects, so its list pages are
// full pages too. 10,000 buckets; nine objects in ten go to the first one.
//   npm run bench:scale            (OBJECTS=200000 npm run bench:scale for a quicker run)
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { rssBytes, spawnServer, type ServerProcess } from '../test/helpers/process.ts';
import { send } from '../test/helpers/raw.ts';
import { signedFor } from '../test/helpers/memory-probe.ts';
import { MetadataStore } from '../lib/metadata/sqlite.ts';
import { objectRecord } from '../lib/metadata/commands.ts';
import type { Acl, ObjectRow } from '../lib/metadata/types.ts';
import { ownerIdFor } from '../lib/auth/owner.ts';

const OBJECTS = Number(process.env.OBJECTS ?? 1_000_000);
const PER_TURN = 10_000;
const BUCKETS = Number(process.env.BUCKETS ?? 10_000);
const PROBES = 300;
const SCRAPES = 50;

// The default credentials' owner, so the probes (signed with them) may read and write.
const owner = { id: ownerIdFor('bleepstore'), display_name: 'bleepstore' };
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
    bucket: i % 10 === 0 ? `scale-${(i / 10) % BUCKETS}` : 'scale-0',
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

interface Probe {
  list: number;
  get: number;
  put: number;
  rss: number;
  /** The file-backed part of RSS: the node binary and libraries (SQLite maps no database file). */
  rssFile: number;
}

function rssFileBytes(pid: number): number {
  return Number(/RssFile:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
}

/** p50 of sequential signed requests over one keep-alive agent-free socket each (raw.ts). */
async function p50(n: number, one: (i: number) => Promise<void>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await one(i);
    times.push(ms(t));
  }
  return pct(times, 0.5);
}

async function probe(srv: ServerProcess, keys: number): Promise<Probe> {
  const call = async (method: string, pathAndQuery: string, body?: string) => {
    const headers: Record<string, string> = body === undefined ? {} : { 'content-length': String(body.length) };
    const r = await send(
      method,
      `${srv.url}${pathAndQuery}`,
      signedFor(srv.url, method, pathAndQuery, headers).headers,
      body,
    );
    if (r.status !== 200) throw new Error(`${method} ${pathAndQuery}: ${r.status} ${r.text.slice(0, 200)}`);
  };
  const kib = 'x'.repeat(1024);
  // Warm-up, so both stores are measured hot.
  for (let i = 0; i < 50; i++) await call('PUT', `/scale-0/probe-${i}`, kib);
  const list = await p50(PROBES / 3, async (i) => {
    const start = keys ? `dir-${Math.floor(((i * 7919) % keys) / 1000)}/` : '';
    await call('GET', `/scale-0?list-type=2&max-keys=1000&start-after=${encodeURIComponent(start)}`);
  });
  const put = await p50(PROBES, (i) => call('PUT', `/scale-0/probe-${i % 50}`, kib));
  const get = await p50(PROBES, (i) => call('GET', `/scale-0/probe-${i % 50}`));
  return { list, get, put, rss: rssBytes(srv.pid), rssFile: rssFileBytes(srv.pid) };
}

async function createBuckets(store: MetadataStore, n: number): Promise<void> {
  const turn: Array<Promise<unknown>> = [];
  for (let b = 0; b < n; b++)
    turn.push(
      store.submit({
        type: 'bucket.create',
        bucket: {
          name: `scale-${b}`,
          region: 'us-east-1',
          ownerId: owner.id,
          ownerDisplay: owner.display_name,
          acl,
          createdAt: at,
        },
      }),
    );
  await Promise.all(turn);
}

// The empty store: one bucket, the same server flags.
const emptyDir = await mkdtemp(path.join(tmpdir(), 'bleepstore-scale-empty-'));
let empty: Probe;
try {
  // 2,000 objects, so its list pages are full pages of 1000 like the big store's.
  const store = new MetadataStore({ path: path.join(emptyDir, 'metadata.db'), durability: 'normal' });
  await createBuckets(store, 1);
  await Promise.all(
    Array.from({ length: 2000 }, (_, i) =>
      store.submit({ type: 'object.put', object: objectRecord({ ...object(i * 10 + 1), bucket: 'scale-0' }), at }),
    ),
  );
  store.close();
  const srv = await spawnServer(emptyDir, ['--durability', 'normal']);
  try {
    empty = await probe(srv, 2000);
  } finally {
    srv.proc.kill('SIGTERM');
    await srv.exited;
  }
} finally {
  await rm(emptyDir, { recursive: true, force: true });
}

const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-scale-'));
try {
  const store = new MetadataStore({ path: path.join(dir, 'metadata.db'), durability: 'normal' });
  let t0 = performance.now();
  await createBuckets(store, BUCKETS);
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
    const full = await probe(srv, Math.floor(OBJECTS * 0.9));
    const MiB = 1024 * 1024;
    console.log(
      `ListObjectsV2 page of 1000, p50: ${full.list.toFixed(2)} ms (2,000-object store ${empty.list.toFixed(2)} ms; target < 10)`,
    );
    console.log(
      `GET 1 KiB p50: ${full.get.toFixed(2)} ms vs ${empty.get.toFixed(2)} ms small (${(full.get / empty.get).toFixed(2)}x; target <= 1.10x)`,
    );
    console.log(
      `PUT 1 KiB p50: ${full.put.toFixed(2)} ms vs ${empty.put.toFixed(2)} ms small (${(full.put / empty.put).toFixed(2)}x; target <= 1.10x)`,
    );
    const anon = (p: Probe) => (p.rss - p.rssFile) / MiB;
    console.log(
      `RSS after the probes: ${(full.rss / MiB).toFixed(1)} MiB vs ${(empty.rss / MiB).toFixed(1)} MiB small (+${((full.rss - empty.rss) / MiB).toFixed(1)} MiB; target < 20); file-backed ${(full.rssFile / MiB).toFixed(1)} vs ${(empty.rssFile / MiB).toFixed(1)} MiB, anonymous +${(anon(full) - anon(empty)).toFixed(1)} MiB`,
    );
  } finally {
    srv.proc.kill('SIGTERM');
    await srv.exited;
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
