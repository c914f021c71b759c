// Who may do what, for every canned ACL on a bucket and on an object, checked for three
// callers: the owner, another owner, and anonymous. The expected answers come from the AWS
// ACL documentation, https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html:
// "Canned ACL" (which grants each canned ACL makes), "Permissions that you can grant" and
// "Mapping of ACL permissions and access policy permissions" (bucket READ → ListObjects,
// bucket WRITE → PutObject and DeleteObject, READ_ACP / WRITE_ACP → Get/Put*Acl, object
// READ → GetObject and HeadObject). A resource's owner may always act on it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetBucketAclCommand,
  GetBucketLocationCommand,
  GetBucketVersioningCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  type BucketCannedACL,
  type ObjectCannedACL,
} from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.ts';
import { send } from '../helpers/raw.ts';
import { sdkError } from '../helpers/s3-assert.ts';
import {
  assertAllowed,
  assertDenied,
  bucketState,
  CALLERS,
  objectState,
  setUpCallers,
  type Caller,
  type Callers,
  type Op,
} from './callers.ts';

type Canned =
  | 'private'
  | 'public-read'
  | 'public-read-write'
  | 'authenticated-read'
  | 'bucket-owner-read'
  | 'bucket-owner-full-control';

// Bucket ACLs. L ListObjectsV2 and H HeadBucket need bucket READ; P PutObject and D
// DeleteObject need bucket WRITE; R GetBucketAcl needs READ_ACP; W PutBucketAcl needs
// WRITE_ACP. bucket-owner-read and bucket-owner-full-control are object ACLs: on a bucket
// AWS ignores them ("Canned ACL" table), so those buckets are private.
const BUCKET_TABLE: Record<Canned, Record<Caller, string>> = {
  private: { owner: 'LHPDRW', other: '------', anonymous: '------' },
  'public-read': { owner: 'LHPDRW', other: 'LH----', anonymous: 'LH----' },
  'public-read-write': { owner: 'LHPDRW', other: 'LHPD--', anonymous: 'LHPD--' },
  'authenticated-read': { owner: 'LHPDRW', other: 'LH----', anonymous: '------' },
  'bucket-owner-read': { owner: 'LHPDRW', other: '------', anonymous: '------' },
  'bucket-owner-full-control': { owner: 'LHPDRW', other: '------', anonymous: '------' },
};

// Object ACLs. G GetObject and H HeadObject need object READ; R GetObjectAcl needs READ_ACP;
// W PutObjectAcl needs WRITE_ACP. WRITE means nothing on an object, so public-read-write
// reads like public-read. Owning the bucket gives no rights on an object someone else wrote:
// only bucket-owner-read (READ) and bucket-owner-full-control (FULL_CONTROL) grant them.
const OBJECT_TABLE: Record<'owner' | 'other', Record<Canned, Record<Caller, string>>> = {
  // Written by the owner, who also owns the bucket.
  owner: {
    private: { owner: 'GHRW', other: '----', anonymous: '----' },
    'public-read': { owner: 'GHRW', other: 'GH--', anonymous: 'GH--' },
    'public-read-write': { owner: 'GHRW', other: 'GH--', anonymous: 'GH--' },
    'authenticated-read': { owner: 'GHRW', other: 'GH--', anonymous: '----' },
    'bucket-owner-read': { owner: 'GHRW', other: '----', anonymous: '----' },
    'bucket-owner-full-control': { owner: 'GHRW', other: '----', anonymous: '----' },
  },
  // Written by the other owner into the owner's bucket (granted WRITE there by canonical id).
  other: {
    private: { owner: '----', other: 'GHRW', anonymous: '----' },
    'public-read': { owner: 'GH--', other: 'GHRW', anonymous: 'GH--' },
    'public-read-write': { owner: 'GH--', other: 'GHRW', anonymous: 'GH--' },
    'authenticated-read': { owner: 'GH--', other: 'GHRW', anonymous: '----' },
    'bucket-owner-read': { owner: 'GH--', other: 'GHRW', anonymous: '----' },
    'bucket-owner-full-control': { owner: 'GHRW', other: 'GHRW', anonymous: '----' },
  },
};

const CANNED = Object.keys(BUCKET_TABLE) as Canned[];

function bucketOps(bucket: string, grantee: string): Op[] {
  return [
    {
      letter: 'L',
      name: 'ListObjectsV2',
      sdk: (s3) => s3.send(new ListObjectsV2Command({ Bucket: bucket })),
      raw: { method: 'GET', path: `/${bucket}?list-type=2` },
    },
    {
      letter: 'H',
      name: 'HeadBucket',
      sdk: (s3) => s3.send(new HeadBucketCommand({ Bucket: bucket })),
      raw: { method: 'HEAD', path: `/${bucket}` },
    },
    {
      letter: 'R',
      name: 'GetBucketAcl',
      sdk: (s3) => s3.send(new GetBucketAclCommand({ Bucket: bucket })),
      raw: { method: 'GET', path: `/${bucket}?acl` },
    },
    {
      letter: 'P',
      name: 'PutObject',
      sdk: (s3) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'new-key', Body: 'new' })),
      raw: { method: 'PUT', path: `/${bucket}/new-key`, body: 'new' },
    },
    {
      letter: 'D',
      name: 'DeleteObject',
      sdk: (s3) => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'victim' })),
      raw: { method: 'DELETE', path: `/${bucket}/victim` },
    },
    {
      letter: 'W',
      name: 'PutBucketAcl',
      sdk: (s3) => s3.send(new PutBucketAclCommand({ Bucket: bucket, GrantRead: `id="${grantee}"` })),
      raw: { method: 'PUT', path: `/${bucket}?acl`, headers: { 'x-amz-grant-read': `id="${grantee}"` } },
    },
  ];
}

function objectOps(bucket: string, key: string, grantee: string): Op[] {
  const path = `/${bucket}/${key}`;
  return [
    {
      letter: 'G',
      name: 'GetObject',
      raw: { method: 'GET', path },
      sdk: async (s3) =>
        assert.equal(
          await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString(),
          'object bytes',
        ),
    },
    {
      letter: 'H',
      name: 'HeadObject',
      sdk: (s3) => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })),
      raw: { method: 'HEAD', path },
    },
    {
      letter: 'R',
      name: 'GetObjectAcl',
      sdk: (s3) => s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: key })),
      raw: { method: 'GET', path: `${path}?acl` },
    },
    {
      letter: 'W',
      name: 'PutObjectAcl',
      sdk: (s3) => s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: key, GrantRead: `id="${grantee}"` })),
      raw: { method: 'PUT', path: `${path}?acl`, headers: { 'x-amz-grant-read': `id="${grantee}"` } },
    },
  ];
}

describe('ACL enforcement', () => {
  let srv: TestServer;
  let who: Callers;
  before(async () => {
    srv = await startServer();
    who = await setUpCallers(srv);
  });
  after(() => srv.stop());

  for (const canned of CANNED) {
    test(`a bucket with the ${canned} ACL allows each caller exactly what the table says, and every refusal changes nothing`, async () => {
      const owner = who.client('owner');
      for (const caller of CALLERS) {
        const bucket = `bkt-${canned}-${caller}`;
        await owner.send(new CreateBucketCommand({ Bucket: bucket, ACL: canned as BucketCannedACL }));
        await owner.send(new PutObjectCommand({ Bucket: bucket, Key: 'victim', Body: 'still here' }));
        const allowed = BUCKET_TABLE[canned][caller];
        for (const op of bucketOps(bucket, who.otherId)) {
          const what = `${caller} ${op.name} on a ${canned} bucket`;
          const before = await bucketState(owner, bucket);
          const outcome = await who.run(caller, op);
          if (allowed.includes(op.letter)) {
            assertAllowed(outcome, what);
          } else {
            assertDenied(outcome, what, op.raw.method === 'HEAD');
            assert.equal(await bucketState(owner, bucket), before, `${what}: a refusal changes nothing`);
          }
        }
      }
    });
  }

  for (const writer of ['owner', 'other'] as const) {
    for (const canned of CANNED) {
      test(`an object the ${writer === 'owner' ? 'bucket owner' : 'other owner'} wrote with the ${canned} ACL allows each caller exactly what the table says`, async () => {
        const owner = who.client('owner');
        const bucket = 'object-acls';
        await owner.send(
          new CreateBucketCommand({
            Bucket: bucket,
            GrantFullControl: `id="${who.ownerId}"`,
            GrantWrite: `id="${who.otherId}"`,
          }),
        );
        for (const caller of CALLERS) {
          const key = `${writer}/${canned}/${caller}`;
          await who
            .client(writer)
            .send(
              new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'object bytes', ACL: canned as ObjectCannedACL }),
            );
          const allowed = OBJECT_TABLE[writer][canned][caller];
          for (const op of objectOps(bucket, key, who.otherId)) {
            const what = `${caller} ${op.name} on a ${canned} object written by ${writer}`;
            const before = await objectState(who.client(writer), bucket, key);
            const outcome = await who.run(caller, op);
            if (allowed.includes(op.letter)) {
              assertAllowed(outcome, what);
            } else {
              assertDenied(outcome, what, op.raw.method === 'HEAD');
              assert.equal(
                await objectState(who.client(writer), bucket, key),
                before,
                `${what}: a refusal changes nothing`,
              );
            }
          }
        }
      });
    }
  }

  test('grants by canonical id and by group give exactly their permission: READ, WRITE, READ_ACP, WRITE_ACP, FULL_CONTROL', async () => {
    const owner = who.client('owner');
    const cases: Array<[string, Record<string, string>, Caller, string]> = [
      ['grant-read-id', { GrantRead: `id="${who.otherId}"` }, 'other', 'LH----'],
      [
        'grant-write-auth',
        { GrantWrite: 'uri="http://acs.amazonaws.com/groups/global/AuthenticatedUsers"' },
        'other',
        '--PD--',
      ],
      [
        'grant-write-auth-anon',
        { GrantWrite: 'uri="http://acs.amazonaws.com/groups/global/AuthenticatedUsers"' },
        'anonymous',
        '------',
      ],
      ['grant-read-acp-id', { GrantReadACP: `id="${who.otherId}"` }, 'other', '----R-'],
      ['grant-write-acp-id', { GrantWriteACP: `id="${who.otherId}"` }, 'other', '-----W'],
      [
        'grant-full-all',
        { GrantFullControl: 'uri="http://acs.amazonaws.com/groups/global/AllUsers"' },
        'anonymous',
        'LHPDRW',
      ],
    ];
    for (const [bucket, grants, caller, allowed] of cases) {
      await owner.send(new CreateBucketCommand({ Bucket: bucket, ...grants }));
      await owner.send(new PutObjectCommand({ Bucket: bucket, Key: 'victim', Body: 'x' }));
      for (const op of bucketOps(bucket, who.otherId)) {
        const outcome = await who.run(caller, op);
        const what = `${caller} ${op.name} on ${bucket}`;
        if (allowed.replaceAll('-', '').includes(op.letter)) assertAllowed(outcome, what);
        else assertDenied(outcome, what, op.raw.method === 'HEAD');
      }
    }
    // The anonymous WRITE_ACP grantee replaced the ACL, but not the owner: the bucket stays the owner's.
    const acl = await owner.send(new GetBucketAclCommand({ Bucket: 'grant-full-all' }));
    assert.equal(acl.Owner?.ID, who.ownerId);
    assert.deepEqual(
      acl.Grants?.map((g) => [g.Grantee?.ID, g.Permission]),
      [[who.otherId, 'READ']],
    );
    // FULL_CONTROL on an object by canonical id: read, read ACL, write ACL.
    await owner.send(new CreateBucketCommand({ Bucket: 'object-grant' }));
    await owner.send(
      new PutObjectCommand({
        Bucket: 'object-grant',
        Key: 'shared',
        Body: 'object bytes',
        GrantFullControl: `id="${who.otherId}"`,
      }),
    );
    for (const op of objectOps('object-grant', 'shared', who.ownerId))
      assertAllowed(await who.run('other', op), `other ${op.name}`);
    for (const op of objectOps('object-grant', 'shared', who.ownerId))
      assertDenied(await who.run('anonymous', op), `anonymous ${op.name}`, op.raw.method === 'HEAD');
  });

  test('the bucket owner may delete an object another owner wrote, though it may not read it', async () => {
    const owner = who.client('owner');
    await owner.send(
      new CreateBucketCommand({
        Bucket: 'drop-box',
        GrantFullControl: `id="${who.ownerId}"`,
        GrantWrite: `id="${who.otherId}"`,
      }),
    );
    await who.client('other').send(new PutObjectCommand({ Bucket: 'drop-box', Key: 'theirs', Body: 'x' }));
    assert.equal(
      (await sdkError(owner.send(new GetObjectCommand({ Bucket: 'drop-box', Key: 'theirs' })))).name,
      'AccessDenied',
    );
    await owner.send(new DeleteObjectCommand({ Bucket: 'drop-box', Key: 'theirs' }));
    const list = await owner.send(new ListObjectsV2Command({ Bucket: 'drop-box' }));
    assert.equal(list.KeyCount, 0);
  });

  test('a missing key is NoSuchKey to callers who may list the bucket and AccessDenied to the rest', async () => {
    const owner = who.client('owner');
    await owner.send(new CreateBucketCommand({ Bucket: 'probe-private' }));
    await owner.send(new CreateBucketCommand({ Bucket: 'probe-public', ACL: 'public-read' }));
    assert.equal(
      (await sdkError(owner.send(new GetObjectCommand({ Bucket: 'probe-private', Key: 'nope' })))).name,
      'NoSuchKey',
    );
    assert.equal(
      (await sdkError(who.client('other').send(new GetObjectCommand({ Bucket: 'probe-private', Key: 'nope' })))).name,
      'AccessDenied',
    );
    assert.equal((await send('GET', `${srv.url}/probe-private/nope`, {})).code, 'AccessDenied');
    assert.equal((await send('GET', `${srv.url}/probe-public/nope`, {})).code, 'NoSuchKey');
    assert.equal(
      (await sdkError(who.client('other').send(new GetObjectAclCommand({ Bucket: 'probe-private', Key: 'nope' }))))
        .name,
      'AccessDenied',
    );
  });

  test("bucket-only operations are the owner's alone, and anonymous callers cannot list or create buckets", async () => {
    const owner = who.client('owner');
    const other = who.client('other');
    await owner.send(new CreateBucketCommand({ Bucket: 'owners-only', ACL: 'public-read-write' }));
    for (const cmd of [
      new DeleteBucketCommand({ Bucket: 'owners-only' }),
      new GetBucketLocationCommand({ Bucket: 'owners-only' }),
      new GetBucketVersioningCommand({ Bucket: 'owners-only' }),
    ]) {
      assert.equal((await sdkError(other.send(cmd as never))).name, 'AccessDenied', cmd.constructor.name);
    }
    await owner.send(new HeadBucketCommand({ Bucket: 'owners-only' }));
    assert.equal((await send('GET', `${srv.url}/`, {})).code, 'AccessDenied');
    assert.equal((await send('PUT', `${srv.url}/anon-made`, {})).code, 'AccessDenied');
    assert.equal(
      (await sdkError(owner.send(new HeadBucketCommand({ Bucket: 'anon-made' })))).$metadata.httpStatusCode,
      404,
    );
    assert.equal((await send('DELETE', `${srv.url}/owners-only`, {})).code, 'AccessDenied');
  });

  test('buckets belong to their creator: another owner gets BucketAlreadyExists, and ListBuckets shows each owner only its own', async () => {
    const owner = who.client('owner');
    const other = who.client('other');
    await owner.send(new CreateBucketCommand({ Bucket: 'taken-name' }));
    const err = await sdkError(other.send(new CreateBucketCommand({ Bucket: 'taken-name' })));
    assert.equal(err.name, 'BucketAlreadyExists');
    assert.equal(err.$metadata.httpStatusCode, 409);
    await other.send(new CreateBucketCommand({ Bucket: 'others-bucket' }));
    const mine = (await owner.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name) ?? [];
    const theirs = await other.send(new ListBucketsCommand({}));
    assert.ok(mine.includes('taken-name') && !mine.includes('others-bucket'));
    assert.deepEqual(
      theirs.Buckets?.map((b) => b.Name),
      ['others-bucket'],
    );
    assert.equal(theirs.Owner?.ID, who.otherId);
    assert.equal(theirs.Owner?.DisplayName, 'other-owner');
  });

  test('CopyObject needs READ on the source object and WRITE on the destination bucket', async () => {
    const owner = who.client('owner');
    const other = who.client('other');
    await owner.send(new CreateBucketCommand({ Bucket: 'copy-src' }));
    await owner.send(new PutObjectCommand({ Bucket: 'copy-src', Key: 'secret', Body: 'object bytes' }));
    await owner.send(
      new PutObjectCommand({ Bucket: 'copy-src', Key: 'open', Body: 'object bytes', ACL: 'public-read' }),
    );
    await other.send(new CreateBucketCommand({ Bucket: 'copy-dst' }));
    assert.equal(
      (
        await sdkError(
          other.send(new CopyObjectCommand({ Bucket: 'copy-dst', Key: 'c', CopySource: 'copy-src/secret' })),
        )
      ).name,
      'AccessDenied',
    );
    await other.send(new CopyObjectCommand({ Bucket: 'copy-dst', Key: 'c', CopySource: 'copy-src/open' }));
    assert.equal(
      (await sdkError(owner.send(new CopyObjectCommand({ Bucket: 'copy-dst', Key: 'd', CopySource: 'copy-src/open' }))))
        .name,
      'AccessDenied',
    );
    assert.equal((await other.send(new ListObjectsV2Command({ Bucket: 'copy-dst' }))).KeyCount, 1);
  });
});
