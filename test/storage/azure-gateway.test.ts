// The azure gateway against Azurite (started per test): what reaches the container, and what
// S3 clients see when the upstream goes away or loses a blob.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { createBleepStore, type BleepStore } from '../../lib/index.ts';
import { blockId, blockRanges } from '../../lib/storage/azure.ts';
import {
  AZURITE_ACCOUNT,
  AZURITE_KEY,
  PREFIX,
  azureStorage,
  startAzurite,
  type Azurite,
} from '../helpers/backend-azure.ts';
import { sdkError } from '../helpers/s3-assert.ts';
import { ACCESS_KEY, REGION, SECRET_KEY, bodyBytes } from '../helpers/server.ts';

const MiB = 1024 * 1024;
const BUCKET = 'az-test';

interface Gateway {
  store: BleepStore;
  url: string;
  logs: string[];
  s3: S3Client;
  dataDir: string;
  stop(): Promise<void>;
}

async function startGateway(storage: object): Promise<Gateway> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bleepstore-azure-'));
  const logs: string[] = [];
  const store = await createBleepStore({
    overrides: { data_dir: dataDir, logging: { level: 'info', format: 'json' }, storage },
    logWrite: (line) => void logs.push(line),
  }).catch(async (err: unknown) => {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  });
  const { url } = await store.listen(0, '127.0.0.1');
  // One attempt: the SDK would otherwise retry the 503s these tests expect.
  const s3 = new S3Client({
    endpoint: url,
    region: REGION,
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
  });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  return {
    store,
    url,
    logs,
    s3,
    dataDir,
    async stop() {
      s3.destroy();
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function blobNames(az: Azurite): Promise<string[]> {
  const names: string[] = [];
  for await (const b of az.container.listBlobsFlat({ prefix: PREFIX })) names.push(b.name);
  return names;
}

describe('azure gateway', () => {
  let az: Azurite;
  let gw: Gateway;

  before(async () => {
    az = await startAzurite();
    gw = await startGateway(azureStorage(az));
  });
  after(async () => {
    await gw.stop();
    await az.kill();
  });

  test('an object is one block blob named by the prefix and a blob id, read back whole and in ranges', async () => {
    const body = randomBytes(300_000);
    await gw.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'dir/a.bin', Body: body }));
    const names = await blobNames(az);
    assert.equal(names.length, 1);
    assert.match(names[0]!, /^objects\/[0-9a-f]{32}$/);
    const whole = await gw.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'dir/a.bin' }));
    assert.deepEqual(await bodyBytes(whole.Body), body);
    const part = await gw.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'dir/a.bin', Range: 'bytes=1000-1999' }));
    assert.deepEqual(await bodyBytes(part.Body), body.subarray(1000, 2000));
  });

  test('a multipart Complete commits the parts as staged blocks of one blob, in order', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(MiB + 7)];
    const { UploadId } = await gw.s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mpu' }));
    const done = [];
    for (const [i, Body] of parts.entries()) {
      const r = await gw.s3.send(
        new UploadPartCommand({ Bucket: BUCKET, Key: 'mpu', UploadId, PartNumber: i + 1, Body }),
      );
      done.push({ PartNumber: i + 1, ETag: r.ETag! });
    }
    await gw.s3.send(
      new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'mpu', UploadId, MultipartUpload: { Parts: done } }),
    );
    const got = await gw.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'mpu' }));
    assert.deepEqual(await bodyBytes(got.Body), Buffer.concat(parts));

    // Azurite answers Put Block From URL with 501, so here the blocks were streamed through
    // the gateway; either way the object is one Put Block List of one block per part.
    const sizes: number[][] = [];
    for (const name of await blobNames(az)) {
      const list = await az.container.getBlockBlobClient(name).getBlockList('committed');
      sizes.push((list.committedBlocks ?? []).map((b) => b.size));
    }
    assert.ok(
      sizes.some((s) => s.join() === parts.map((p) => p.length).join()),
      `block lists seen: ${JSON.stringify(sizes)}`,
    );
  });

  test('a blob deleted behind the gateway answers InternalError and the log names its file id', async () => {
    const before = new Set(await blobNames(az));
    await gw.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'doomed', Body: 'bytes' }));
    const added = (await blobNames(az)).filter((n) => !before.has(n));
    assert.equal(added.length, 1);
    await az.container.getBlobClient(added[0]!).delete();

    const err = await sdkError(gw.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'doomed' })));
    assert.equal(err.name, 'InternalError');
    assert.equal(err.$metadata.httpStatusCode, 500);
    const fileId = added[0]!.slice(PREFIX.length);
    const line = gw.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.file_id === fileId);
    assert.ok(line, `no log line names ${fileId}`);
    assert.equal(line.level, 'error');
    assert.match(String(line.msg), /missing/);
  });
});

describe('azure gateway with the upstream gone', () => {
  test('an unreachable Azure answers 503 ServiceUnavailable, /readyz says so, and the server keeps serving', async () => {
    const az = await startAzurite();
    const gw = await startGateway(azureStorage(az));
    try {
      await gw.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k', Body: 'hello' }));
      assert.equal((await fetch(`${gw.url}/readyz`)).status, 200);
      await az.kill();

      for (const p of [
        gw.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'k' })),
        gw.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k2', Body: 'more' })),
      ]) {
        const err = await sdkError(p);
        assert.equal(err.name, 'ServiceUnavailable');
        assert.equal(err.$metadata.httpStatusCode, 503);
      }
      assert.equal((await fetch(`${gw.url}/readyz`)).status, 503);
      // Metadata still answers: listing and HEAD need no upstream.
      const listed = await gw.s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
      assert.deepEqual(
        listed.Contents?.map((o) => o.Key),
        ['k'],
      );
      assert.equal((await gw.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'k' }))).ContentLength, 5);
      assert.equal((await fetch(`${gw.url}/healthz`)).status, 200);
    } finally {
      await gw.stop();
      await az.kill();
    }
  });

  test('a start against a missing container stops with one sentence naming it', async () => {
    const az = await startAzurite();
    try {
      await assert.rejects(
        startGateway({ ...azureStorage(az), azure: { ...azureStorage(az).azure, container: 'nope' } }),
        (err: Error) => err.name === 'ConfigError' && /azure.*container "nope" does not exist/.test(err.message),
      );
    } finally {
      await az.kill();
    }
  });

  test('a connection string works as well as an account and key', async () => {
    const az = await startAzurite();
    const connection_string = `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${az.endpoint};`;
    const gw = await startGateway({
      backend: 'azure',
      azure: { container: 'bleepstore', prefix: 'cs/', connection_string },
    });
    try {
      await gw.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k', Body: 'via connection string' }));
      const got = await gw.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'k' }));
      assert.equal(await got.Body!.transformToString(), 'via connection string');
      const names: string[] = [];
      for await (const b of az.container.listBlobsFlat({ prefix: 'cs/' })) names.push(b.name);
      assert.equal(names.length, 1);
    } finally {
      await gw.stop();
      await az.kill();
    }
  });
});

describe('azure configuration and block planning', () => {
  test('an account without a key or a connection string stops start-up with one sentence', async () => {
    await assert.rejects(
      startGateway({ backend: 'azure', azure: { container: 'c', account: 'someaccount' } }),
      (err: Error) =>
        err.name === 'ConfigError' &&
        /"storage\.azure\.account_key" \(or "storage\.azure\.connection_string"\) must be set/.test(err.message),
    );
  });

  test('a blob splits into blocks of at most the maximum, none for an empty one', () => {
    assert.deepEqual(blockRanges(0, 10), []);
    assert.deepEqual(blockRanges(10, 10), [{ offset: 0, count: 10 }]);
    assert.deepEqual(blockRanges(25, 10), [
      { offset: 0, count: 10 },
      { offset: 10, count: 10 },
      { offset: 20, count: 5 },
    ]);
    assert.equal(blockRanges(5 * 1024 * MiB).length, 2); // a 5 GiB S3 part: two 4000 MiB blocks at most
  });

  test('block ids are base64 and all the same length', () => {
    const ids = [0, 9, 10, 9999, 49_999].map(blockId);
    assert.equal(new Set(ids.map((i) => i.length)).size, 1);
    for (const id of ids) assert.equal(Buffer.from(id, 'base64').toString('base64'), id);
    assert.equal(new Set(ids).size, ids.length);
  });
});
