// Bucket versioning as the AWS user guide describes it:
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html,
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeleteMarker.html,
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/VersionSuspendedBehavior.html.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { sdkError } from '../helpers/s3-assert.ts';
import { signed } from '../helpers/raw.ts';
import { diskState } from '../helpers/files.ts';
import { waitForAsync } from '../ops/wait.ts';
import { cli } from '../admin/run-cli.ts';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { existsSync } from 'node:fs';
import { LOCAL_ONLY, startServer, type TestServer } from '../helpers/server.ts';

describe('versioning', () => {
  let srv: TestServer;
  let s3: S3Client;
  before(async () => {
    srv = await startServer();
    s3 = srv.client();
  });
  after(() => srv.stop());

  async function versionedBucket(name: string, status: 'Enabled' | 'Suspended' = 'Enabled'): Promise<void> {
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
    if (status === 'Suspended')
      await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: status } }));
  }
  async function put(bucket: string, key: string, body: string): Promise<string | undefined> {
    return (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))).VersionId;
  }
  async function read(bucket: string, key: string, versionId?: string): Promise<string> {
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
    return r.Body!.transformToString();
  }
  async function versions(bucket: string, prefix?: string) {
    const r = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix }));
    return {
      versions: (r.Versions ?? []).map((v) => ({ key: v.Key, id: v.VersionId, latest: v.IsLatest, size: v.Size })),
      markers: (r.DeleteMarkers ?? []).map((m) => ({ key: m.Key, id: m.VersionId, latest: m.IsLatest })),
    };
  }

  test('GetBucketVersioning is empty until enabled, then Enabled, then Suspended', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'vers-state' }));
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: 'vers-state' }))).Status, undefined);
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: 'vers-state', VersioningConfiguration: { Status: 'Enabled' } }),
    );
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: 'vers-state' }))).Status, 'Enabled');
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: 'vers-state', VersioningConfiguration: { Status: 'Suspended' } }),
    );
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: 'vers-state' }))).Status, 'Suspended');
  });

  test('PutBucketVersioning refuses MFA delete with NotImplemented and a bad status with MalformedXML', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'vers-mfa' }));
    const mfa = await sdkError(
      s3.send(
        new PutBucketVersioningCommand({
          Bucket: 'vers-mfa',
          VersioningConfiguration: { Status: 'Enabled', MFADelete: 'Enabled' },
          MFA: '123 456',
        }),
      ),
    );
    assert.equal(mfa.name, 'NotImplemented');
    const bad = await signed('PUT', `${srv.url}/vers-mfa?versioning`, {
      body: '<VersioningConfiguration><Status>On</Status></VersioningConfiguration>',
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.code, 'MalformedXML');
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: 'vers-mfa' }))).Status, undefined);
  });

  test('every overwrite keeps the old version readable by id; GET without id reads the newest', async () => {
    await versionedBucket('vers-put');
    const v1 = await put('vers-put', 'k', 'one');
    const v2 = await put('vers-put', 'k', 'two');
    assert.ok(v1 && v2 && v1 !== v2, 'each PUT answers its own x-amz-version-id');
    assert.equal(await read('vers-put', 'k'), 'two');
    assert.equal(await read('vers-put', 'k', v1), 'one');
    assert.equal(await read('vers-put', 'k', v2), 'two');
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'vers-put', Key: 'k', VersionId: v1 }));
    assert.equal(head.VersionId, v1);
    assert.equal(head.ContentLength, 3);
    assert.equal((await s3.send(new GetObjectCommand({ Bucket: 'vers-put', Key: 'k' }))).VersionId, v2);
    const acl = await s3.send(new GetObjectAclCommand({ Bucket: 'vers-put', Key: 'k', VersionId: v1 }));
    assert.ok(acl.Grants?.length);
    assert.deepEqual((await versions('vers-put')).versions, [
      { key: 'k', id: v2, latest: true, size: 3 },
      { key: 'k', id: v1, latest: false, size: 3 },
    ]);
    assert.equal(
      (await sdkError(s3.send(new GetObjectCommand({ Bucket: 'vers-put', Key: 'k', VersionId: 'nope' })))).name,
      'NoSuchVersion',
    );
  });

  test('PutObjectAcl with a versionId changes that version only', async () => {
    await versionedBucket('vers-acl');
    const v1 = await put('vers-acl', 'k', 'one');
    await put('vers-acl', 'k', 'two');
    await s3.send(new PutObjectAclCommand({ Bucket: 'vers-acl', Key: 'k', VersionId: v1, ACL: 'public-read' }));
    const grants = async (versionId?: string) =>
      (await s3.send(new GetObjectAclCommand({ Bucket: 'vers-acl', Key: 'k', VersionId: versionId }))).Grants?.length;
    assert.equal(await grants(v1), 2, 'owner FULL_CONTROL + AllUsers READ');
    assert.equal(await grants(), 1, 'the current version keeps its private ACL');
  });

  test('DELETE without a version id adds a delete marker: GET is 404 with x-amz-delete-marker, old versions stay', async () => {
    await versionedBucket('vers-del');
    const v1 = await put('vers-del', 'k', 'one');
    const del = await s3.send(new DeleteObjectCommand({ Bucket: 'vers-del', Key: 'k' }));
    assert.equal(del.DeleteMarker, true);
    assert.ok(del.VersionId && del.VersionId !== v1);
    const raw = await signed('GET', `${srv.url}/vers-del/k`);
    assert.equal(raw.status, 404);
    assert.equal(raw.headers['x-amz-delete-marker'], 'true');
    assert.equal(raw.headers['x-amz-version-id'], del.VersionId);
    const head = await signed('HEAD', `${srv.url}/vers-del/k`);
    assert.equal(head.status, 404);
    assert.equal(head.headers['x-amz-delete-marker'], 'true', 'HEAD says so too');
    assert.equal(await read('vers-del', 'k', v1), 'one');
    const onMarker = await signed('GET', `${srv.url}/vers-del/k?versionId=${del.VersionId}`);
    assert.equal(onMarker.status, 405, 'a delete marker read by id is MethodNotAllowed');
    assert.equal(onMarker.headers['x-amz-delete-marker'], 'true');
    assert.deepEqual((await s3.send(new ListObjectsV2Command({ Bucket: 'vers-del' }))).Contents, undefined);
    assert.deepEqual(await versions('vers-del'), {
      versions: [{ key: 'k', id: v1, latest: false, size: 3 }],
      markers: [{ key: 'k', id: del.VersionId, latest: true }],
    });
    // Deleting the marker by id brings the object back.
    const undo = await s3.send(new DeleteObjectCommand({ Bucket: 'vers-del', Key: 'k', VersionId: del.VersionId }));
    assert.equal(undo.DeleteMarker, true);
    assert.equal(undo.VersionId, del.VersionId);
    assert.equal(await read('vers-del', 'k'), 'one');
  });

  test('DELETE with a version id removes that version for good; the next newest becomes current', async () => {
    await versionedBucket('vers-perm');
    const v1 = await put('vers-perm', 'k', 'one');
    const v2 = await put('vers-perm', 'k', 'two');
    await s3.send(new DeleteObjectCommand({ Bucket: 'vers-perm', Key: 'k', VersionId: v2 }));
    assert.equal(await read('vers-perm', 'k'), 'one');
    assert.deepEqual((await versions('vers-perm')).versions, [{ key: 'k', id: v1, latest: true, size: 3 }]);
    await s3.send(new DeleteObjectCommand({ Bucket: 'vers-perm', Key: 'k', VersionId: v1 }));
    assert.deepEqual(await versions('vers-perm'), { versions: [], markers: [] });
    await s3.send(new DeleteBucketCommand({ Bucket: 'vers-perm' }));
  });

  test('a bucket holding only noncurrent versions or delete markers is not empty', async () => {
    await versionedBucket('vers-notempty');
    await put('vers-notempty', 'k', 'x');
    await s3.send(new DeleteObjectCommand({ Bucket: 'vers-notempty', Key: 'k' }));
    assert.equal(
      (await sdkError(s3.send(new DeleteBucketCommand({ Bucket: 'vers-notempty' })))).name,
      'BucketNotEmpty',
    );
  });

  test('an object written before versioning was enabled is the null version, kept by later writes', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'vers-null' }));
    await put('vers-null', 'k', 'before');
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: 'vers-null', VersioningConfiguration: { Status: 'Enabled' } }),
    );
    const v = await put('vers-null', 'k', 'after');
    assert.equal(await read('vers-null', 'k', 'null'), 'before');
    assert.deepEqual((await versions('vers-null')).versions, [
      { key: 'k', id: v, latest: true, size: 5 },
      { key: 'k', id: 'null', latest: false, size: 6 },
    ]);
  });

  test('suspended: a PUT replaces the null version (wherever it is) and keeps versions with ids', async () => {
    // The example of https://docs.aws.amazon.com/AmazonS3/latest/userguide/AddingObjectstoVersionSuspendedBuckets.html
    await s3.send(new CreateBucketCommand({ Bucket: 'vers-susp' }));
    await put('vers-susp', 'k', 'null-1');
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: 'vers-susp', VersioningConfiguration: { Status: 'Enabled' } }),
    );
    const v = await put('vers-susp', 'k', 'versioned');
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: 'vers-susp', VersioningConfiguration: { Status: 'Suspended' } }),
    );
    const r = await signed('PUT', `${srv.url}/vers-susp/k`, { body: 'null-2' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-amz-version-id'], 'null');
    assert.equal(await read('vers-susp', 'k'), 'null-2');
    assert.equal(await read('vers-susp', 'k', 'null'), 'null-2');
    assert.equal(await read('vers-susp', 'k', v), 'versioned');
    assert.deepEqual((await versions('vers-susp')).versions, [
      { key: 'k', id: 'null', latest: true, size: 6 },
      { key: 'k', id: v, latest: false, size: 9 },
    ]);
    // Overwriting the current null version replaces it in place.
    await put('vers-susp', 'k', 'null-3');
    assert.equal((await versions('vers-susp')).versions.length, 2);
    assert.equal(await read('vers-susp', 'k', 'null'), 'null-3');
  });

  test('suspended: a DELETE adds a null delete marker that replaces the null version', async () => {
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeletingObjectsfromVersioningSuspendedBuckets.html
    await versionedBucket('vers-susp-del');
    const v = await put('vers-susp-del', 'k', 'versioned');
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: 'vers-susp-del', VersioningConfiguration: { Status: 'Suspended' } }),
    );
    await put('vers-susp-del', 'k', 'null');
    const del = await s3.send(new DeleteObjectCommand({ Bucket: 'vers-susp-del', Key: 'k' }));
    assert.equal(del.DeleteMarker, true);
    assert.equal(del.VersionId, 'null');
    assert.deepEqual(await versions('vers-susp-del'), {
      versions: [{ key: 'k', id: v, latest: false, size: 9 }],
      markers: [{ key: 'k', id: 'null', latest: true }],
    });
  });

  test('CopyObject and CompleteMultipartUpload make new versions; copy-source reads an old one by id', async () => {
    await versionedBucket('vers-copy');
    const v1 = await put('vers-copy', 'src', 'first');
    await put('vers-copy', 'src', 'second');
    const copy = await s3.send(
      new CopyObjectCommand({ Bucket: 'vers-copy', Key: 'dst', CopySource: `vers-copy/src?versionId=${v1}` }),
    );
    assert.ok(copy.VersionId);
    assert.equal(copy.CopySourceVersionId, v1);
    assert.equal(await read('vers-copy', 'dst'), 'first');
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'vers-copy', Key: 'dst' }));
    const part = await s3.send(
      new UploadPartCommand({ Bucket: 'vers-copy', Key: 'dst', UploadId: up.UploadId, PartNumber: 1, Body: 'mp' }),
    );
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'vers-copy',
        Key: 'dst',
        UploadId: up.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    assert.ok(done.VersionId && done.VersionId !== copy.VersionId);
    assert.equal(await read('vers-copy', 'dst'), 'mp');
    assert.equal(await read('vers-copy', 'dst', copy.VersionId), 'first');
  });

  test('DeleteObjects adds markers for plain keys and removes versions given by id', async () => {
    await versionedBucket('vers-multi');
    const a1 = await put('vers-multi', 'a', 'a1');
    await put('vers-multi', 'a', 'a2');
    await put('vers-multi', 'b', 'b1');
    const r = await s3.send(
      new DeleteObjectsCommand({
        Bucket: 'vers-multi',
        Delete: { Objects: [{ Key: 'a', VersionId: a1 }, { Key: 'b' }] },
      }),
    );
    assert.equal(r.Errors, undefined);
    const byKey = new Map(r.Deleted!.map((d) => [d.Key, d]));
    assert.equal(byKey.get('a')!.VersionId, a1);
    assert.equal(byKey.get('b')!.DeleteMarker, true);
    assert.ok(byKey.get('b')!.DeleteMarkerVersionId);
    const list = await versions('vers-multi');
    assert.deepEqual(
      list.versions.map((v) => [v.key, v.latest]),
      [
        ['a', true],
        ['b', false],
      ],
    );
    assert.deepEqual(list.markers, [{ key: 'b', id: byKey.get('b')!.DeleteMarkerVersionId, latest: true }]);
  });

  test('ListObjectVersions pages by key-marker and version-id-marker through every version exactly once', async () => {
    await versionedBucket('vers-page');
    const expected: Array<[string, string]> = [];
    for (const key of ['a', 'b', 'c']) {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await put('vers-page', key, `${key}${i}`))!);
      if (key === 'b') ids.push((await s3.send(new DeleteObjectCommand({ Bucket: 'vers-page', Key: 'b' }))).VersionId!);
      for (const id of ids.reverse()) expected.push([key, id]);
    }
    const seen: Array<[string, string]> = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (let pages = 0; pages < 20; pages++) {
      const r = await s3.send(
        new ListObjectVersionsCommand({
          Bucket: 'vers-page',
          MaxKeys: 2,
          KeyMarker: keyMarker,
          VersionIdMarker: versionIdMarker,
        }),
      );
      const entries = [...(r.Versions ?? []), ...(r.DeleteMarkers ?? [])];
      assert.ok(entries.length <= 2);
      // Within a page, keep listing order: versions and markers of one key are newest first.
      const page = expected.filter(([k, id]) => entries.some((e) => e.Key === k && e.VersionId === id));
      seen.push(...page);
      if (!r.IsTruncated) break;
      keyMarker = r.NextKeyMarker;
      versionIdMarker = r.NextVersionIdMarker;
    }
    assert.deepEqual(seen, expected);
  });

  test('ListObjectVersions groups by delimiter and filters by prefix', async () => {
    await versionedBucket('vers-delim');
    await put('vers-delim', 'dir/a', '1');
    await put('vers-delim', 'dir/a', '2');
    await put('vers-delim', 'dir/sub/x', '3');
    await put('vers-delim', 'top', '4');
    const r = await s3.send(new ListObjectVersionsCommand({ Bucket: 'vers-delim', Delimiter: '/' }));
    assert.deepEqual(
      r.CommonPrefixes?.map((p) => p.Prefix),
      ['dir/'],
    );
    assert.deepEqual(
      r.Versions?.map((v) => v.Key),
      ['top'],
    );
    const sub = await s3.send(new ListObjectVersionsCommand({ Bucket: 'vers-delim', Prefix: 'dir/', Delimiter: '/' }));
    assert.deepEqual(
      sub.Versions?.map((v) => v.Key),
      ['dir/a', 'dir/a'],
    );
    assert.deepEqual(
      sub.CommonPrefixes?.map((p) => p.Prefix),
      ['dir/sub/'],
    );
  });

  test('a bucket never versioned answers no x-amz-version-id and lists each object as its null version', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'vers-none' }));
    const r = await signed('PUT', `${srv.url}/vers-none/k`, { body: 'x' });
    assert.equal(r.headers['x-amz-version-id'], undefined);
    const del = await signed('DELETE', `${srv.url}/vers-none/k`);
    assert.equal(del.status, 204);
    assert.equal(del.headers['x-amz-delete-marker'], undefined);
    assert.deepEqual(await versions('vers-none'), { versions: [], markers: [] });
  });

  test('old versions keep their bytes on disk until deleted, then the blob is freed', {
    skip: LOCAL_ONLY,
  }, async () => {
    await versionedBucket('vers-blob');
    const big = 'z'.repeat(256 * 1024); // above the inline threshold: a real file
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: 'vers-blob', Key: 'k', Body: big }))).VersionId!;
    await s3.send(new PutObjectCommand({ Bucket: 'vers-blob', Key: 'k', Body: `${big}!` }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'vers-blob', Key: 'k' }));
    assert.equal((await read('vers-blob', 'k', v1)).length, big.length);
    const before = await diskState(srv.dataDir);
    for (const id of before.referenced) assert.ok(before.files.has(id), `referenced blob ${id} is on disk`);
    await s3.send(new DeleteObjectCommand({ Bucket: 'vers-blob', Key: 'k', VersionId: v1 }));
    assert.equal(
      (await sdkError(s3.send(new GetObjectCommand({ Bucket: 'vers-blob', Key: 'k', VersionId: v1 })))).name,
      'NoSuchVersion',
    );
    await waitForAsync(async () => {
      const now = await diskState(srv.dataDir);
      return now.files.size === before.files.size - 1 && [...now.referenced].every((id) => now.files.has(id));
    }, "the deleted version's blob is removed, no other");
  });

  test('conditional deletes: If-Match decides against the current version, on plain and versioned buckets', async () => {
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html
    for (const bucket of ['cond-plain', 'cond-vers']) {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      if (bucket === 'cond-vers')
        await s3.send(
          new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
        );
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' }));
      const wrong = await sdkError(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', IfMatch: '"0000"' })));
      assert.equal(wrong.$metadata.httpStatusCode, 412, bucket);
      const size = await sdkError(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', IfMatchSize: 99 })));
      assert.equal(size.$metadata.httpStatusCode, 412, bucket);
      assert.equal(await read(bucket, 'k'), 'x', `${bucket}: nothing deleted`);
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', IfMatch: put.ETag, IfMatchSize: 1 }));
      const gone = await sdkError(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', IfMatch: '*' })));
      assert.equal(gone.name, 'NoSuchKey', `${bucket}: If-Match * on a missing (or delete-marked) key`);
      const multi = await s3.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'k', ETag: put.ETag }] } }),
      );
      assert.equal(multi.Errors?.[0]?.Code, 'NoSuchKey', bucket);
    }
    assert.equal((await versions('cond-vers')).markers.length, 1, 'only the one unconditional-passing marker');
  });

  test('meta export --tables objects without object_versions warns that noncurrent versions stay behind', {
    skip: LOCAL_ONLY,
  }, async () => {
    await versionedBucket('vers-export-warn');
    await put('vers-export-warn', 'k', 'one');
    await put('vers-export-warn', 'k', 'two');
    const r = await cli(['meta', 'export', '--tables', 'buckets,objects', '--data-dir', srv.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /noncurrent object versions and delete markers are not exported; add object_versions to --tables/,
    );
    const all = await cli(['meta', 'export', '--data-dir', srv.dataDir]);
    assert.equal(all.code, 0, all.stderr);
    assert.doesNotMatch(all.stderr, /warning/);
  });

  test('meta export and import carry noncurrent versions and delete markers, with their bytes, to another store', {
    skip: LOCAL_ONLY,
  }, async () => {
    await versionedBucket('vers-export');
    const history = async (c: S3Client) => {
      const r = await c.send(new ListObjectVersionsCommand({ Bucket: 'vers-export' }));
      const each = [...(r.Versions ?? []), ...(r.DeleteMarkers ?? [])];
      const bytes = await Promise.all(
        (r.Versions ?? []).map(async (v) => {
          const got = await c.send(new GetObjectCommand({ Bucket: 'vers-export', Key: v.Key, VersionId: v.VersionId }));
          return (await got.Body!.transformToByteArray()).length;
        }),
      );
      return {
        each: each.map((v) => [
          v.Key,
          v.VersionId,
          v.IsLatest,
          'ETag' in v ? v.ETag : 'marker',
          v.LastModified?.toISOString(),
        ]),
        bytes,
      };
    };
    await put('vers-export', 'k', 'one'); // inline
    await s3.send(new PutObjectCommand({ Bucket: 'vers-export', Key: 'k', Body: 'b'.repeat(200 * 1024) })); // a blob
    await put('vers-export', 'k', 'three');
    await put('vers-export', 'gone', 'soon deleted');
    await s3.send(new DeleteObjectCommand({ Bucket: 'vers-export', Key: 'gone' })); // a delete marker, current
    const before = await history(s3);
    assert.equal(before.each.length, 5);
    const root = await mkdtemp(path.join(tmpdir(), 'bleepstore-vers-export-'));
    try {
      const file = path.join(root, 'meta.json');
      const e = await cli(['meta', 'export', '--include-credentials', '--output', file, '--data-dir', srv.dataDir]);
      assert.equal(e.code, 0, e.stderr);
      const target = path.join(root, 'copy');
      await cp(path.join(srv.dataDir, 'objects'), path.join(target, 'objects'), { recursive: true });
      const i = await cli(['meta', 'import', '--input', file, '--data-dir', target]);
      assert.equal(i.code, 0, i.stderr);
      assert.doesNotMatch(i.stderr, /warning|missing/);
      assert.match(i.stderr, /imported \d+ buckets, \d+ objects, [1-9]\d* object_versions/);
      const second = await startServer({ data_dir: target });
      try {
        assert.deepEqual(await history(second.client()), before);
      } finally {
        await second.stop();
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  test('bleepstore backup and restore keep noncurrent versions and their blobs', { skip: LOCAL_ONLY }, async () => {
    await versionedBucket('vers-backup');
    const big = (c: string) => c.repeat(200 * 1024); // blobs, not inline rows
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: 'vers-backup', Key: 'k', Body: big('a') }))).VersionId!;
    await s3.send(new PutObjectCommand({ Bucket: 'vers-backup', Key: 'k', Body: big('b') }));
    const root = await mkdtemp(path.join(tmpdir(), 'bleepstore-vers-backup-'));
    try {
      const out = path.join(root, 'backup');
      const b = await cli(['backup', '--out', out, '--data-dir', srv.dataDir]);
      assert.equal(b.code, 0, b.stderr);
      const target = path.join(root, 'restored');
      const r = await cli(['restore', '--from', out, '--data-dir', target]);
      assert.equal(r.code, 0, r.stderr);
      const db = new DatabaseSync(path.join(target, 'metadata.db'), { readOnly: true });
      try {
        const row = db
          .prepare("SELECT file_id FROM object_versions WHERE bucket = 'vers-backup' AND key = 'k' AND version_id = ?")
          .get(v1) as { file_id: string } | undefined;
        assert.ok(row, 'the noncurrent version is in the restored database');
        assert.ok(
          existsSync(path.join(target, 'objects', row.file_id.slice(0, 2), row.file_id)),
          'and its blob is in the restored objects directory',
        );
      } finally {
        db.close();
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
