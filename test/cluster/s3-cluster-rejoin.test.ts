// A node whose data directory was lost (wiped while it was down) rejoins a bin/bleepstore
// cluster whose leader has compacted its log: it installs a snapshot of the metadata, its
// blob repair fetches every object's bytes from the others, and the checker finds every
// acknowledged write on every node and identical metadata exports.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { S3Cluster } from './helpers/s3-cluster.ts';
import { Workload } from './helpers/workload.ts';
import { assertVerdict, missingBlobs, verifyAndStop } from './helpers/checker.ts';

const BUCKET = 'rejoin-bucket';
let cluster: S3Cluster | undefined;
after(() => cluster?.stop());

async function until(what: string, fn: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a node restarted with an empty data directory rejoins by snapshot and blob repair', {
  timeout: 180_000,
}, async () => {
  cluster = await S3Cluster.create(3, { clusterYaml: '  snapshot_interval: 40\n  snapshot_threshold: 10\n' });
  const c = cluster;
  await c.startAll();
  const leader = await c.waitStable();
  await c.client(leader).send(new CreateBucketCommand({ Bucket: BUCKET }));
  const w = new Workload(c, BUCKET);
  w.start(4);
  await until('100 acknowledged writes', () => w.ackedWrites >= 100);
  const lost = c.nodes.find((n) => n !== leader)!;
  await c.kill9(lost);
  rmSync(lost.dir, { recursive: true, force: true });
  mkdirSync(lost.dir);
  const at = w.ackedWrites;
  await until('100 more acknowledged writes', () => w.ackedWrites >= at + 100);
  const leaderSnap = (await c.health(leader))!.snapshot_index;
  await c.start(lost);
  await w.pause();
  await c.waitStable().catch((err: Error) => {
    throw new Error(
      `${err.message}\n${c.nodes.map((n) => n.name + ' said: ' + n.proc?.troubles().join(' | ')).join('\n')}`,
    );
  });
  await c.waitConverged();
  const h = (await c.health(lost))!;
  assert.ok(h.snapshot_index > 0, `the wiped node installed a snapshot (leader's at ${leaderSnap})`);
  // Until its next compaction the node keeps the installed snapshot's state file, which its
  // raft.db refers to: a crash between recording the snapshot and restoring the database from
  // it, or a database lost meanwhile, restores from the file at the next start.
  const raftDir = path.join(lost.dir, 'raft');
  const kept = readdirSync(raftDir).filter((f) => /^raft\.db-snapshot-\d+\.db$/.test(f));
  assert.equal(kept.length, 1, `one kept snapshot file in ${readdirSync(raftDir).join(', ')}`);
  await c.kill9(lost);
  for (const f of ['', '-wal', '-shm']) rmSync(`${lost.metadataPath}${f}`, { force: true });
  await c.start(lost);
  await c.waitConverged();
  // Repair, not fetch-on-miss: the bytes arrive before anything reads them.
  await until('the blob repair fetched every blob', () => missingBlobs(lost.metadataPath, lost.objectsPath) === 0);
  await w.stop();
  const v = await verifyAndStop(c, BUCKET, w);
  console.log(
    `rejoin: acknowledged writes ${w.ackedWrites}, reads checked ${v.checked}, lost ${v.lost.length}, ` +
      `snapshot installed at ${h.snapshot_index}, applied index ${v.applied}, blobs missing per node: ${v.missing.join('/')}, orphaned: ${v.orphans.join('/')}`,
  );
  assertVerdict(v, 3);
});
