// Cluster metrics on /metrics of a 3-node bin/bleepstore cluster: Raft term and indexes,
// leadership, proposals, per-peer replication lag and blob repairs, and how they move.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { type ClusterNodeProc, S3Cluster, until } from './helpers/s3-cluster.ts';

let cluster: S3Cluster | undefined;
after(() => cluster?.stop());

type Sample = (name: string, labels?: string) => number | undefined;

async function scrape(c: S3Cluster, n: ClusterNodeProc): Promise<Sample> {
  const text = await (await fetch(`${c.url(n)}/metrics`)).text();
  return (name, labels) => {
    const re = new RegExp(`^${name}${labels ? `\\{${labels}\\}` : ''} (\\S+)$`, 'm');
    const m = re.exec(text);
    return m ? Number(m[1]) : undefined;
  };
}

test('/metrics reports term, indexes, leadership, proposals, replication lag and blob repairs, and they move', {
  timeout: 120_000,
}, async () => {
  cluster = await S3Cluster.create(3);
  const c = cluster;
  await c.startAll();
  const leader = await c.waitStable();
  const [f1, f2] = c.nodes.filter((n) => n !== leader) as [ClusterNodeProc, ClusterNodeProc];
  await c.client(leader).send(new CreateBucketCommand({ Bucket: 'metrics' }));
  await c.waitConverged();

  const l0 = await scrape(c, leader);
  const f0 = await scrape(c, f1);
  assert.equal(l0('bleepstore_raft_is_leader'), 1);
  assert.equal(f0('bleepstore_raft_is_leader'), 0);
  const term0 = l0('bleepstore_raft_term')!;
  assert.ok(term0 >= 1);
  assert.equal(f0('bleepstore_raft_term'), term0);
  assert.ok(l0('bleepstore_raft_commit_index')! >= 2);
  assert.equal(f0('bleepstore_raft_applied_index'), f0('bleepstore_raft_commit_index'));
  assert.ok(l0('bleepstore_raft_leader_changes_total')! >= 1);
  const proposals0 = l0('bleepstore_raft_proposals_total')!;
  assert.ok(proposals0 >= 1, 'the leader proposed the bucket');
  assert.equal(f0('bleepstore_raft_proposals_total'), 0, 'a follower forwards, it does not propose');
  assert.equal(l0('bleepstore_raft_replication_lag_entries', `peer="${f1.name}"`), 0);
  assert.equal(l0('bleepstore_raft_replication_lag_entries', `peer="${f2.name}"`), 0);
  assert.equal(f0('bleepstore_raft_replication_lag_entries', `peer="${f2.name}"`), undefined, 'leader only');
  assert.equal(l0('bleepstore_cluster_blob_repairs_total'), 0);

  // A follower down while 10 blobs are written: its lag grows on the leader; back up, it
  // catches up (lag 0) and repairs the 10 blobs it missed from its peers.
  await c.kill9(f1);
  const W = 10;
  for (let i = 0; i < W; i++)
    await c.client(leader).send(new PutObjectCommand({ Bucket: 'metrics', Key: `k${i}`, Body: Buffer.alloc(4096, i) }));
  const l1 = await scrape(c, leader);
  const lag = l1('bleepstore_raft_replication_lag_entries', `peer="${f1.name}"`)!;
  assert.ok(lag >= W, `lag of the stopped follower: ${lag}`);
  assert.equal(l1('bleepstore_raft_replication_lag_entries', `peer="${f2.name}"`), 0);
  assert.ok(l1('bleepstore_raft_proposals_total')! >= proposals0 + W);
  assert.ok(l1('bleepstore_raft_commit_index')! >= l0('bleepstore_raft_commit_index')! + W);
  await c.start(f1);
  await c.waitConverged();
  let repairs = 0;
  await until(async () => {
    repairs = (await scrape(c, f1))('bleepstore_cluster_blob_repairs_total') ?? 0;
    return repairs >= W;
  }, 20_000);
  assert.ok(repairs >= W, `blobs repaired on the restarted follower: ${repairs}`);
  assert.ok(
    await until(
      async () => (await scrape(c, leader))('bleepstore_raft_replication_lag_entries', `peer="${f1.name}"`) === 0,
      10_000,
    ),
  );

  // The leader killed: the new one is in a higher term and counts the change.
  await c.kill9(leader);
  const next = await c.waitStable();
  const n2 = await scrape(c, next);
  assert.equal(n2('bleepstore_raft_is_leader'), 1);
  assert.ok(n2('bleepstore_raft_term')! > term0);
  const changes = n2('bleepstore_raft_leader_changes_total')!;
  assert.ok(changes >= 2, `leader changes seen by the new leader: ${changes}`);
  console.log(
    `metrics: lag of a stopped follower after ${W} writes ${lag} entries, blobs repaired ${repairs}, ` +
      `term ${term0} -> ${n2('bleepstore_raft_term')}, leader changes ${changes}`,
  );
});
