// Start-up on a gateway costs the same whatever the number of objects: it sends no HEAD per
// blob. The check that every referenced blob exists runs in the background afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createBleepStore } from '../../lib/index.ts';
import { awsBackend } from '../helpers/backend-aws.ts';
import { ACCESS_KEY, REGION, SECRET_KEY } from '../helpers/server.ts';

const OBJECTS = 25;

const count = (logs: readonly string[], op: string) =>
  logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request completed' && l.op === op)
    .length;
const heads = (logs: readonly string[]) => count(logs, 'HeadObject');

test('a gateway starts without listing or HEADing its blobs; the background scrub does both after', async () => {
  const up = await awsBackend('');
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bleepstore-gw-start-'));
  const open = () =>
    createBleepStore({
      overrides: { data_dir: dataDir, logging: { level: 'info', format: 'json' }, storage: up.storage },
      logWrite: () => {},
    });
  try {
    const first = await open();
    const { url } = await first.listen(0, '127.0.0.1');
    const s3 = new S3Client({
      endpoint: url,
      region: REGION,
      forcePathStyle: true,
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'start-up' }));
    for (let i = 0; i < OBJECTS; i++)
      await s3.send(new PutObjectCommand({ Bucket: 'start-up', Key: `k${i}`, Body: `body ${i}` }));
    s3.destroy();
    await first.scrubbed;
    await first.close();

    const mark = up.upstream.logs.length;
    const second = await open();
    assert.equal(heads(up.upstream.logs.slice(mark)), 0, 'HEAD requests during start-up');
    assert.equal(count(up.upstream.logs.slice(mark), 'ListObjectsV2'), 0, 'listings during start-up');
    assert.equal(await second.scrubbed, 0);
    assert.ok(heads(up.upstream.logs.slice(mark)) >= OBJECTS, 'the scrub checked every blob');
    await second.close();
  } finally {
    await up.cleanup();
    await rm(dataDir, { recursive: true, force: true });
  }
});
