// Object and bucket tags with AWS's limits:
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html (10 per object,
// key 128 / value 256 Unicode characters), PutBucketTagging (50 per bucket).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectTaggingCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
  type S3Client,
  type Tag,
} from '@aws-sdk/client-s3';
import { sdkError } from '../helpers/s3-assert.ts';
import { signed } from '../helpers/raw.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { setUpCallers } from '../acl/callers.ts';

const tagsOf = (n: number): Tag[] => Array.from({ length: n }, (_, i) => ({ Key: `k${i}`, Value: `v${i}` }));

describe('tagging', () => {
  let srv: TestServer;
  let s3: S3Client;
  let other: S3Client;
  before(async () => {
    srv = await startServer();
    s3 = srv.client();
    other = (await setUpCallers(srv)).client('other');
    await s3.send(new CreateBucketCommand({ Bucket: 'tags' }));
  });
  after(() => srv.stop());

  async function tagsOfObject(key: string, versionId?: string): Promise<Tag[]> {
    return (
      (await s3.send(new GetObjectTaggingCommand({ Bucket: 'tags', Key: key, VersionId: versionId }))).TagSet ?? []
    );
  }

  test('x-amz-tagging on PUT sets the tags; GET and HEAD answer x-amz-tagging-count', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'tags', Key: 'a', Body: 'x', Tagging: 'project=blue&empty=' }));
    assert.deepEqual(await tagsOfObject('a'), [
      { Key: 'project', Value: 'blue' },
      { Key: 'empty', Value: '' },
    ]);
    assert.equal((await s3.send(new GetObjectCommand({ Bucket: 'tags', Key: 'a' }))).TagCount, 2);
    const head = await signed('HEAD', `${srv.url}/tags/a`);
    assert.equal(head.headers['x-amz-tagging-count'], '2');
    await s3.send(new PutObjectCommand({ Bucket: 'tags', Key: 'plain', Body: 'x' }));
    assert.equal((await s3.send(new GetObjectCommand({ Bucket: 'tags', Key: 'plain' }))).TagCount, undefined);
  });

  test('Put/Get/DeleteObjectTagging replace, read and remove the tag set', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'tags', Key: 'b', Body: 'x', Tagging: 'old=1' }));
    await s3.send(new PutObjectTaggingCommand({ Bucket: 'tags', Key: 'b', Tagging: { TagSet: tagsOf(10) } }));
    assert.deepEqual(await tagsOfObject('b'), tagsOf(10));
    await s3.send(new DeleteObjectTaggingCommand({ Bucket: 'tags', Key: 'b' }));
    assert.deepEqual(await tagsOfObject('b'), []);
    assert.equal(
      (await sdkError(s3.send(new GetObjectTaggingCommand({ Bucket: 'tags', Key: 'missing' })))).name,
      'NoSuchKey',
    );
  });

  test('an 11th object tag is BadRequest; long keys or values and repeated keys are InvalidTag; nothing changes', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'tags', Key: 'c', Body: 'x', Tagging: 'keep=1' }));
    const refusals: Array<[Tag[], string]> = [
      [tagsOf(11), 'BadRequest'],
      [[{ Key: 'k'.repeat(129), Value: 'v' }], 'InvalidTag'],
      [[{ Key: 'k', Value: 'v'.repeat(257) }], 'InvalidTag'],
      [
        [
          { Key: 'k', Value: '1' },
          { Key: 'k', Value: '2' },
        ],
        'InvalidTag',
      ],
    ];
    for (const [TagSet, code] of refusals) {
      const err = await sdkError(
        s3.send(new PutObjectTaggingCommand({ Bucket: 'tags', Key: 'c', Tagging: { TagSet } })),
      );
      assert.equal(err.name, code);
      assert.equal(err.$metadata.httpStatusCode, 400);
    }
    // 128 and 256 Unicode characters (not bytes) are allowed.
    await s3.send(
      new PutObjectTaggingCommand({
        Bucket: 'tags',
        Key: 'c',
        Tagging: { TagSet: [{ Key: 'é'.repeat(128), Value: 'ü'.repeat(256) }] },
      }),
    );
    assert.equal((await tagsOfObject('c'))[0]!.Key, 'é'.repeat(128));
    const header = await sdkError(
      s3.send(new PutObjectCommand({ Bucket: 'tags', Key: 'c', Body: 'y', Tagging: 'a=1&a=2' })),
    );
    assert.equal(header.name, 'InvalidTag');
    assert.equal(
      await (await s3.send(new GetObjectCommand({ Bucket: 'tags', Key: 'c' }))).Body!.transformToString(),
      'x',
    );
  });

  test('CopyObject copies the source tags unless x-amz-tagging-directive is REPLACE', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'tags', Key: 'src', Body: 'x', Tagging: 'from=src' }));
    await s3.send(new CopyObjectCommand({ Bucket: 'tags', Key: 'copied', CopySource: 'tags/src' }));
    assert.deepEqual(await tagsOfObject('copied'), [{ Key: 'from', Value: 'src' }]);
    await s3.send(
      new CopyObjectCommand({
        Bucket: 'tags',
        Key: 'replaced',
        CopySource: 'tags/src',
        TaggingDirective: 'REPLACE',
        Tagging: 'new=1',
      }),
    );
    assert.deepEqual(await tagsOfObject('replaced'), [{ Key: 'new', Value: '1' }]);
  });

  test('CreateMultipartUpload tags the completed object', async () => {
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'tags', Key: 'mp', Tagging: 'mp=yes' }));
    const part = await s3.send(
      new UploadPartCommand({ Bucket: 'tags', Key: 'mp', UploadId: up.UploadId, PartNumber: 1, Body: 'p' }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'tags',
        Key: 'mp',
        UploadId: up.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    assert.deepEqual(await tagsOfObject('mp'), [{ Key: 'mp', Value: 'yes' }]);
  });

  test('tags belong to one version: tagging by versionId leaves the others alone', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'tags-vers' }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: 'tags-vers', VersioningConfiguration: { Status: 'Enabled' } }),
    );
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: 'tags-vers', Key: 'k', Body: '1', Tagging: 'v=1' })))
      .VersionId;
    await s3.send(new PutObjectCommand({ Bucket: 'tags-vers', Key: 'k', Body: '2', Tagging: 'v=2' }));
    const put = await s3.send(
      new PutObjectTaggingCommand({
        Bucket: 'tags-vers',
        Key: 'k',
        VersionId: v1,
        Tagging: { TagSet: [{ Key: 'v', Value: 'one' }] },
      }),
    );
    assert.equal(put.VersionId, v1);
    const get = (versionId?: string) =>
      s3.send(new GetObjectTaggingCommand({ Bucket: 'tags-vers', Key: 'k', VersionId: versionId }));
    assert.deepEqual((await get(v1)).TagSet, [{ Key: 'v', Value: 'one' }]);
    assert.deepEqual((await get()).TagSet, [{ Key: 'v', Value: '2' }]);
  });

  test('bucket tags: NoSuchTagSet until set, 50 allowed, 51 refused, owner only, deleted', async () => {
    assert.equal((await sdkError(s3.send(new GetBucketTaggingCommand({ Bucket: 'tags' })))).name, 'NoSuchTagSet');
    await s3.send(new PutBucketTaggingCommand({ Bucket: 'tags', Tagging: { TagSet: tagsOf(50) } }));
    assert.deepEqual((await s3.send(new GetBucketTaggingCommand({ Bucket: 'tags' }))).TagSet, tagsOf(50));
    const tooMany = await sdkError(
      s3.send(new PutBucketTaggingCommand({ Bucket: 'tags', Tagging: { TagSet: tagsOf(51) } })),
    );
    assert.equal(tooMany.name, 'InvalidTag');
    assert.equal(
      (await sdkError(other.send(new GetBucketTaggingCommand({ Bucket: 'tags' })))).name,
      'AccessDenied',
      'bucket owner only',
    );
    assert.equal((await s3.send(new GetBucketTaggingCommand({ Bucket: 'tags' }))).TagSet?.length, 50, 'unchanged');
    await s3.send(new DeleteBucketTaggingCommand({ Bucket: 'tags' }));
    assert.equal((await sdkError(s3.send(new GetBucketTaggingCommand({ Bucket: 'tags' })))).name, 'NoSuchTagSet');
  });
});
