// Membership at runtime on bin/bleepstore processes: a 4th node started with an empty data
// directory and cluster.join joins through `bleepstore cluster add`, writes go on, another node
// is removed with `bleepstore cluster remove`, and every acknowledged write is on the rest.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { assertVerdict, verifyAndStop } from './helpers/checker.ts';
import { addAndPromote, clusterCli, members } from './helpers/cluster-cli.ts';
import { S3Cluster, until } from './helpers/s3-cluster.ts';
import { Workload } from './helpers/workload.ts';

let cluster: S3Cluster | undefined;
after(() => cluster?.stop());

test('a node joins with `bleepstore cluster add`, another leaves with `remove`, and every acknowledged write is on the rest', {
  timeout: 300_000,
}, async () => {
  cluster = await S3Cluster.create(4);
  const c = cluster;
  const [n1, n2, n3, n4] = c.nodes as [
    (typeof c.nodes)[0],
    (typeof c.nodes)[0],
    (typeof c.nodes)[0],
    (typeof c.nodes)[0],
  ];
  // The first three know only each other; n4 knows all four and joins.
  c.configureJoiner(n4);
  await Promise.all([n1, n2, n3].map((n) => c.start(n)));
  let leader = await c.waitStable();
  await c.client(leader).send(new CreateBucketCommand({ Bucket: 'members' }));
  const w = new Workload(c, 'members');
  w.start(4);
  await until(() => w.ackedWrites >= 40, 60_000);

  await c.start(n4);
  await addAndPromote(c, n4);
  const before = w.ackedWrites;
  await until(() => w.ackedWrites >= before + 40, 60_000);

  // Remove a follower that is not n4, then stop it: writes go on with n1..n4 minus it.
  leader = await c.waitStable(60_000);
  const gone = [n1, n2, n3].find((n) => n !== leader)!;
  const removed = await clusterCli(['remove', gone.name, '--config', leader.config]);
  assert.equal(removed.code, 0, removed.err);
  await c.kill9(gone);
  c.nodes.splice(c.nodes.indexOf(gone), 1);
  assert.ok(!(await members(c, leader)).some((m) => m.id === gone.name), 'the removed node is no member');
  const mid = w.ackedWrites;
  await until(() => w.ackedWrites >= mid + 40, 60_000);
  await w.stop();

  const v = await verifyAndStop(c, 'members', w);
  console.log(
    `membership: n4 joined, ${gone.name} removed; acknowledged writes ${w.ackedWrites}, reads checked ${v.checked} (${v.retried} after a transport retry) ` +
      `on ${c.nodes.length} nodes, lost ${v.lost.length}, blobs missing ${v.missing.join('/')}`,
  );
  assertVerdict(v, c.nodes.length);
});
