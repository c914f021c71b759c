// GetObject / HeadObject ?partNumber=N, following
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html and API_HeadObject.html
// ("partNumber ... Effectively performs a 'ranged' GET request for the part specified";
// "x-amz-mp-parts-count: The count of parts this object has").
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { sdkError } from '../helpers/s3-assert.ts';
import { signed } from '../helpers/raw.ts';
import { bodyBytes, startServer, type TestServer } from '../helpers/server.ts';

const MiB = 1024 * 1024;
const BUCKET = 'parts-bucket';

describe('GetObject and HeadObject with partNumber', () => {
  let srv: TestServer;
  let s3: S3Client;
  const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB + 7), randomBytes(1000)];
  before(async () => {
    srv = await startServer();
    s3 = srv.client();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mpu' }));
    const done = [];
    for (const [i, Body] of parts.entries()) {
      const r = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'mpu', UploadId, PartNumber: i + 1, Body }));
      done.push({ PartNumber: i + 1, ETag: r.ETag! });
    }
    await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'mpu', UploadId, MultipartUpload: { Parts: done } }),
    );
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'single', Body: 'just one part' }));
  });
  after(() => srv.stop());

  test('GetObject partNumber=N returns exactly part N as a 206 with Content-Range and x-amz-mp-parts-count', async () => {
    const total = parts.reduce((n, p) => n + p.length, 0);
    let start = 0;
    for (const [i, p] of parts.entries()) {
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'mpu', PartNumber: i + 1 }));
      assert.equal(got.$metadata.httpStatusCode, 206);
      assert.equal(got.PartsCount, 3);
      assert.equal(got.ContentLength, p.length);
      assert.equal(got.ContentRange, `bytes ${start}-${start + p.length - 1}/${total}`);
      assert.ok((await bodyBytes(got.Body)).equals(p), `part ${i + 1} bytes`);
      start += p.length;
    }
  });

  test('HeadObject partNumber=2 reports the part size and the parts count', async () => {
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'mpu', PartNumber: 2 }));
    assert.equal(head.ContentLength, parts[1]!.length);
    assert.equal(head.PartsCount, 3);
    assert.equal(head.$metadata.httpStatusCode, 206);
  });

  test('a partNumber past the parts count answers 416 InvalidPartNumber', async () => {
    const err = await sdkError(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'mpu', PartNumber: 4 })));
    assert.equal(err.name, 'InvalidPartNumber');
    assert.equal(err.$metadata.httpStatusCode, 416);
    const raw = await signed('GET', `${srv.url}/${BUCKET}/single?partNumber=2`);
    assert.equal(raw.status, 416);
    assert.equal(raw.code, 'InvalidPartNumber');
  });

  test('partNumber=1 on an object not uploaded in parts returns the whole object as a 206', async () => {
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'single', PartNumber: 1 }));
    assert.equal(got.$metadata.httpStatusCode, 206);
    assert.equal(got.ContentRange, 'bytes 0-12/13');
    assert.equal((await bodyBytes(got.Body)).toString(), 'just one part');
    assert.equal(got.PartsCount, undefined);
  });

  test('partNumber with a Range header, or out of 1..10000, is refused', async () => {
    const both = await signed('GET', `${srv.url}/${BUCKET}/mpu?partNumber=1`, { headers: { range: 'bytes=0-1' } });
    assert.equal(both.status, 400);
    assert.equal(both.code, 'InvalidRequest');
    const zero = await signed('GET', `${srv.url}/${BUCKET}/mpu?partNumber=0`);
    assert.equal(zero.code, 'InvalidArgument');
  });

  test('part boundaries survive a restart (they are stored with the object)', async () => {
    await srv.store.close();
    const { createBleepStore } = await import('../../lib/index.ts');
    const again = await createBleepStore({
      overrides: { data_dir: srv.dataDir, server: { port: 0 }, logging: { level: 'error', format: 'json' } },
    });
    const { url } = await again.listen(0, '127.0.0.1');
    try {
      const c = new S3Client({
        endpoint: url,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'bleepstore', secretAccessKey: 'bleepstore-secret' },
      });
      const got = await c.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'mpu', PartNumber: 3 }));
      assert.ok((await bodyBytes(got.Body)).equals(parts[2]!));
      c.destroy();
    } finally {
      await again.close();
      srv.store = again; // stop() closes it again, harmlessly
    }
  });
});
