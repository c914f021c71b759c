import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { sdkError } from '../helpers/s3-assert.ts';
import { bodyBytes, startServer, type TestServer } from '../helpers/server.ts';

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest();
const BUCKET = 'objects-bucket';

describe('object operations with the AWS SDK (default checksums on)', () => {
  let srv: TestServer;
  let s3: S3Client;
  before(async () => {
    srv = await startServer();
    s3 = srv.client();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });
  after(() => srv.stop());

  test('PutObject then GetObject returns the same bytes, ETag and metadata', async () => {
    const body = randomBytes(100_000);
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'dir/file.bin',
        Body: body,
        ContentType: 'application/x-test',
        Metadata: { author: 'Ada', 'Mixed-Case': 'v' },
        CacheControl: 'max-age=60',
        ContentDisposition: 'attachment; filename="f.bin"',
        ContentLanguage: 'en',
        ContentEncoding: 'identity',
        Expires: new Date('2030-01-01T00:00:00Z'),
      }),
    );
    assert.equal(put.ETag, `"${md5(body).toString('hex')}"`);
    // The SDK sends a CRC32 by default; the server echoes what it stored.
    assert.ok(put.ChecksumCRC32, 'PutObject echoes the default CRC32 checksum');
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'dir/file.bin' }));
    assert.deepEqual(await bodyBytes(got.Body), body);
    assert.equal(got.ETag, put.ETag);
    assert.equal(got.ContentType, 'application/x-test');
    assert.equal(got.ContentLength, body.length);
    assert.deepEqual(got.Metadata, { author: 'Ada', 'mixed-case': 'v' });
    assert.equal(got.CacheControl, 'max-age=60');
    assert.equal(got.ContentDisposition, 'attachment; filename="f.bin"');
    assert.equal(got.ContentLanguage, 'en');
    assert.equal(got.ContentEncoding, 'identity');
    assert.equal(got.ExpiresString, 'Tue, 01 Jan 2030 00:00:00 GMT');
    assert.equal(got.AcceptRanges, 'bytes');
    assert.ok(got.LastModified instanceof Date);
  });

  test('GetObject returns the stored checksum only with x-amz-checksum-mode ENABLED', async () => {
    const body = Buffer.from('checksum me');
    const put = await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'sum', Body: body, ChecksumAlgorithm: 'SHA256' }),
    );
    assert.equal(put.ChecksumSHA256, createHash('sha256').update(body).digest('base64'));
    const plain = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'sum' }));
    assert.equal(plain.ChecksumSHA256, undefined);
    const withMode = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'sum', ChecksumMode: 'ENABLED' }));
    assert.equal(withMode.ChecksumSHA256, put.ChecksumSHA256);
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sum', ChecksumMode: 'ENABLED' }));
    assert.equal(got.ChecksumSHA256, put.ChecksumSHA256);
    assert.deepEqual(await bodyBytes(got.Body), body);
    const ranged = await s3.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: 'sum', ChecksumMode: 'ENABLED', Range: 'bytes=0-3' }),
    );
    assert.equal(ranged.ChecksumSHA256, undefined, 'a ranged GET never carries the whole-object checksum');
    assert.equal((await bodyBytes(ranged.Body)).toString(), 'chec');
  });

  for (const algorithm of ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const) {
    test(`PutObject stores and returns a ${algorithm} checksum`, async () => {
      const body = randomBytes(70_000);
      const put = await s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: `algo/${algorithm}`, Body: body, ChecksumAlgorithm: algorithm }),
      );
      const field = `Checksum${algorithm}` as const;
      assert.ok(put[field], `${field} echoed`);
      const head = await s3.send(
        new HeadObjectCommand({ Bucket: BUCKET, Key: `algo/${algorithm}`, ChecksumMode: 'ENABLED' }),
      );
      assert.equal(head[field], put[field]);
    });
  }

  test('PutObject rejects a wrong Content-MD5 with BadDigest and stores nothing', async () => {
    const err = await sdkError(
      s3.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: 'bad-md5',
          Body: 'hello',
          ContentMD5: md5('other').toString('base64'),
        }),
      ),
    );
    assert.equal(err.name, 'BadDigest');
    const head = await sdkError(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'bad-md5' })));
    assert.equal(head.$metadata.httpStatusCode, 404);
  });

  test('PutObject rejects a malformed Content-MD5 with InvalidDigest', async () => {
    const err = await sdkError(
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'bad-md5', Body: 'hello', ContentMD5: 'not-base64-md5' })),
    );
    assert.equal(err.name, 'InvalidDigest');
  });

  test('PutObject rejects a wrong x-amz-checksum-sha256 with BadDigest', async () => {
    const err = await sdkError(
      s3.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: 'bad-sum',
          Body: 'hello',
          ChecksumSHA256: createHash('sha256').update('nope').digest('base64'),
        }),
      ),
    );
    assert.equal(err.name, 'BadDigest');
  });

  test('an empty object round-trips', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'empty', Body: '' }));
    assert.equal(put.ETag, '"d41d8cd98f00b204e9800998ecf8427e"');
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'empty' }));
    assert.equal((await bodyBytes(got.Body)).length, 0);
    assert.equal(got.ContentLength, 0);
  });

  test('keys a, a/ and a/b coexist', async () => {
    for (const key of ['a', 'a/', 'a/b'])
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: `value of ${key}` }));
    for (const key of ['a', 'a/', 'a/b']) {
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      assert.equal((await bodyBytes(got.Body)).toString(), `value of ${key}`);
    }
  });

  test('any UTF-8 key round-trips, including dot segments and reserved characters', async () => {
    const keys = [
      'ünïcödé/日本語/ファイル.txt',
      'emoji 🎉 key',
      'a/../b',
      './x',
      'sp ace+plus=eq&amp?q#h%25',
      "!*'()[]{}$,;@:",
      'tab\there',
    ];
    for (const key of keys) {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: key }));
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      assert.equal((await bodyBytes(got.Body)).toString(), key, key);
    }
  });

  test('a 1024-byte key works and a 1025-byte key is refused with KeyTooLongError', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k'.repeat(1024), Body: 'long' }));
    const err = await sdkError(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k'.repeat(1025), Body: 'long' })));
    assert.equal(err.name, 'KeyTooLongError');
  });

  test('user metadata over 2 KB is refused with MetadataTooLarge', async () => {
    const err = await sdkError(
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'meta', Body: 'x', Metadata: { big: 'v'.repeat(2100) } })),
    );
    assert.equal(err.name, 'MetadataTooLarge');
  });

  test('GetObject of a missing key answers NoSuchKey; of a missing bucket NoSuchBucket', async () => {
    const err = await sdkError(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'missing' })));
    assert.equal(err.name, 'NoSuchKey');
    assert.equal(err.$metadata.httpStatusCode, 404);
    const nb = await sdkError(s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket-x', Key: 'k' })));
    assert.equal(nb.name, 'NoSuchBucket');
  });

  test('HeadObject of a missing key answers 404 with no body', async () => {
    const err = await sdkError(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'missing' })));
    assert.equal(err.$metadata.httpStatusCode, 404);
    assert.equal(err.name, 'NotFound');
  });

  test('single Range requests answer 206 with Content-Range; unsatisfiable ones 416', async () => {
    const body = Buffer.from('0123456789');
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'range', Body: body }));
    const cases: Array<[string, string, string]> = [
      ['bytes=2-5', '2345', 'bytes 2-5/10'],
      ['bytes=7-', '789', 'bytes 7-9/10'],
      ['bytes=-3', '789', 'bytes 7-9/10'],
      ['bytes=5-100', '56789', 'bytes 5-9/10'],
    ];
    for (const [range, want, contentRange] of cases) {
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'range', Range: range }));
      assert.equal(got.$metadata.httpStatusCode, 206, range);
      assert.equal(got.ContentRange, contentRange);
      assert.equal((await bodyBytes(got.Body)).toString(), want);
    }
    const err = await sdkError(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'range', Range: 'bytes=10-20' })));
    assert.equal(err.name, 'InvalidRange');
    assert.equal(err.$metadata.httpStatusCode, 416);
  });

  test('response-* query parameters override the returned headers', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'override', Body: 'x', ContentType: 'text/plain' }));
    const got = await s3.send(
      new GetObjectCommand({
        Bucket: BUCKET,
        Key: 'override',
        ResponseContentType: 'application/json',
        ResponseContentDisposition: 'inline',
        ResponseCacheControl: 'no-cache',
        ResponseContentLanguage: 'fr',
        ResponseContentEncoding: 'gzip',
        ResponseExpires: new Date('2031-01-01T00:00:00Z'),
      }),
    );
    assert.equal(got.ContentType, 'application/json');
    assert.equal(got.ContentDisposition, 'inline');
    assert.equal(got.CacheControl, 'no-cache');
    assert.equal(got.ContentLanguage, 'fr');
    assert.equal(got.ContentEncoding, 'gzip');
    await bodyBytes(got.Body);
  });

  test('conditional GET follows RFC 7232 precedence', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'cond', Body: 'conditional' }));
    const etag = put.ETag!;
    const past = new Date(Date.now() - 3600_000);
    const future = new Date(Date.now() + 3600_000);
    const ok = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'cond', IfMatch: etag }));
    await bodyBytes(ok.Body);
    assert.equal(
      (await sdkError(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'cond', IfMatch: '"nope"' })))).$metadata
        .httpStatusCode,
      412,
    );
    assert.equal(
      (await sdkError(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'cond', IfNoneMatch: etag })))).$metadata
        .httpStatusCode,
      304,
    );
    assert.equal(
      (await sdkError(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'cond', IfModifiedSince: future }))))
        .$metadata.httpStatusCode,
      304,
    );
    assert.equal(
      (await sdkError(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'cond', IfUnmodifiedSince: past }))))
        .$metadata.httpStatusCode,
      412,
    );
    // If-Match true wins over If-Unmodified-Since false.
    const both = await s3.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: 'cond', IfMatch: etag, IfUnmodifiedSince: past }),
    );
    assert.equal(both.$metadata.httpStatusCode, 200);
    await bodyBytes(both.Body);
    // If-None-Match decides over If-Modified-Since.
    const inm = await s3.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: 'cond', IfNoneMatch: '"other"', IfModifiedSince: future }),
    );
    assert.equal(inm.$metadata.httpStatusCode, 200);
    await bodyBytes(inm.Body);
    assert.equal(
      (await sdkError(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'cond', IfNoneMatch: etag })))).$metadata
        .httpStatusCode,
      304,
    );
  });

  test('PutObject with If-None-Match * refuses to overwrite (412)', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'once', Body: 'first', IfNoneMatch: '*' }));
    const err = await sdkError(
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'once', Body: 'second', IfNoneMatch: '*' })),
    );
    assert.equal(err.$metadata.httpStatusCode, 412);
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'once' }));
    assert.equal((await bodyBytes(got.Body)).toString(), 'first');
  });

  test('PutObject with If-Match replaces only the matching version', async () => {
    const first = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'cas', Body: 'v1' }));
    const second = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'cas', Body: 'v2', IfMatch: first.ETag }));
    const err = await sdkError(
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'cas', Body: 'v3', IfMatch: first.ETag })),
    );
    assert.equal(err.$metadata.httpStatusCode, 412);
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'cas' }));
    assert.equal(got.ETag, second.ETag);
    assert.equal((await bodyBytes(got.Body)).toString(), 'v2');
    const missing = await sdkError(
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'cas-missing', Body: 'v', IfMatch: first.ETag })),
    );
    assert.equal(missing.$metadata.httpStatusCode, 404);
  });

  test('concurrent If-None-Match * writes: exactly one wins', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        s3.send(
          new PutObjectCommand({ Bucket: BUCKET, Key: 'race', Body: randomBytes(200_000 + i), IfNoneMatch: '*' }),
        ),
      ),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1);
    for (const r of results) {
      if (r.status === 'rejected')
        assert.ok(
          [409, 412].includes((r.reason as { $metadata: { httpStatusCode?: number } }).$metadata.httpStatusCode!),
        );
    }
  });

  test('overwriting an object replaces its bytes and metadata', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'over', Body: 'old', Metadata: { v: '1' } }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'over', Body: 'newer', Metadata: { w: '2' } }));
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'over' }));
    assert.equal((await bodyBytes(got.Body)).toString(), 'newer');
    assert.deepEqual(got.Metadata, { w: '2' });
  });

  test('DeleteObject answers 204 whether or not the key exists', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'gone', Body: 'x' }));
    const del = await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'gone' }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    const again = await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'gone' }));
    assert.equal(again.$metadata.httpStatusCode, 204);
    assert.equal((await sdkError(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'gone' })))).name, 'NoSuchKey');
  });

  test('GetObject with versionId null reads the current object; another version id is NoSuchVersion', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'ver', Body: 'x' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'ver', VersionId: 'null' }));
    await bodyBytes(got.Body);
    const err = await sdkError(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'ver', VersionId: 'abc' })));
    assert.equal(err.name, 'NoSuchVersion');
  });

  test('PutObjectAcl and GetObjectAcl round-trip a canned ACL', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'acl-obj', Body: 'x', ACL: 'public-read' }));
    let acl = await s3.send(new GetObjectAclCommand({ Bucket: BUCKET, Key: 'acl-obj' }));
    assert.ok(
      acl.Grants?.some(
        (g) => g.Grantee?.URI === 'http://acs.amazonaws.com/groups/global/AllUsers' && g.Permission === 'READ',
      ),
    );
    await s3.send(new PutObjectAclCommand({ Bucket: BUCKET, Key: 'acl-obj', ACL: 'private' }));
    acl = await s3.send(new GetObjectAclCommand({ Bucket: BUCKET, Key: 'acl-obj' }));
    assert.deepEqual(
      acl.Grants?.map((g) => g.Permission),
      ['FULL_CONTROL'],
    );
    const err = await sdkError(s3.send(new GetObjectAclCommand({ Bucket: BUCKET, Key: 'no-acl-obj' })));
    assert.equal(err.name, 'NoSuchKey');
  });

  test('a 5 MiB object streams through intact', async () => {
    const body = randomBytes(5 * 1024 * 1024);
    const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'five-mib', Body: body }));
    assert.equal(put.ETag, `"${md5(body).toString('hex')}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'five-mib' }));
    assert.ok((await bodyBytes(got.Body)).equals(body));
  });
});
