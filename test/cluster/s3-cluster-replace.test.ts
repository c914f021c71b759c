// Replacing a node on bin/bleepstore processes (README "Replacing a node"): under a write
// workload the leader of a 3-node cluster is destroyed (kill -9, data directory deleted), is
// removed with `bleepstore cluster remove`, and a new node with a new id and an empty data
// directory joins with `bleepstore cluster add`. Every acknowledged write is then read from
// every node, and every referenced blob is on every node again (replicas: 3).
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, test } from 'node:test';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { assertVerdict, verifyAndStop } from './helpers/checker.ts';
import { addAndPromote, members, onLeader } from './helpers/cluster-cli.ts';
import { type ClusterNodeProc, S3Cluster, until } from './helpers/s3-cluster.ts';
import { Workload } from './helpers/workload.ts';

let cluster: S3Cluster | undefined;
after(() => cluster?.stop());

test('a destroyed node is replaced by a new one (remove, then add) under writes, and nothing acknowledged is lost', {
  timeout: 240_000,
}, async () => {
  cluster = await S3Cluster.create(4);
  const c = cluster;
  const [n1, n2, n3, n4] = c.nodes as [ClusterNodeProc, ClusterNodeProc, ClusterNodeProc, ClusterNodeProc];
  // n1..n3 are the cluster; n4 is the replacement, configured as a joiner.
  c.configureJoiner(n4);
  await Promise.all([n1, n2, n3].map((n) => c.start(n)));
  const first = await c.waitStable();
  await c.client(first).send(new CreateBucketCommand({ Bucket: 'replace' }));
  const w = new Workload(c, 'replace');
  w.start(4);
  assert.ok(await until(() => w.ackedWrites >= 60, 60_000), 'writes before the failure');

  // The leader's machine is lost: process and disk.
  const dead = first;
  await c.kill9(dead);
  rmSync(dead.dir, { recursive: true, force: true });
  c.nodes.splice(c.nodes.indexOf(dead), 1);
  const atLoss = w.ackedWrites;
  assert.ok(await until(() => w.ackedWrites >= atLoss + 30, 60_000), 'writes go on with two of three');

  // 1. Remove the dead member on the (new) leader; 2. add the replacement under a new id.
  const leader = await c.waitStable(60_000);
  await onLeader(c, ['remove', dead.name]);
  assert.ok(!(await members(c, leader)).some((m) => m.id === dead.name), 'the dead node is no member');
  await c.start(n4);
  await addAndPromote(c, n4);
  const atJoin = w.ackedWrites;
  assert.ok(await until(() => w.ackedWrites >= atJoin + 40, 60_000), 'writes go on with the replacement');
  await w.stop();

  const list = (await members(c, leader)).map((m) => m.id).sort();
  await c.waitConverged(60_000);
  const metrics = await (await fetch(`${c.url(n4)}/metrics`)).text();
  const repaired = /^bleepstore_cluster_blob_repairs_total (\d+)/m.exec(metrics)?.[1];
  const v = await verifyAndStop(c, 'replace', w);
  console.log(
    `replace: ${dead.name} destroyed (leader), removed, n4 added; members ${list.join(',')}; acknowledged writes ` +
      `${w.ackedWrites} (failed ${w.failed}: ${JSON.stringify(Object.fromEntries(w.errors))}), blobs n4 fetched ${repaired}, keys ${w.live.size}, reads checked ${v.checked} on ${c.nodes.length} nodes, ` +
      `lost ${v.lost.length}, resurrected ${v.resurrected.length}, blobs missing ${v.missing.join('/')}, ` +
      `exports identical ${v.exportsEqual} at applied index ${v.applied}`,
  );
  assert.deepEqual(list, c.nodes.map((n) => n.name).sort(), 'members are the survivors and n4');
  assertVerdict(v, c.nodes.length);
});
