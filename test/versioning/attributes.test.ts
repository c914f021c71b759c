// GetObjectAttributes as https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributes.html describes it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectAttributesCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { sdkError } from '../helpers/s3-assert.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const MiB = 1024 * 1024;

describe('GetObjectAttributes', () => {
  let srv: TestServer;
  let s3: S3Client;
  before(async () => {
    srv = await startServer();
    s3 = srv.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'attrs' }));
  });
  after(() => srv.stop());

  test('answers the bare ETag, checksum, size and storage class of a single-part object', async () => {
    const put = await s3.send(
      new PutObjectCommand({ Bucket: 'attrs', Key: 'one', Body: 'hello', ChecksumAlgorithm: 'SHA256' }),
    );
    const r = await s3.send(
      new GetObjectAttributesCommand({
        Bucket: 'attrs',
        Key: 'one',
        ObjectAttributes: ['ETag', 'Checksum', 'ObjectSize', 'StorageClass', 'ObjectParts'],
      }),
    );
    assert.equal(r.ETag, put.ETag!.replace(/"/g, ''));
    assert.equal(r.Checksum?.ChecksumSHA256, put.ChecksumSHA256);
    assert.equal(r.ObjectSize, 5);
    assert.equal(r.StorageClass, 'STANDARD');
    assert.equal(r.ObjectParts, undefined, 'not uploaded in parts');
    assert.ok(r.LastModified);
  });

  test('lists the parts of a multipart object, paged by max-parts and part-number-marker', async () => {
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'attrs', Key: 'mp' }));
    const sizes = [5 * MiB, 5 * MiB, 1234];
    const parts = [];
    for (const [i, size] of sizes.entries()) {
      const p = await s3.send(
        new UploadPartCommand({
          Bucket: 'attrs',
          Key: 'mp',
          UploadId: up.UploadId,
          PartNumber: i + 1,
          Body: Buffer.alloc(size, i),
        }),
      );
      parts.push({ PartNumber: i + 1, ETag: p.ETag });
    }
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'attrs',
        Key: 'mp',
        UploadId: up.UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    const first = await s3.send(
      new GetObjectAttributesCommand({
        Bucket: 'attrs',
        Key: 'mp',
        ObjectAttributes: ['ObjectParts', 'ObjectSize'],
        MaxParts: 2,
      }),
    );
    assert.equal(first.ObjectSize, sizes[0]! + sizes[1]! + sizes[2]!);
    assert.equal(first.ObjectParts?.TotalPartsCount, 3);
    assert.equal(first.ObjectParts?.IsTruncated, true);
    assert.deepEqual(
      first.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size]),
      [
        [1, sizes[0]],
        [2, sizes[1]],
      ],
    );
    const rest = await s3.send(
      new GetObjectAttributesCommand({
        Bucket: 'attrs',
        Key: 'mp',
        ObjectAttributes: ['ObjectParts'],
        PartNumberMarker: first.ObjectParts?.NextPartNumberMarker,
      }),
    );
    assert.equal(rest.ObjectParts?.IsTruncated, false);
    assert.deepEqual(
      rest.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size]),
      [[3, sizes[2]]],
    );
  });

  test('reads an old version by id and names it in x-amz-version-id', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'attrs-vers' }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: 'attrs-vers', VersioningConfiguration: { Status: 'Enabled' } }),
    );
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: 'attrs-vers', Key: 'k', Body: 'short' }))).VersionId;
    await s3.send(new PutObjectCommand({ Bucket: 'attrs-vers', Key: 'k', Body: 'much longer' }));
    const r = await s3.send(
      new GetObjectAttributesCommand({
        Bucket: 'attrs-vers',
        Key: 'k',
        VersionId: v1,
        ObjectAttributes: ['ObjectSize'],
      }),
    );
    assert.equal(r.ObjectSize, 5);
    assert.equal(r.VersionId, v1);
  });

  test('an unknown attribute is InvalidArgument; a missing key is NoSuchKey', async () => {
    const bad = await sdkError(
      s3.send(new GetObjectAttributesCommand({ Bucket: 'attrs', Key: 'one', ObjectAttributes: ['Colour' as 'ETag'] })),
    );
    assert.equal(bad.name, 'InvalidArgument');
    const missing = await sdkError(
      s3.send(new GetObjectAttributesCommand({ Bucket: 'attrs', Key: 'none', ObjectAttributes: ['ETag'] })),
    );
    assert.equal(missing.name, 'NoSuchKey');
  });
});
