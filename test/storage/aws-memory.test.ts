// Memory stays flat while a 1 GiB object streams through the aws gateway both ways: the
// gateway runs as its own process (bin/bleepstore --config FILE) over an upstream BleepStore
// process, and its RSS is read from /proc while the bytes flow.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { ACCESS_KEY, REGION, SECRET_KEY } from '../helpers/server.ts';
import { send } from '../helpers/raw.ts';
import { spawnServer, type ServerProcess } from '../helpers/process.ts';
import { GiB, MiB, RssWatch, downloadCounted, signedFor, uploadGenerated } from '../helpers/memory-probe.ts';

let upstream: ServerProcess;
let gateway: ServerProcess;
let dir: string;
let rss: RssWatch;
let putMd5 = '';

const signed = (method: string, pathAndQuery: string) => signedFor(gateway.url, method, pathAndQuery);
const putGenerated = (pathAndQuery: string, size: number) => uploadGenerated(gateway.url, 'PUT', pathAndQuery, size);

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-aws-memory-'));
  // A memory-backed upstream keeps the test's disk traffic to the gateway's own staging.
  const upConfig = path.join(dir, 'upstream.yaml');
  await writeFile(upConfig, 'storage:\n  backend: memory\n');
  upstream = await spawnServer(path.join(dir, 'upstream'), ['--config', upConfig, '--durability', 'normal']);
  const s3 = new S3Client({
    endpoint: upstream.url,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
  });
  await s3.send(new CreateBucketCommand({ Bucket: 'backing' }));
  s3.destroy();
  const config = path.join(dir, 'gateway.yaml');
  // JSON is YAML.
  await writeFile(
    config,
    JSON.stringify({
      storage: {
        backend: 'aws',
        aws: {
          bucket: 'backing',
          prefix: 'gw/',
          endpoint_url: upstream.url,
          use_path_style: true,
          region: REGION,
          access_key_id: ACCESS_KEY,
          secret_access_key: SECRET_KEY,
        },
      },
    }),
  );
  gateway = await spawnServer(path.join(dir, 'gateway'), ['--config', config, '--durability', 'normal']);
  assert.equal((await send('PUT', `${gateway.url}/mem`, signed('PUT', '/mem').headers)).status, 200);
  // Warm the code paths (multipart upload to the upstream included) before the baseline.
  await putGenerated('/mem/warm', 65 * MiB);
  rss = new RssWatch(gateway.pid);
  rss.start();
});

after(async () => {
  rss?.stop();
  await gateway?.kill9();
  await upstream?.kill9();
  await rm(dir, { recursive: true, force: true });
});

test('a 1 GiB PUT through the aws gateway keeps its RSS within a few tens of MiB', { timeout: 60_000 }, async () => {
  const r = await putGenerated('/mem/one-gib', GiB);
  assert.equal(r.status, 200);
  assert.equal(r.etag, `"${r.md5}"`);
  putMd5 = r.md5;
  rss.assertFlat('aws gateway PUT 1 GiB');
});

test('a 1 GiB GET through the aws gateway streams with flat memory and the same bytes', {
  timeout: 60_000,
}, async () => {
  const { size: length, md5 } = await downloadCounted(gateway.url, '/mem/one-gib');
  assert.equal(length, GiB);
  assert.equal(md5, putMd5);
  rss.assertFlat('aws gateway GET 1 GiB');
});
