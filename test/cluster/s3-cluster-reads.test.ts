// Read consistency on a follower cut off from the leader: by default (local) it answers from
// its own replica; with cluster.read_consistency: linearizable it answers 503 (ReadIndex
// cannot be confirmed) within a bounded time, and serves again once the link heals.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { S3Cluster } from './helpers/s3-cluster.ts';

let cluster: S3Cluster | undefined;
afterEach(() => cluster?.stop());

for (const mode of ['local', 'linearizable'] as const) {
  test(`a follower cut off from the leader ${mode === 'local' ? 'still serves reads from its replica' : 'refuses reads with 503 under linearizable reads'}`, {
    timeout: 60_000,
  }, async () => {
    cluster = await S3Cluster.create(3, { proxied: true, clusterYaml: `  read_consistency: ${mode}\n` });
    const c = cluster;
    await c.startAll();
    const leader = await c.waitStable();
    const s3 = c.client(leader);
    await s3.send(new CreateBucketCommand({ Bucket: 'reads-bucket' }));
    await s3.send(new PutObjectCommand({ Bucket: 'reads-bucket', Key: 'k', Body: 'v1' }));
    await c.waitConverged();
    const follower = c.nodes.find((n) => n !== leader)!;
    c.cut(follower, { kind: 'drop' });
    const get = () => c.client(follower).send(new GetObjectCommand({ Bucket: 'reads-bucket', Key: 'k' }));
    const t0 = performance.now();
    if (mode === 'local') assert.equal(await (await get()).Body!.transformToString(), 'v1');
    else
      await assert.rejects(get(), (e: { name: string; $metadata: { httpStatusCode: number } }) => {
        assert.equal(e.$metadata.httpStatusCode, 503);
        return true;
      });
    assert.ok(performance.now() - t0 < 10_000, 'the answer came within 10 s');
    c.healAll();
    await c.waitStable();
    assert.equal(await (await get()).Body!.transformToString(), 'v1');
  });
}
