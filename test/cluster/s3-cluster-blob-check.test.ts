// The periodic blob check on bin/bleepstore processes: between full passes (here none: one an
// hour) a node checks the blobs of the writes it applied since its last check, so a follower
// whose copies never arrived (the leader's pushes to it failed while Raft reached it) fetches
// them within a check interval, with no leader change and no full pass to bring them.
// The fault proxy refuses the blob pushes to that follower and its own fetches until the heal.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { missingBlobs } from './helpers/checker.ts';
import { S3Cluster, until } from './helpers/s3-cluster.ts';

let cluster: S3Cluster | undefined;
after(() => cluster?.stop());

test('a follower the blob pushes did not reach fetches the blobs of the writes it applied at its next check, without a full pass', {
  timeout: 120_000,
}, async () => {
  cluster = await S3Cluster.create(3, { proxied: true, orphanSweepSeconds: 3600 });
  const c = cluster;
  await c.startAll();
  const leader = await c.waitStable();
  const follower = c.nodes.find((n) => n !== leader)!;
  await c.client(leader).send(new CreateBucketCommand({ Bucket: 'checks' }));
  await new Promise((r) => setTimeout(r, 3000)); // the start-up full passes are done
  const term = (await c.health(leader))!.term;

  // Raft reaches the follower; blob pushes to it and its own fetches do not.
  c.cut(follower, { kind: 'refuse', prefix: 'PUT /cluster/blob/' }, 'to');
  c.cut(follower, { kind: 'refuse', prefix: 'GET /cluster/blob/' }, 'from');
  const N = 12;
  for (let i = 0; i < N; i++)
    await c.client(leader).send(new PutObjectCommand({ Bucket: 'checks', Key: `k${i}`, Body: randomBytes(4096) }));
  await c.waitConverged();
  const missing = missingBlobs(follower.metadataPath, follower.objectsPath);
  assert.equal(missing, N, 'the follower applied the writes without their bytes');
  c.healAll();

  const t0 = Date.now();
  const mended = await until(() => missingBlobs(follower.metadataPath, follower.objectsPath) === 0, 15_000);
  const took = Date.now() - t0;
  assert.ok(mended, `the follower still lacks ${missingBlobs(follower.metadataPath, follower.objectsPath)} blobs`);
  const after = await Promise.all(c.nodes.map((n) => c.health(n)));
  assert.ok(
    after.every((h) => h?.term === term && h.leader === leader.name),
    `the leader changed (a full pass would have run): ${JSON.stringify(after)}`,
  );
  // Log lines are flushed in batches: the check's own line may follow its last fetch.
  const logs = follower.proc!.logs;
  const fetchedByCheck = () => logs.some((e) => e.msg === 'blob check done' && Number(e.fetched) > 0);
  assert.ok(await until(fetchedByCheck, 5000), `no blob check fetched anything: ${JSON.stringify(logs.slice(-20))}`);
  const checks = logs.filter((e) => e.msg === 'blob check done');
  assert.equal(
    logs.filter((e) => e.msg === 'blob repair done' && Number(e.fetched) > 0).length,
    0,
    'a full pass fetched them',
  );
  console.log(
    `blob check: ${N} blobs missing on ${follower.name} after its pushes were refused, fetched in ${took} ms by ${checks.length} check(s)`,
  );
});
