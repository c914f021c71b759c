// The reaper in cluster mode: the leader expires abandoned multipart uploads through Raft and
// every node removes its copies of their parts once it applies the removal.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { S3Cluster, until } from './helpers/s3-cluster.ts';

let cluster: S3Cluster | undefined;
after(() => cluster?.stop());

function blobFiles(objectsPath: string): number {
  let n = 0;
  for (const d of readdirSync(objectsPath))
    if (/^[0-9a-f]{2}$/.test(d)) n += readdirSync(path.join(objectsPath, d)).length;
  return n;
}

test('an abandoned multipart upload past its expiry is aborted in a cluster and its parts removed on every node', {
  timeout: 90_000,
}, async () => {
  const TTL_S = 5;
  cluster = await S3Cluster.create(3, {
    clusterYaml: `multipart:\n  upload_ttl_seconds: ${TTL_S}\n  reap_interval_seconds: 1\n`,
  });
  const c = cluster;
  await c.startAll();
  const leader = await c.waitStable();
  const follower = c.nodes.find((n) => n !== leader)!;
  const s3 = c.client(follower);
  await s3.send(new CreateBucketCommand({ Bucket: 'reap' }));
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'reap', Key: 'big' }));
  const t0 = Date.now();
  for (const PartNumber of [1, 2])
    await s3.send(
      new UploadPartCommand({ Bucket: 'reap', Key: 'big', UploadId, PartNumber, Body: Buffer.alloc(8192, PartNumber) }),
    );
  // Every node holds both parts' bytes (replicas: 3) before the expiry.
  assert.ok(
    await until(() => c.nodes.every((n) => blobFiles(n.objectsPath) === 2), (TTL_S - 1) * 1000),
    `parts on disk before the expiry: ${c.nodes.map((n) => blobFiles(n.objectsPath)).join('/')}`,
  );
  const uploads = async (n: (typeof c.nodes)[number]) =>
    (await c.client(n).send(new ListMultipartUploadsCommand({ Bucket: 'reap' }))).Uploads?.length ?? 0;
  assert.deepEqual(await Promise.all(c.nodes.map(uploads)), [1, 1, 1]);

  const gone = await until(
    async () =>
      (await Promise.all(c.nodes.map(uploads))).every((u) => u === 0) &&
      c.nodes.every((n) => blobFiles(n.objectsPath) === 0),
    30_000,
  );
  console.log(
    `reaper: upload gone on every node after ${Date.now() - t0} ms (ttl ${TTL_S} s); ` +
      `part files per node ${c.nodes.map((n) => blobFiles(n.objectsPath)).join('/')}`,
  );
  assert.ok(gone, 'the expired upload and its parts are gone on every node');
  await c.waitConverged();
});
