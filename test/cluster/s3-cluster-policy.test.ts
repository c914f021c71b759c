// A bucket policy is one replicated command: set through one node, it decides requests on
// every node; removed through a follower, it stops deciding everywhere.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { S3Cluster } from './helpers/s3-cluster.ts';

let cluster: S3Cluster | undefined;
afterEach(() => cluster?.stop());

test('a bucket policy set through the leader opens reads on every node, and removed through a follower closes them everywhere', {
  timeout: 60_000,
}, async () => {
  cluster = await S3Cluster.create(3);
  const c = cluster;
  await c.startAll();
  const leader = await c.waitStable();
  const s3 = c.client(leader);
  await s3.send(new CreateBucketCommand({ Bucket: 'policy-cluster' }));
  await s3.send(new PutObjectCommand({ Bucket: 'policy-cluster', Key: 'k', Body: 'public bytes' }));
  const anonymousGet = async (n: (typeof c.nodes)[number]) =>
    (await fetch(`${c.url(n)}/policy-cluster/k`, { signal: AbortSignal.timeout(5000) })).status;
  await c.waitConverged();
  for (const n of c.nodes) assert.equal(await anonymousGet(n), 403, `${n.name} before the policy`);
  await s3.send(
    new PutBucketPolicyCommand({
      Bucket: 'policy-cluster',
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::policy-cluster/*' },
        ],
      }),
    }),
  );
  await c.waitConverged();
  for (const n of c.nodes) assert.equal(await anonymousGet(n), 200, `${n.name} with the policy`);
  const follower = c.nodes.find((n) => n !== leader)!;
  await c.client(follower).send(new DeleteBucketPolicyCommand({ Bucket: 'policy-cluster' }));
  await c.waitConverged();
  for (const n of c.nodes) assert.equal(await anonymousGet(n), 403, `${n.name} after the policy was removed`);
});
