// kill -9 during versioned overwrites, delete markers and deletions of versions: after every
// restart each key's acknowledged versions and markers are listed, in acknowledgement order
// (newest first), each version reads back byte for byte by its id, a version deleted by id
// (acknowledged) is gone, only the one operation in flight per key may go either way, and no
// blob is orphaned or missing. (specs/crash-only.md, with the versioning of issue #15)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { signed, type RawResponse } from '../helpers/raw.ts';
import { killUnderLoad, restartScrubbed, spawnServer, type ServerProcess } from '../helpers/process.ts';
import { diskState } from '../helpers/files.ts';

const KILLS = Number(process.env.VERSIONED_CRASH_KILLS ?? 12);
const WORKERS = 4;
const KEYS_PER_WORKER = 3;
const MAX_VERSIONS = 4;
const BUCKET = 'vcrash';

interface Entry {
  id: string;
  /** sha256 of the bytes; null for a delete marker. */
  sha: string | null;
}
type Pending = { add: 'put'; sha: string } | { add: 'marker' } | { remove: string } | null;
interface Slot {
  /** Oldest first. */
  acked: Entry[];
  pending: Pending;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function call(base: string, method: string, pathAndQuery: string, body?: Buffer, headers: Record<string, string> = {}) {
  return signed(method, `${base}${pathAndQuery}`, {
    body,
    payloadHash: 'UNSIGNED-PAYLOAD',
    headers: { ...headers, 'content-length': String(body?.length ?? 0) },
  });
}

function expectOk(r: RawResponse, what: string): void {
  if (r.status >= 300 || r.code) throw Object.assign(new Error(`${what}: ${r.status} ${r.code ?? ''}`), { s3: true });
}

/** Every version and marker of the bucket, per key, newest first. */
async function listAll(base: string): Promise<Map<string, Array<{ id: string; marker: boolean }>>> {
  const out = new Map<string, Array<{ id: string; marker: boolean }>>();
  let query = '';
  for (let page = 0; page < 1000; page++) {
    const r = await call(base, 'GET', `/${BUCKET}?versions&max-keys=7${query}`);
    expectOk(r, 'ListObjectVersions');
    // Version and DeleteMarker elements come interleaved in listing order.
    for (const m of r.text.matchAll(/<(Version|DeleteMarker)>([\s\S]*?)<\/\1>/g)) {
      const key = /<Key>([^<]*)<\/Key>/.exec(m[2]!)![1]!;
      const id = /<VersionId>([^<]*)<\/VersionId>/.exec(m[2]!)![1]!;
      const list = out.get(key) ?? [];
      list.push({ id, marker: m[1] === 'DeleteMarker' });
      out.set(key, list);
    }
    if (!/<IsTruncated>true<\/IsTruncated>/.test(r.text)) return out;
    const nk = /<NextKeyMarker>([^<]*)<\/NextKeyMarker>/.exec(r.text)![1]!;
    const nv = /<NextVersionIdMarker>([^<]*)<\/NextVersionIdMarker>/.exec(r.text)?.[1];
    query = `&key-marker=${encodeURIComponent(nk)}${nv ? `&version-id-marker=${encodeURIComponent(nv)}` : ''}`;
  }
  throw new Error('listing did not end');
}

test(`kill -9 ${KILLS} times during versioned writes loses no acknowledged version`, { timeout: 600_000 }, async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bleepstore-vcrash-'));
  const slots = new Map<string, Slot>();
  const keysOf = (w: number) => Array.from({ length: KEYS_PER_WORKER }, (_, i) => `w${w}/k${i}`);
  for (let w = 0; w < WORKERS; w++) for (const k of keysOf(w)) slots.set(k, { acked: [], pending: null });
  const counts = { kills: 0, puts: 0, markers: 0, versionDeletes: 0, versionsChecked: 0, lost: 0 };

  let srv: ServerProcess = await spawnServer(dataDir);
  expectOk(await call(srv.url, 'PUT', `/${BUCKET}`), 'create bucket');
  expectOk(
    await call(
      srv.url,
      'PUT',
      `/${BUCKET}?versioning`,
      Buffer.from('<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>'),
    ),
    'enable versioning',
  );

  async function step(base: string, key: string): Promise<void> {
    const slot = slots.get(key)!;
    const real = slot.acked.filter((e) => e.sha !== null);
    const roll = randomInt(100);
    if (slot.acked.length >= MAX_VERSIONS || (roll < 15 && slot.acked.length)) {
      const victim = slot.acked[randomInt(slot.acked.length)]!;
      slot.pending = { remove: victim.id };
      const r = await call(base, 'DELETE', `/${BUCKET}/${key}?versionId=${encodeURIComponent(victim.id)}`);
      expectOk(r, `DELETE ${key} version`);
      slot.acked = slot.acked.filter((e) => e.id !== victim.id);
      counts.versionDeletes++;
    } else if (roll < 35 && real.length) {
      slot.pending = { add: 'marker' };
      const r = await call(base, 'DELETE', `/${BUCKET}/${key}`);
      expectOk(r, `DELETE ${key}`);
      assert.equal(r.headers['x-amz-delete-marker'], 'true');
      slot.acked.push({ id: String(r.headers['x-amz-version-id']), sha: null });
      counts.markers++;
    } else {
      // Small (inline in the row) and larger (a blob file) versions.
      const data = randomBytes(roll < 70 ? randomInt(0, 4000) : randomInt(100_000, 600_000));
      slot.pending = { add: 'put', sha: sha(data) };
      const r = await call(base, 'PUT', `/${BUCKET}/${key}`, data);
      expectOk(r, `PUT ${key}`);
      slot.acked.push({ id: String(r.headers['x-amz-version-id']), sha: sha(data) });
      counts.puts++;
    }
    slot.pending = null;
  }

  async function worker(base: string, w: number, stop: { now: boolean }): Promise<void> {
    const keys = keysOf(w);
    while (!stop.now) {
      try {
        await step(base, keys[randomInt(keys.length)]!);
      } catch (err) {
        if (((err as { s3?: boolean }).s3 || err instanceof assert.AssertionError) && !stop.now) throw err;
        return; // the server died under us: the operation in flight stays pending
      }
    }
  }

  async function readSha(base: string, key: string, id: string): Promise<string> {
    const r = await call(base, 'GET', `/${BUCKET}/${key}?versionId=${encodeURIComponent(id)}`);
    assert.equal(r.status, 200, `GET ${key}@${id}: ${r.status} ${r.code}`);
    assert.equal(r.headers['x-amz-version-id'], id);
    return sha(r.body);
  }

  async function verify(base: string): Promise<void> {
    const disk = await diskState(dataDir);
    assert.deepEqual(
      [...disk.files].filter((f) => !disk.referenced.has(f)),
      [],
      'no orphan blob',
    );
    assert.deepEqual(
      [...disk.referenced].filter((f) => !disk.files.has(f)),
      [],
      'every version has its blob',
    );
    const listed = await listAll(base);
    for (const [key, slot] of slots) {
      const seen = listed.get(key) ?? [];
      const expected = [...slot.acked].reverse();
      const ids = (l: Array<{ id: string }>) => l.map((e) => e.id);
      const p = slot.pending;
      let next: Entry[] | undefined;
      if (JSON.stringify(ids(seen)) === JSON.stringify(ids(expected))) next = slot.acked;
      else if (
        p &&
        'remove' in p &&
        JSON.stringify(ids(seen)) === JSON.stringify(ids(expected).filter((i) => i !== p.remove))
      )
        next = slot.acked.filter((e) => e.id !== p.remove);
      else if (p && 'add' in p && JSON.stringify(ids(seen.slice(1))) === JSON.stringify(ids(expected))) {
        const added = seen[0]!;
        assert.equal(added.marker, p.add === 'marker', `${key}: the operation in flight left the right kind`);
        next = [...slot.acked, { id: added.id, sha: p.add === 'put' ? p.sha : null }];
      }
      if (!next) counts.lost++;
      assert.ok(
        next,
        `${key}: listed ${JSON.stringify(seen)}, acknowledged ${JSON.stringify(expected)}, in flight ${JSON.stringify(p)}`,
      );
      for (const [i, e] of [...next].reverse().entries()) {
        assert.equal(seen[i]!.marker, e.sha === null, `${key}@${e.id} is ${e.sha === null ? 'a marker' : 'a version'}`);
        if (e.sha !== null) {
          assert.equal(await readSha(base, key, e.id), e.sha, `${key}@${e.id} reads back byte for byte`);
          counts.versionsChecked++;
        }
      }
      const latest = await call(base, 'GET', `/${BUCKET}/${key}`);
      const top = next[next.length - 1];
      if (!top || top.sha === null) assert.equal(latest.status, 404, `${key}: latest is a marker or nothing`);
      else assert.equal(sha(latest.body), top.sha, `${key}: GET reads the newest version`);
      slot.acked = next;
      slot.pending = null;
    }
  }

  try {
    for (let round = 0; round < KILLS; round++) {
      const outcomes = await killUnderLoad(srv, round, (stop) =>
        Array.from({ length: WORKERS }, (_, w) => worker(srv.url, w, stop)),
      );
      counts.kills++;
      for (const o of outcomes) if (o.status === 'rejected') throw o.reason;
      // Orphans go in the background scrub after start; check once it has run.
      srv = await restartScrubbed(dataDir);
      await verify(srv.url);
    }
  } finally {
    await srv.kill9().catch(() => {});
    console.log(
      `versioned crash test: kills=${counts.kills} puts=${counts.puts} markers=${counts.markers} version_deletes=${counts.versionDeletes} versions_checked=${counts.versionsChecked} lost=${counts.lost}`,
    );
    await rm(dataDir, { recursive: true, force: true });
  }
  assert.ok(counts.puts > 50 && counts.markers > 5 && counts.versionDeletes > 5, JSON.stringify(counts));
});
