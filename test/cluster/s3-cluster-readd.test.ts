// Re-adding a node under the id of a removed one (bin/bleepstore processes): a follower of a
// 3-node cluster is removed under writes, its process and data directory are thrown away, and
// a fresh node with the same name joins with `bleepstore cluster add`. Raft ids derive from
// names, so the leader meets the same id again: it must treat it as a new learner (fresh
// progress, a snapshot, promotion) rather than as the member it removed.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { assertVerdict, verifyAndStop } from './helpers/checker.ts';
import { addAndPromote, members, onLeader } from './helpers/cluster-cli.ts';
import { S3Cluster, until } from './helpers/s3-cluster.ts';
import { Workload } from './helpers/workload.ts';

let cluster: S3Cluster | undefined;
after(() => cluster?.stop());

test('a removed node comes back under the same id with an empty data directory, and nothing acknowledged is lost', {
  timeout: 240_000,
}, async () => {
  cluster = await S3Cluster.create(3);
  const c = cluster;
  await c.startAll();
  const leader = await c.waitStable();
  await c.client(leader).send(new CreateBucketCommand({ Bucket: 'readd' }));
  const w = new Workload(c, 'readd');
  w.start(4);
  assert.ok(await until(() => w.ackedWrites >= 60, 60_000), 'writes before the removal');

  const back = c.nodes.find((n) => n !== leader)!;
  await onLeader(c, ['remove', back.name]);
  await c.kill9(back);
  assert.ok(!(await members(c, leader)).some((m) => m.id === back.name), 'removed');
  const atRemoval = w.ackedWrites;
  assert.ok(await until(() => w.ackedWrites >= atRemoval + 40, 60_000), 'writes go on with two members');

  rmSync(back.dir, { recursive: true, force: true });
  writeFileSync(back.config, `${readFileSync(back.config, 'utf8')}  join: true\n`);
  await c.start(back);
  await addAndPromote(c, back);
  const atReturn = w.ackedWrites;
  assert.ok(await until(() => w.ackedWrites >= atReturn + 40, 60_000), 'writes go on with it back');
  await w.stop();
  await c.waitConverged(60_000);
  const list = (await members(c, leader)).map((m) => m.id).sort();
  const v = await verifyAndStop(c, 'readd', w);
  console.log(
    `re-add: ${back.name} removed and added back empty; members ${list.join(',')}; acknowledged writes ${w.ackedWrites}, ` +
      `reads checked ${v.checked} on ${c.nodes.length} nodes, lost ${v.lost.length}, resurrected ${v.resurrected.length}, ` +
      `blobs missing ${v.missing.join('/')}, exports identical ${v.exportsEqual} at applied index ${v.applied}`,
  );
  assert.deepEqual(list, c.nodes.map((n) => n.name).sort());
  assertVerdict(v, 3);
});
