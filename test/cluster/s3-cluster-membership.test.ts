// Membership at runtime on bin/bleepstore processes: a 4th node started with an empty data
// directory and cluster.join joins through `bleepstore cluster add` sent to a follower's admin
// port, writes go on, the leader itself is removed with `bleepstore cluster remove` sent to a
// follower (leadership moves first), and every acknowledged write is on the rest.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { assertVerdict, verifyAndStop } from './helpers/checker.ts';
import { clusterCli, members } from './helpers/cluster-cli.ts';
import { S3Cluster, until } from './helpers/s3-cluster.ts';
import { Workload } from './helpers/workload.ts';

let cluster: S3Cluster | undefined;
after(() => cluster?.stop());

test('a node joins with `bleepstore cluster add` and the leader leaves with `remove`, both asked of a follower, and every acknowledged write is on the rest', {
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
  // Any node's admin port takes a change: a follower has the leader make it.
  const follower = [n1, n2, n3].find((n) => n !== leader)!;
  const added = await clusterCli(['add', n4.name, `127.0.0.1:${n4.clusterPort}`, '--config', follower.config]);
  assert.equal(added.code, 0, added.err);
  assert.ok(
    await until(async () => (await members(c, leader)).some((m) => m.id === n4.name && !m.learner), 60_000),
    'n4 was not promoted to voter',
  );
  const before = w.ackedWrites;
  await until(() => w.ackedWrites >= before + 40, 60_000);

  // Remove the leader, asked of a follower: leadership moves to another voter first, then the
  // new leader removes it; stop it: writes go on with the other three.
  leader = await c.waitStable(60_000);
  const gone = leader;
  const asked = [n1, n2, n3, n4].find((n) => n !== gone)!;
  const removed = await clusterCli(['remove', gone.name, '--config', asked.config]);
  assert.equal(removed.code, 0, removed.err);
  const next = await c.waitLeader(60_000);
  assert.notEqual(next.name, gone.name, 'another node leads');
  await c.kill9(gone);
  c.nodes.splice(c.nodes.indexOf(gone), 1);
  assert.ok(!(await members(c, next)).some((m) => m.id === gone.name), 'the removed node is no member');
  const mid = w.ackedWrites;
  await until(() => w.ackedWrites >= mid + 40, 60_000);
  await w.stop();

  const v = await verifyAndStop(c, 'members', w);
  console.log(
    `membership: n4 joined through ${follower.name}, the leader ${gone.name} removed through ${asked.name}; acknowledged writes ${w.ackedWrites}, reads checked ${v.checked} (${v.retried} after a transport retry) ` +
      `on ${c.nodes.length} nodes, lost ${v.lost.length}, blobs missing ${v.missing.join('/')}`,
  );
  assertVerdict(v, c.nodes.length);
});
