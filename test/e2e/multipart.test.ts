import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { sdkError } from '../helpers/s3-assert.ts';
import { diskState } from '../helpers/files.ts';
import { LOCAL_ONLY, bodyBytes, startServer, type TestServer } from '../helpers/server.ts';

const MiB = 1024 * 1024;
const BUCKET = 'mpu-bucket';
const md5 = (b: Buffer) => createHash('md5').update(b).digest();
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function multipartEtag(parts: Buffer[]): string {
  return `"${createHash('md5')
    .update(Buffer.concat(parts.map(md5)))
    .digest('hex')}-${parts.length}"`;
}

describe('multipart uploads', () => {
  let srv: TestServer;
  let s3: S3Client;
  before(async () => {
    srv = await startServer();
    s3 = srv.client();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });
  after(() => srv.stop());

  async function upload(
    key: string,
    parts: Buffer[],
    extra: {
      ChecksumAlgorithm?: 'CRC32' | 'CRC32C' | 'SHA256' | 'SHA1' | 'CRC64NVME';
      ChecksumType?: 'COMPOSITE' | 'FULL_OBJECT';
    } = {},
  ) {
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        ContentType: 'text/x-mpu',
        Metadata: { m: 'v' },
        ...extra,
      }),
    );
    const done = [];
    for (const [i, Body] of parts.entries()) {
      const r = await s3.send(
        new UploadPartCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId,
          PartNumber: i + 1,
          Body,
          ...(extra.ChecksumAlgorithm ? { ChecksumAlgorithm: extra.ChecksumAlgorithm } : {}),
        }),
      );
      done.push({
        PartNumber: i + 1,
        ETag: r.ETag!,
        ...(extra.ChecksumAlgorithm
          ? { [`Checksum${extra.ChecksumAlgorithm}`]: r[`Checksum${extra.ChecksumAlgorithm}` as 'ChecksumCRC32'] }
          : {}),
      });
    }
    return { UploadId: UploadId!, done };
  }

  test('Create, UploadPart, Complete assemble the object with an MD5-of-MD5s "-N" ETag', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(1234)];
    const { UploadId, done } = await upload('assembled', parts);
    const res = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'assembled',
        UploadId,
        MultipartUpload: { Parts: done },
      }),
    );
    assert.equal(res.ETag, multipartEtag(parts));
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'assembled' }));
    assert.equal(sha256(await bodyBytes(got.Body)), sha256(Buffer.concat(parts)));
    assert.equal(got.ContentType, 'text/x-mpu');
    assert.deepEqual(got.Metadata, { m: 'v' });
    assert.equal(got.PartsCount, 3);
  });

  test('Complete of an upload that already completed returns the same ETag', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(10)];
    const { UploadId, done } = await upload('twice', parts);
    const first = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'twice', UploadId, MultipartUpload: { Parts: done } }),
    );
    const second = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'twice', UploadId, MultipartUpload: { Parts: done } }),
    );
    assert.equal(second.ETag, first.ETag);
  });

  test('re-uploading a part replaces it', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'replace-part' }));
    await s3.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: 'replace-part', UploadId, PartNumber: 1, Body: 'first' }),
    );
    const second = await s3.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: 'replace-part', UploadId, PartNumber: 1, Body: 'second' }),
    );
    const list = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: 'replace-part', UploadId }));
    assert.equal(list.Parts?.length, 1);
    assert.equal(list.Parts?.[0]?.ETag, second.ETag);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'replace-part',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: second.ETag }] },
      }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'replace-part' }));
    assert.equal((await bodyBytes(got.Body)).toString(), 'second');
  });

  test('Complete refuses a small middle part (EntityTooSmall), a wrong ETag (InvalidPart) and a bad order (InvalidPartOrder)', async () => {
    const { UploadId, done } = await upload('bad-complete', [
      randomBytes(1000),
      randomBytes(1000),
      randomBytes(5 * MiB),
    ]);
    const small = await sdkError(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: 'bad-complete',
          UploadId,
          MultipartUpload: { Parts: done },
        }),
      ),
    );
    assert.equal(small.name, 'EntityTooSmall');
    const wrong = await sdkError(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: 'bad-complete',
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"00000000000000000000000000000000"' }] },
        }),
      ),
    );
    assert.equal(wrong.name, 'InvalidPart');
    const missing = await sdkError(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: 'bad-complete',
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 9, ETag: done[0]!.ETag }] },
        }),
      ),
    );
    assert.equal(missing.name, 'InvalidPart');
    const order = await sdkError(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: 'bad-complete',
          UploadId,
          MultipartUpload: { Parts: [done[1]!, done[0]!] },
        }),
      ),
    );
    assert.equal(order.name, 'InvalidPartOrder');
    // Omitting parts is allowed: only the listed ones are assembled.
    const ok = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'bad-complete',
        UploadId,
        MultipartUpload: { Parts: [done[2]!] },
      }),
    );
    assert.match(ok.ETag ?? '', /-1"$/);
  });

  test('operations on an unknown upload id answer NoSuchUpload', async () => {
    const UploadId = 'does-not-exist';
    for (const call of [
      () => s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'k', UploadId, PartNumber: 1, Body: 'x' })),
      () => s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: 'k', UploadId })),
      () => s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'k', UploadId })),
      () =>
        s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: BUCKET,
            Key: 'k',
            UploadId,
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"x"' }] },
          }),
        ),
    ]) {
      const err = await sdkError(call());
      assert.equal(err.name, 'NoSuchUpload');
      assert.equal(err.$metadata.httpStatusCode, 404);
    }
  });

  test('part numbers outside 1..10000 are refused with InvalidArgument', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'pn' }));
    for (const PartNumber of [0, 10001]) {
      const err = await sdkError(
        s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'pn', UploadId, PartNumber, Body: 'x' })),
      );
      assert.equal(err.name, 'InvalidArgument');
    }
    await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'pn', UploadId }));
  });

  test('Abort removes the upload and its part files; DeleteBucket waits for uploads to go', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'abort-bucket' }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'abort-bucket', Key: 'a' }));
    await s3.send(
      new UploadPartCommand({ Bucket: 'abort-bucket', Key: 'a', UploadId, PartNumber: 1, Body: randomBytes(1000) }),
    );
    const busy = await sdkError(s3.send(new DeleteBucketCommand({ Bucket: 'abort-bucket' })));
    assert.equal(busy.name, 'BucketNotEmpty');
    const res = await s3.send(new AbortMultipartUploadCommand({ Bucket: 'abort-bucket', Key: 'a', UploadId }));
    assert.equal(res.$metadata.httpStatusCode, 204);
    assert.equal(
      (await sdkError(s3.send(new ListPartsCommand({ Bucket: 'abort-bucket', Key: 'a', UploadId })))).name,
      'NoSuchUpload',
    );
    await s3.send(new DeleteBucketCommand({ Bucket: 'abort-bucket' }));
  });

  test('ListParts pages with part-number-marker and max-parts', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'lp' }));
    for (let n = 1; n <= 5; n++)
      await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'lp', UploadId, PartNumber: n, Body: `part ${n}` }));
    const first = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: 'lp', UploadId, MaxParts: 2 }));
    assert.deepEqual(
      first.Parts?.map((p) => p.PartNumber),
      [1, 2],
    );
    assert.equal(first.IsTruncated, true);
    assert.equal(first.NextPartNumberMarker, '2');
    const rest = await s3.send(
      new ListPartsCommand({ Bucket: BUCKET, Key: 'lp', UploadId, PartNumberMarker: first.NextPartNumberMarker }),
    );
    assert.deepEqual(
      rest.Parts?.map((p) => p.PartNumber),
      [3, 4, 5],
    );
    assert.equal(rest.IsTruncated, false);
    assert.equal(rest.Parts?.[0]?.Size, 6);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'lp', UploadId }));
  });

  test('ListMultipartUploads filters by prefix, groups by delimiter and pages with markers', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'list-mpu-bucket' }));
    const ids: Record<string, string> = {};
    for (const key of ['a/1', 'a/2', 'b', 'c/x/1', 'c/y']) {
      ids[key] = (await s3.send(new CreateMultipartUploadCommand({ Bucket: 'list-mpu-bucket', Key: key }))).UploadId!;
    }
    const all = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'list-mpu-bucket' }));
    assert.deepEqual(
      all.Uploads?.map((u) => u.Key),
      ['a/1', 'a/2', 'b', 'c/x/1', 'c/y'],
    );
    const grouped = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'list-mpu-bucket', Delimiter: '/' }));
    assert.deepEqual(
      grouped.Uploads?.map((u) => u.Key),
      ['b'],
    );
    assert.deepEqual(
      grouped.CommonPrefixes?.map((p) => p.Prefix),
      ['a/', 'c/'],
    );
    const prefixed = await s3.send(
      new ListMultipartUploadsCommand({ Bucket: 'list-mpu-bucket', Prefix: 'c/', Delimiter: '/' }),
    );
    assert.deepEqual(
      prefixed.Uploads?.map((u) => u.Key),
      ['c/y'],
    );
    assert.deepEqual(
      prefixed.CommonPrefixes?.map((p) => p.Prefix),
      ['c/x/'],
    );
    const page = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'list-mpu-bucket', MaxUploads: 2 }));
    assert.equal(page.IsTruncated, true);
    assert.equal(page.NextKeyMarker, 'a/2');
    const next = await s3.send(
      new ListMultipartUploadsCommand({
        Bucket: 'list-mpu-bucket',
        KeyMarker: page.NextKeyMarker,
        UploadIdMarker: page.NextUploadIdMarker,
      }),
    );
    assert.deepEqual(
      next.Uploads?.map((u) => u.Key),
      ['b', 'c/x/1', 'c/y'],
    );
    for (const [Key, UploadId] of Object.entries(ids))
      await s3.send(new AbortMultipartUploadCommand({ Bucket: 'list-mpu-bucket', Key, UploadId }));
  });

  test('UploadPartCopy copies a byte range of another object into a part', async () => {
    const source = randomBytes(6 * MiB);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'copy-src', Body: source }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'copy-dst' }));
    const p1 = await s3.send(
      new UploadPartCopyCommand({
        Bucket: BUCKET,
        Key: 'copy-dst',
        UploadId,
        PartNumber: 1,
        CopySource: `${BUCKET}/copy-src`,
        CopySourceRange: `bytes=0-${5 * MiB - 1}`,
      }),
    );
    const p2 = await s3.send(
      new UploadPartCopyCommand({
        Bucket: BUCKET,
        Key: 'copy-dst',
        UploadId,
        PartNumber: 2,
        CopySource: `${BUCKET}/copy-src`,
        CopySourceRange: `bytes=${5 * MiB}-${6 * MiB - 1}`,
      }),
    );
    assert.equal(p1.CopyPartResult?.ETag, `"${md5(source.subarray(0, 5 * MiB)).toString('hex')}"`);
    const bad = await sdkError(
      s3.send(
        new UploadPartCopyCommand({
          Bucket: BUCKET,
          Key: 'copy-dst',
          UploadId,
          PartNumber: 3,
          CopySource: `${BUCKET}/copy-src`,
          CopySourceRange: `bytes=0-${7 * MiB}`,
        }),
      ),
    );
    assert.equal(bad.name, 'InvalidRange', 'a range past the source is unsatisfiable (API_UploadPartCopy.html)');
    assert.equal(bad.$metadata.httpStatusCode, 416);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'copy-dst',
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: p1.CopyPartResult!.ETag },
            { PartNumber: 2, ETag: p2.CopyPartResult!.ETag },
          ],
        },
      }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'copy-dst' }));
    assert.equal(sha256(await bodyBytes(got.Body)), sha256(source));
  });

  test('a COMPOSITE CRC32 checksum is verified per part, listed, and returned as "-N" on HEAD', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(100)];
    const { UploadId, done } = await upload('crc-composite', parts, { ChecksumAlgorithm: 'CRC32' });
    const list = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: 'crc-composite', UploadId }));
    assert.ok(list.Parts?.every((p) => p.ChecksumCRC32));
    assert.equal(list.ChecksumAlgorithm, 'CRC32');
    const res = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'crc-composite',
        UploadId,
        MultipartUpload: { Parts: done },
      }),
    );
    assert.match(res.ChecksumCRC32 ?? '', /-2$/);
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: 'crc-composite', ChecksumMode: 'ENABLED' }),
    );
    assert.equal(head.ChecksumCRC32, res.ChecksumCRC32);
    assert.equal(head.ChecksumType, 'COMPOSITE');
  });

  test('a FULL_OBJECT CRC64NVME checksum covers the whole object', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(777)];
    const { UploadId, done } = await upload('crc-full', parts, {
      ChecksumAlgorithm: 'CRC64NVME',
      ChecksumType: 'FULL_OBJECT',
    });
    const res = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'crc-full',
        UploadId,
        MultipartUpload: { Parts: done },
      }),
    );
    // The same bytes as one PutObject give the full-object CRC64NVME to compare against.
    const single = await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'crc-full-single',
        Body: Buffer.concat(parts),
        ChecksumAlgorithm: 'CRC64NVME',
      }),
    );
    assert.equal(res.ChecksumCRC64NVME, single.ChecksumCRC64NVME);
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'crc-full', ChecksumMode: 'ENABLED' }));
    assert.equal(got.ChecksumCRC64NVME, single.ChecksumCRC64NVME);
    assert.equal(got.ChecksumType, 'FULL_OBJECT');
    await bodyBytes(got.Body);
  });

  test('a part whose checksum does not match is refused with BadDigest', async () => {
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'bad-part', ChecksumAlgorithm: 'SHA256' }),
    );
    const err = await sdkError(
      s3.send(
        new UploadPartCommand({
          Bucket: BUCKET,
          Key: 'bad-part',
          UploadId,
          PartNumber: 1,
          Body: 'data',
          ChecksumSHA256: createHash('sha256').update('other').digest('base64'),
        }),
      ),
    );
    assert.equal(err.name, 'BadDigest');
    await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'bad-part', UploadId }));
  });

  test('lib-storage Upload of a 64 MiB stream with default checksums round-trips', async () => {
    const chunk = randomBytes(MiB);
    const hash = createHash('sha256');
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < 64; i++) {
          const c = Buffer.from(chunk);
          c.writeUInt32BE(i, 0);
          hash.update(c);
          yield c;
        }
      })(),
    );
    const up = new Upload({
      client: s3,
      params: { Bucket: BUCKET, Key: 'lib-storage-64', Body: source },
      partSize: 8 * MiB,
      queueSize: 4,
    });
    const res = await up.done();
    assert.match(res.ETag ?? '', /-8"$/);
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'lib-storage-64' }));
    const back = createHash('sha256');
    for await (const c of got.Body as AsyncIterable<Uint8Array>) back.update(c);
    assert.equal(back.digest('hex'), hash.digest('hex'));
  });

  test('no part or temp file outlives a completed or aborted upload', { skip: LOCAL_ONLY }, async () => {
    // Removal runs just after each response, in the background: wait until it settles.
    let disk = await diskState(srv.dataDir);
    for (let i = 0; i < 60 && disk.files.size !== disk.referenced.size; i++) {
      await new Promise((r) => setTimeout(r, 50));
      disk = await diskState(srv.dataDir);
    }
    assert.deepEqual(disk.temp, []);
    assert.deepEqual([...disk.files].sort(), [...disk.referenced].sort());
  });
});
