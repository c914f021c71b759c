// The aws gateway against a second BleepStore as its upstream S3: real SDK, real HTTP, and
// the upstream's own request log to see what reached it.
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
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { ConfigError, createBleepStore, type BleepStore } from '../../lib/index.ts';
import { createAwsBucket } from '../../lib/storage/aws.ts';
import { GatewayStorage } from '../../lib/storage/gateway.ts';
import { deadPort } from '../helpers/net.ts';
import { awsBackend, BACKING_BUCKET, PREFIX, type AwsBackendSetup } from '../helpers/backend-aws.ts';
import { sdkError } from '../helpers/s3-assert.ts';
import { ACCESS_KEY, REGION, SECRET_KEY, bodyBytes } from '../helpers/server.ts';
import { storeBlob } from '../helpers/store-blob.ts';

const MiB = 1024 * 1024;
const BUCKET = 'gw-test';

interface Gateway {
  store: BleepStore;
  url: string;
  logs: string[];
  s3: S3Client;
  dataDir: string;
}

async function startGateway(storage: AwsBackendSetup['storage']): Promise<Gateway> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bleepstore-gateway-'));
  const logs: string[] = [];
  const store = await createBleepStore({
    overrides: { data_dir: dataDir, logging: { level: 'info', format: 'json' }, storage },
    logWrite: (line) => void logs.push(line),
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
  return { store, url, logs, s3, dataDir };
}

const parsed = (logs: readonly string[]) => logs.map((l) => JSON.parse(l) as Record<string, unknown>);
const upstreamOps = (logs: readonly string[]) =>
  parsed(logs)
    .filter((l) => l.msg === 'request completed')
    .map((l) => l.op);

/** The backing object names under the gateway's prefix. */
async function backingKeys(up: AwsBackendSetup): Promise<string[]> {
  const out = await up.upstream.client.send(new ListObjectsV2Command({ Bucket: BACKING_BUCKET, Prefix: PREFIX }));
  return (out.Contents ?? []).map((o) => o.Key!);
}

describe('aws gateway', () => {
  let up: AwsBackendSetup;
  let gw: Gateway;
  before(async () => {
    up = await awsBackend('');
    gw = await startGateway(up.storage);
    await gw.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });
  after(async () => {
    gw.s3.destroy();
    await gw.store.close();
    await rm(gw.dataDir, { recursive: true, force: true });
    await up.cleanup();
  });

  test('objects are stored upstream as <prefix><blob id> and read back through the gateway', async () => {
    const before = new Set(await backingKeys(up));
    const body = randomBytes(1000);
    await gw.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'stored', Body: body }));
    const added = (await backingKeys(up)).filter((k) => !before.has(k));
    assert.equal(added.length, 1);
    assert.match(added[0]!, /^gw\/[0-9a-f]{32}$/);
    const got = await gw.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'stored', Range: 'bytes=10-19' }));
    assert.deepEqual(await bodyBytes(got.Body), body.subarray(10, 20));
  });

  test('an upstream that is down answers 503 ServiceUnavailable, and the gateway serves again once it is back', async () => {
    const body = randomBytes(2048);
    await gw.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'outage', Body: body }));
    await up.upstream.stop();
    try {
      const read = await sdkError(gw.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'outage' })));
      assert.equal(read.name, 'ServiceUnavailable');
      assert.equal(read.$metadata.httpStatusCode, 503);
      const write = await sdkError(gw.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'outage-2', Body: 'x' })));
      assert.equal(write.$metadata.httpStatusCode, 503);
      assert.equal((await fetch(`${gw.url}/readyz`)).status, 503);
      assert.equal((await fetch(`${gw.url}/healthz`)).status, 200);
      // Metadata-only requests do not need the upstream.
      const listed = await gw.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'outage' }));
      assert.deepEqual(
        listed.Contents?.map((o) => o.Key),
        ['outage'],
      );
    } finally {
      await up.upstream.restart();
    }
    assert.equal((await fetch(`${gw.url}/readyz`)).status, 200);
    const got = await gw.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'outage' }));
    assert.deepEqual(await bodyBytes(got.Body), body);
  });

  test('a key whose backing object vanished upstream answers InternalError and logs the file id', async () => {
    const before = new Set(await backingKeys(up));
    await gw.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'vanished', Body: 'soon gone' }));
    const [backing] = (await backingKeys(up)).filter((k) => !before.has(k));
    await up.upstream.client.send(new DeleteObjectCommand({ Bucket: BACKING_BUCKET, Key: backing }));

    const err = await sdkError(gw.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'vanished' })));
    assert.equal(err.name, 'InternalError');
    assert.equal(err.$metadata.httpStatusCode, 500);
    const lines = parsed(gw.logs);
    const missing = lines.find(
      (l) => l.msg === 'object file missing for a metadata row' && l.file_id === backing!.slice(PREFIX.length),
    );
    assert.ok(missing, 'the gateway logs which file is missing');
    assert.equal(missing.level, 'error');
    const request = lines.find((l) => l.msg === 'request completed' && l.request_id === missing.request_id);
    assert.equal(request?.key, 'vanished');
    assert.equal(request?.status, 500);
  });

  test('multipart Complete concatenates the parts upstream with UploadPartCopy: no bytes flow through the gateway', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(1234)];
    const { UploadId } = await gw.s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mpu' }));
    const done = [];
    for (const [i, Body] of parts.entries()) {
      const r = await gw.s3.send(
        new UploadPartCommand({ Bucket: BUCKET, Key: 'mpu', UploadId, PartNumber: i + 1, Body }),
      );
      done.push({ PartNumber: i + 1, ETag: r.ETag! });
    }
    const mark = up.upstream.logs.length;
    await gw.s3.send(
      new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'mpu', UploadId, MultipartUpload: { Parts: done } }),
    );
    const ops = upstreamOps(up.upstream.logs.slice(mark));
    assert.equal(ops.filter((op) => op === 'UploadPartCopy').length, 2);
    assert.equal(ops.filter((op) => op === 'CompleteMultipartUpload').length, 1);
    assert.ok(
      !ops.includes('PutObject') && !ops.includes('UploadPart') && !ops.includes('GetObject'),
      `upstream saw ${ops.join(', ')}`,
    );
    const got = await gw.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'mpu' }));
    assert.deepEqual(await bodyBytes(got.Body), Buffer.concat(parts));
  });

  test('concatenating blobs S3 cannot copy as parts (under 5 MiB) falls back to copying through the gateway', async () => {
    const storage = new GatewayStorage('aws', createAwsBucket(up.storage.aws), {
      prefix: PREFIX,
      stagingDir: path.join(gw.dataDir, 'staging-direct'),
    });
    await storage.init();
    const ids: string[] = [];
    for (const text of ['first,', 'second']) ids.push(await storeBlob(storage, text));
    const mark = up.upstream.logs.length;
    const joined = await storage.concat(ids.map((fileId) => ({ fileId })));
    const ops = upstreamOps(up.upstream.logs.slice(mark));
    assert.ok(
      !ops.includes('UploadPartCopy') && !ops.includes('CreateMultipartUpload'),
      `upstream saw ${ops.join(', ')}`,
    );
    assert.equal((await bodyBytes(await storage.openRead(joined))).toString(), 'first,second');
    for (const id of [...ids, joined]) await storage.remove(id);
  });
});

describe('aws gateway start-up', () => {
  test('credentials left out of the config come from the SDK default chain (AWS_* environment)', async () => {
    const up = await awsBackend('');
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = ACCESS_KEY;
    process.env.AWS_SECRET_ACCESS_KEY = SECRET_KEY;
    try {
      await createAwsBucket({ ...up.storage.aws, access_key_id: '', secret_access_key: '' }).probe();
      process.env.AWS_SECRET_ACCESS_KEY = 'wrong';
      await assert.rejects(createAwsBucket({ ...up.storage.aws, access_key_id: '', secret_access_key: '' }).probe(), {
        message: `access to bucket "${BACKING_BUCKET}" at ${up.upstream.url} was denied; check the credentials.`,
      });
    } finally {
      for (const [name, v] of [
        ['AWS_ACCESS_KEY_ID', saved.id],
        ['AWS_SECRET_ACCESS_KEY', saved.secret],
      ] as const) {
        if (v === undefined) delete process.env[name];
        else process.env[name] = v;
      }
      await up.cleanup();
    }
  });

  test('only one of access_key_id and secret_access_key is a configuration error', () => {
    assert.throws(
      () =>
        createAwsBucket({
          bucket: 'b',
          region: '',
          prefix: '',
          endpoint_url: '',
          use_path_style: false,
          access_key_id: 'k',
          secret_access_key: '',
        }),
      {
        name: 'ConfigError',
        message: 'Config keys "storage.aws.access_key_id" and "storage.aws.secret_access_key" must be set together.',
      },
    );
  });

  test('an unreachable upstream stops start-up with one sentence naming the bucket and the endpoint', async () => {
    const endpoint = `http://127.0.0.1:${await deadPort()}`;
    const dataDir = await mkdtemp(path.join(tmpdir(), 'bleepstore-gateway-'));
    try {
      const err = await createBleepStore({
        overrides: {
          data_dir: dataDir,
          logging: { level: 'silent' },
          storage: {
            backend: 'aws',
            aws: {
              bucket: 'backing',
              endpoint_url: endpoint,
              use_path_style: true,
              access_key_id: 'k',
              secret_access_key: 's',
            },
          },
        },
      }).then(
        () => assert.fail('start-up succeeded'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ConfigError);
      assert.equal(
        err.message,
        `The aws storage backend is not usable: cannot reach bucket "backing" at ${endpoint} (ECONNREFUSED).`,
      );
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('a backing bucket that does not exist stops start-up with one sentence naming it', async () => {
    const up = await awsBackend('');
    const dataDir = await mkdtemp(path.join(tmpdir(), 'bleepstore-gateway-'));
    try {
      const storage = { ...up.storage, aws: { ...up.storage.aws, bucket: 'no-such-backing' } };
      await assert.rejects(
        createBleepStore({ overrides: { data_dir: dataDir, logging: { level: 'silent' }, storage } }),
        {
          name: 'ConfigError',
          message: `The aws storage backend is not usable: bucket "no-such-backing" does not exist at ${up.upstream.url}.`,
        },
      );
    } finally {
      await rm(dataDir, { recursive: true, force: true });
      await up.cleanup();
    }
  });
});
