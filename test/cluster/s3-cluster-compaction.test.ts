// Log compaction in a bin/bleepstore cluster copies no metadata: the database, synced at the
// applied index, stands for the compacted log, and a snapshot is copied (on a worker thread)
// only when a follower needs one. The test compacts often under writes, kills all three nodes
// at once, restarts them, loses one node's metadata database alone (it must refuse to start
// and say what to remove), and checks every acknowledged write afterwards.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { rmSync } from 'node:fs';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { ADMIN_TOKEN, S3Cluster, until } from './helpers/s3-cluster.ts';
import type { ClusterNodeProc } from './helpers/s3-cluster.ts';
import { Workload } from './helpers/workload.ts';
import { assertVerdict, missingBlobs, verifyAndStop } from './helpers/checker.ts';

const BUCKET = 'compaction-bucket';
let cluster: S3Cluster | undefined;
after(() => cluster?.stop());

async function snapshotNow(n: ClusterNodeProc): Promise<{ snapshot_index: number; size_bytes: number }> {
  const r = await fetch(`http://127.0.0.1:${n.adminPort}/admin/cluster/raft/snapshot`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  assert.equal(r.status, 200);
  return (await r.json()) as { snapshot_index: number; size_bytes: number };
}

const removeFiles = (file: string): void => {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
};

test('log compaction copies no metadata, survives kill -9 of every node, and a node that lost only its metadata database refuses to start', {
  timeout: 240_000,
}, async () => {
  cluster = await S3Cluster.create(3, { clusterYaml: '  snapshot_interval: 30\n  snapshot_threshold: 10\n' });
  const c = cluster;
  await c.startAll();
  const leader = await c.waitStable();
  await c.client(leader).send(new CreateBucketCommand({ Bucket: BUCKET }));
  const w = new Workload(c, BUCKET);
  w.start(4);
  assert.ok(await until(() => w.ackedWrites >= 150, 60_000), 'no 150 acknowledged writes');

  // Compaction has run many times (every 30 entries): the Raft storage's snapshot holds the
  // member directory only, not a copy of a metadata database holding 150+ objects.
  for (const n of c.nodes) {
    const s = await snapshotNow(n);
    assert.ok(s.snapshot_index > 100, `${n.name} compacted (snapshot at ${s.snapshot_index})`);
    assert.ok(s.size_bytes < 1024, `${n.name}'s Raft snapshot holds ${s.size_bytes} bytes: a copy of the metadata`);
  }

  // kill -9 of all three at once, mid-write: each node's database must stand for its
  // compacted log (it was synced at the snapshot index before the log was cut).
  await Promise.all(c.nodes.map((n) => c.kill9(n)));
  await w.pause();
  await c.startAll();
  await c.waitStable();
  w.resume();
  const at = w.ackedWrites;
  assert.ok(await until(() => w.ackedWrites >= at + 60, 60_000), 'no writes after the restart');

  // A follower loses its metadata database but keeps its compacted Raft log: it cannot
  // rebuild the state from a log that starts after a snapshot it no longer holds.
  const leader2 = await c.waitStable();
  const victim = c.nodes.find((n) => n !== leader2)!;
  const metadataPath = victim.metadataPath;
  await c.kill9(victim);
  removeFiles(metadataPath);
  let raftDb = '';
  await assert.rejects(c.start(victim), (err: Error) => {
    const m = /metadata database was lost or replaced\. Remove (\S+raft\.db) too/.exec(err.message);
    assert.ok(m, err.message);
    assert.doesNotMatch(err.message, /at .*node\.ts/, 'one sentence, no stack trace');
    raftDb = m[1]!;
    return true;
  });
  removeFiles(raftDb);
  await c.start(victim);
  await w.pause();
  await c.waitStable();
  await c.waitConverged();
  assert.ok(
    await until(() => missingBlobs(victim.metadataPath, victim.objectsPath) === 0, 30_000),
    'the blob repair did not bring the rejoined node its blobs',
  );
  await w.stop();
  const v = await verifyAndStop(c, BUCKET, w);
  console.log(
    `compaction: acknowledged writes ${w.ackedWrites}, reads checked ${v.checked}, lost ${v.lost.length}, applied index ${v.applied}, ` +
      `blobs missing per node: ${v.missing.join('/')}, orphaned: ${v.orphans.join('/')}`,
  );
  assertVerdict(v, 3);
});
