// Objects up to storage.inline_max_bytes live in their metadata row: no file, no fsyncs of
// their own, and every operation still sees the same bytes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { LOCAL_ONLY, bodyBytes, startServer, type TestServer } from '../helpers/server.ts';
import { diskState } from '../helpers/files.ts';

const LIMIT = 64 * 1024;

describe('small objects kept inline', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startServer();
    await srv.client().send(new CreateBucketCommand({ Bucket: 'inline-bucket' }));
  });
  after(() => srv.stop());

  test('an object of exactly the limit is inline; one byte more gets a file', { skip: LOCAL_ONLY }, async () => {
    const s3 = srv.client();
    const before = (await diskState(srv.dataDir)).files.size;
    await s3.send(new PutObjectCommand({ Bucket: 'inline-bucket', Key: 'at-limit', Body: randomBytes(LIMIT) }));
    assert.equal((await diskState(srv.dataDir)).files.size, before);
    await s3.send(new PutObjectCommand({ Bucket: 'inline-bucket', Key: 'over-limit', Body: randomBytes(LIMIT + 1) }));
    assert.equal((await diskState(srv.dataDir)).files.size, before + 1);
  });

  test('inline objects serve ranges, copies and part copies with the same bytes', async () => {
    const s3 = srv.client();
    const data = randomBytes(1000);
    await s3.send(new PutObjectCommand({ Bucket: 'inline-bucket', Key: 'small', Body: data }));
    const ranged = await s3.send(new GetObjectCommand({ Bucket: 'inline-bucket', Key: 'small', Range: 'bytes=10-19' }));
    assert.deepEqual(await bodyBytes(ranged.Body), data.subarray(10, 20));
    await s3.send(
      new CopyObjectCommand({ Bucket: 'inline-bucket', Key: 'small-copy', CopySource: 'inline-bucket/small' }),
    );
    const copy = await s3.send(new GetObjectCommand({ Bucket: 'inline-bucket', Key: 'small-copy' }));
    assert.deepEqual(await bodyBytes(copy.Body), data);
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: 'inline-bucket', Key: 'from-inline' }),
    );
    const part = await s3.send(
      new UploadPartCopyCommand({
        Bucket: 'inline-bucket',
        Key: 'from-inline',
        UploadId,
        PartNumber: 1,
        CopySource: 'inline-bucket/small',
        CopySourceRange: 'bytes=0-499',
      }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'inline-bucket',
        Key: 'from-inline',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.CopyPartResult!.ETag }] },
      }),
    );
    const assembled = await s3.send(new GetObjectCommand({ Bucket: 'inline-bucket', Key: 'from-inline' }));
    assert.deepEqual(await bodyBytes(assembled.Body), data.subarray(0, 500));
  });

  test('overwriting a file-backed object with a small one removes the old file', { skip: LOCAL_ONLY }, async () => {
    const s3 = srv.client();
    await s3.send(new PutObjectCommand({ Bucket: 'inline-bucket', Key: 'shrinks', Body: randomBytes(LIMIT * 2) }));
    await s3.send(new PutObjectCommand({ Bucket: 'inline-bucket', Key: 'shrinks', Body: 'tiny' }));
    let disk = await diskState(srv.dataDir);
    for (let i = 0; i < 40 && disk.files.size !== disk.referenced.size; i++) {
      await new Promise((r) => setTimeout(r, 50));
      disk = await diskState(srv.dataDir);
    }
    assert.deepEqual([...disk.files].sort(), [...disk.referenced].sort());
    const got = await s3.send(new GetObjectCommand({ Bucket: 'inline-bucket', Key: 'shrinks' }));
    assert.equal(await got.Body!.transformToString(), 'tiny');
  });
});
