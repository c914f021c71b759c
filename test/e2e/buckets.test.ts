import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetBucketAclCommand,
  GetBucketLocationCommand,
  GetBucketVersioningCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  PutBucketAclCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { sdkError } from '../helpers/s3-assert.ts';
import { startServer, type TestServer, EMBEDDED_ONLY } from '../helpers/server.ts';

describe('bucket operations', () => {
  let srv: TestServer;
  let s3: S3Client;
  before(async () => {
    srv = await startServer();
    s3 = srv.client();
  });
  after(() => srv.stop());

  test('CreateBucket then ListBuckets shows the bucket with its creation date', async () => {
    const res = await s3.send(new CreateBucketCommand({ Bucket: 'alpha-bucket' }));
    assert.equal(res.Location, '/alpha-bucket');
    const list = await s3.send(new ListBucketsCommand({}));
    const names = list.Buckets?.map((b) => b.Name);
    assert.ok(names?.includes('alpha-bucket'));
    assert.ok(list.Buckets?.every((b) => b.CreationDate instanceof Date));
    assert.equal(list.Owner?.DisplayName, 'bleepstore');
    assert.match(list.Owner?.ID ?? '', /^[0-9a-f]{64}$/);
  });

  test('CreateBucket rejects invalid names with InvalidBucketName', async () => {
    for (const name of [
      'ab',
      'UPPER-case',
      '-leading',
      'trailing-',
      '192.168.5.4',
      'a..b',
      'xn--punycode',
      'x'.repeat(64),
      'under_score',
    ]) {
      const err = await sdkError(s3.send(new CreateBucketCommand({ Bucket: name })));
      assert.equal(err.name, 'InvalidBucketName', name);
      assert.equal(err.$metadata.httpStatusCode, 400);
    }
  });

  test('CreateBucket on a bucket you own answers 200 in us-east-1', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'twice-bucket' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'twice-bucket' }));
  });

  test('CreateBucket accepts a LocationConstraint equal to the server region and refuses another', async () => {
    await s3.send(
      new CreateBucketCommand({
        Bucket: 'located-bucket',
        CreateBucketConfiguration: { LocationConstraint: 'us-east-1' as never },
      }),
    );
    const err = await sdkError(
      s3.send(
        new CreateBucketCommand({
          Bucket: 'elsewhere-bucket',
          CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
        }),
      ),
    );
    assert.equal(err.name, 'IllegalLocationConstraintException');
  });

  test('HeadBucket answers 200 with x-amz-bucket-region, and 404 for a missing bucket', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'head-bucket' }));
    const res = await s3.send(new HeadBucketCommand({ Bucket: 'head-bucket' }));
    assert.equal(res.BucketRegion, 'us-east-1');
    const err = await sdkError(s3.send(new HeadBucketCommand({ Bucket: 'no-such-bucket-here' })));
    assert.equal(err.$metadata.httpStatusCode, 404);
  });

  test('GetBucketLocation returns an empty constraint for us-east-1', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'where-bucket' }));
    const res = await s3.send(new GetBucketLocationCommand({ Bucket: 'where-bucket' }));
    assert.equal(res.LocationConstraint, undefined);
  });

  test('GetBucketVersioning reports no versioning status', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'versioning-bucket' }));
    const res = await s3.send(new GetBucketVersioningCommand({ Bucket: 'versioning-bucket' }));
    assert.equal(res.Status, undefined);
  });

  test('DeleteBucket refuses a bucket with objects (BucketNotEmpty) and deletes an empty one', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'full-bucket' }));
    await s3.send(new PutObjectCommand({ Bucket: 'full-bucket', Key: 'k', Body: 'x' }));
    const err = await sdkError(s3.send(new DeleteBucketCommand({ Bucket: 'full-bucket' })));
    assert.equal(err.name, 'BucketNotEmpty');
    assert.equal(err.$metadata.httpStatusCode, 409);
    await s3.send(new DeleteObjectCommand({ Bucket: 'full-bucket', Key: 'k' }));
    const res = await s3.send(new DeleteBucketCommand({ Bucket: 'full-bucket' }));
    assert.equal(res.$metadata.httpStatusCode, 204);
    const gone = await sdkError(s3.send(new DeleteBucketCommand({ Bucket: 'full-bucket' })));
    assert.equal(gone.name, 'NoSuchBucket');
  });

  test('PutBucketAcl with a canned ACL shows in GetBucketAcl', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'acl-bucket' }));
    const before = await s3.send(new GetBucketAclCommand({ Bucket: 'acl-bucket' }));
    assert.equal(before.Grants?.length, 1);
    assert.equal(before.Grants?.[0]?.Permission, 'FULL_CONTROL');
    await s3.send(new PutBucketAclCommand({ Bucket: 'acl-bucket', ACL: 'public-read' }));
    const afterAcl = await s3.send(new GetBucketAclCommand({ Bucket: 'acl-bucket' }));
    const group = afterAcl.Grants?.find((g) => g.Grantee?.Type === 'Group');
    assert.equal(group?.Grantee?.URI, 'http://acs.amazonaws.com/groups/global/AllUsers');
    assert.equal(group?.Permission, 'READ');
  });

  test('PutBucketAcl accepts grant headers and an AccessControlPolicy body', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'grant-bucket' }));
    const owner = (await s3.send(new GetBucketAclCommand({ Bucket: 'grant-bucket' }))).Owner!;
    await s3.send(
      new PutBucketAclCommand({
        Bucket: 'grant-bucket',
        GrantRead: 'uri="http://acs.amazonaws.com/groups/global/AuthenticatedUsers"',
        GrantFullControl: `id="${owner.ID}"`,
      }),
    );
    let acl = await s3.send(new GetBucketAclCommand({ Bucket: 'grant-bucket' }));
    assert.deepEqual(acl.Grants?.map((g) => g.Permission).sort(), ['FULL_CONTROL', 'READ']);
    await s3.send(
      new PutBucketAclCommand({
        Bucket: 'grant-bucket',
        AccessControlPolicy: {
          Owner: owner,
          Grants: [{ Grantee: { Type: 'CanonicalUser', ID: owner.ID }, Permission: 'WRITE_ACP' }],
        },
      }),
    );
    acl = await s3.send(new GetBucketAclCommand({ Bucket: 'grant-bucket' }));
    assert.deepEqual(
      acl.Grants?.map((g) => g.Permission),
      ['WRITE_ACP'],
    );
  });

  test('PutBucketAcl refuses a canned ACL mixed with grant headers', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'mixed-acl-bucket' }));
    const err = await sdkError(
      s3.send(
        new PutBucketAclCommand({
          Bucket: 'mixed-acl-bucket',
          ACL: 'private',
          GrantRead: 'uri="http://acs.amazonaws.com/groups/global/AllUsers"',
        }),
      ),
    );
    assert.equal(err.name, 'InvalidRequest');
  });

  test('PutBucketAcl with a malformed body answers MalformedACLError', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'bad-acl-bucket' }));
    const err = await sdkError(
      s3.send(
        new PutBucketAclCommand({
          Bucket: 'bad-acl-bucket',
          AccessControlPolicy: { Grants: [{ Grantee: { Type: 'CanonicalUser' }, Permission: 'READ' }] },
        }),
      ),
    );
    assert.equal(err.name, 'MalformedACLError');
  });
});

describe('bucket operations outside us-east-1', { skip: EMBEDDED_ONLY }, () => {
  let srv: TestServer;
  before(async () => {
    srv = await startServer({ server: { region: 'eu-west-1' } });
  });
  after(() => srv.stop());

  test('CreateBucket on a bucket you own answers BucketAlreadyOwnedByYou (409)', async () => {
    const s3 = srv.client({ region: 'eu-west-1' });
    await s3.send(
      new CreateBucketCommand({
        Bucket: 'euro-bucket',
        CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
      }),
    );
    const err = await sdkError(
      s3.send(
        new CreateBucketCommand({
          Bucket: 'euro-bucket',
          CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
        }),
      ),
    );
    assert.equal(err.name, 'BucketAlreadyOwnedByYou');
    assert.equal(err.$metadata.httpStatusCode, 409);
    const loc = await s3.send(new GetBucketLocationCommand({ Bucket: 'euro-bucket' }));
    assert.equal(loc.LocationConstraint, 'eu-west-1');
  });

  test('requests signed for another region are refused', async () => {
    const wrong = srv.client({ region: 'us-west-2' });
    const err = await sdkError(wrong.send(new ListBucketsCommand({})));
    assert.equal(err.$metadata.httpStatusCode, 400);
    assert.equal(err.name, 'AuthorizationHeaderMalformed');
  });
});
