// PublicAccessBlock and Object Ownership, following
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html
// ("BlockPublicAcls", "IgnorePublicAcls") and
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html
// (BucketOwnerEnforced disables ACLs; BucketOwnerPreferred; ObjectWriter).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateBucketCommand,
  DeleteBucketOwnershipControlsCommand,
  DeletePublicAccessBlockCommand,
  GetBucketOwnershipControlsCommand,
  GetObjectAclCommand,
  GetPublicAccessBlockCommand,
  PutBucketAclCommand,
  PutBucketOwnershipControlsCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { sdkError } from '../helpers/s3-assert.ts';
import { send } from '../helpers/raw.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { setUpCallers, type Callers } from '../acl/callers.ts';

describe('PublicAccessBlock and OwnershipControls', () => {
  let srv: TestServer;
  let s3: S3Client;
  let other: S3Client;
  let callers: Callers;
  before(async () => {
    srv = await startServer();
    s3 = srv.client();
    callers = await setUpCallers(srv);
    other = callers.client('other');
  });
  after(() => srv.stop());

  test('GetPublicAccessBlock answers NoSuchPublicAccessBlockConfiguration until set; Put/Get/Delete round-trip', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'pab-config' }));
    assert.equal(
      (await sdkError(s3.send(new GetPublicAccessBlockCommand({ Bucket: 'pab-config' })))).name,
      'NoSuchPublicAccessBlockConfiguration',
    );
    const conf = {
      BlockPublicAcls: true,
      IgnorePublicAcls: false,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: false,
    };
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: 'pab-config', PublicAccessBlockConfiguration: conf }));
    assert.deepEqual(
      (await s3.send(new GetPublicAccessBlockCommand({ Bucket: 'pab-config' }))).PublicAccessBlockConfiguration,
      conf,
    );
    assert.equal(
      (await sdkError(other.send(new GetPublicAccessBlockCommand({ Bucket: 'pab-config' })))).name,
      'AccessDenied',
      'bucket owner only',
    );
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'pab-config' }));
    assert.equal(
      (await sdkError(s3.send(new GetPublicAccessBlockCommand({ Bucket: 'pab-config' })))).name,
      'NoSuchPublicAccessBlockConfiguration',
    );
  });

  test('BlockPublicAcls refuses public ACLs on objects and the bucket with AccessDenied; private ones pass', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'pab-block' }));
    await s3.send(
      new PutPublicAccessBlockCommand({
        Bucket: 'pab-block',
        PublicAccessBlockConfiguration: { BlockPublicAcls: true },
      }),
    );
    assert.equal(
      (await sdkError(s3.send(new PutObjectCommand({ Bucket: 'pab-block', Key: 'k', Body: 'x', ACL: 'public-read' }))))
        .name,
      'AccessDenied',
    );
    assert.equal(
      (await sdkError(s3.send(new PutBucketAclCommand({ Bucket: 'pab-block', ACL: 'public-read' })))).name,
      'AccessDenied',
    );
    await s3.send(new PutObjectCommand({ Bucket: 'pab-block', Key: 'k', Body: 'x', ACL: 'private' }));
    assert.equal(
      (await sdkError(s3.send(new PutObjectAclCommand({ Bucket: 'pab-block', Key: 'k', ACL: 'authenticated-read' }))))
        .name,
      'AccessDenied',
    );
  });

  test('IgnorePublicAcls makes public grants count for nothing, and deleting the block restores them', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'pab-ignore' }));
    await s3.send(new PutObjectCommand({ Bucket: 'pab-ignore', Key: 'pub', Body: 'public bytes', ACL: 'public-read' }));
    assert.equal((await send('GET', `${srv.url}/pab-ignore/pub`, {})).status, 200);
    await s3.send(
      new PutPublicAccessBlockCommand({
        Bucket: 'pab-ignore',
        PublicAccessBlockConfiguration: { IgnorePublicAcls: true },
      }),
    );
    assert.equal((await send('GET', `${srv.url}/pab-ignore/pub`, {})).code, 'AccessDenied');
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'pab-ignore' }));
    assert.equal((await send('GET', `${srv.url}/pab-ignore/pub`, {})).text, 'public bytes');
  });

  test('GetBucketOwnershipControls answers OwnershipControlsNotFoundError for a bucket created without it (ObjectWriter applies)', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'own-default' }));
    assert.equal(
      (await sdkError(s3.send(new GetBucketOwnershipControlsCommand({ Bucket: 'own-default' })))).name,
      'OwnershipControlsNotFoundError',
    );
    await s3.send(
      new PutBucketOwnershipControlsCommand({
        Bucket: 'own-default',
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] },
      }),
    );
    assert.deepEqual(
      (await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: 'own-default' }))).OwnershipControls?.Rules,
      [{ ObjectOwnership: 'BucketOwnerPreferred' }],
    );
    await s3.send(new DeleteBucketOwnershipControlsCommand({ Bucket: 'own-default' }));
    assert.equal(
      (await sdkError(s3.send(new GetBucketOwnershipControlsCommand({ Bucket: 'own-default' })))).name,
      'OwnershipControlsNotFoundError',
    );
  });

  test('BucketOwnerEnforced: ACL-setting requests fail with AccessControlListNotSupported except bucket-owner-full-control; the bucket owner owns every object', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'own-enforced', ObjectOwnership: 'BucketOwnerEnforced' }));
    assert.deepEqual(
      (await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: 'own-enforced' }))).OwnershipControls?.Rules,
      [{ ObjectOwnership: 'BucketOwnerEnforced' }],
    );
    for (const ACL of ['public-read', 'authenticated-read', 'private'] as const) {
      const e = await sdkError(
        s3.send(
          new PutObjectCommand({
            Bucket: 'own-enforced',
            Key: 'k',
            Body: 'x',
            ACL: ACL === 'private' ? 'public-read-write' : ACL,
          }),
        ),
      );
      assert.equal(e.name, 'AccessControlListNotSupported', ACL);
      assert.equal(e.$metadata.httpStatusCode, 400);
    }
    assert.equal(
      (await sdkError(s3.send(new PutBucketAclCommand({ Bucket: 'own-enforced', ACL: 'public-read' })))).name,
      'AccessControlListNotSupported',
    );
    await s3.send(new PutBucketAclCommand({ Bucket: 'own-enforced', ACL: 'private' }));
    await s3.send(
      new PutObjectCommand({ Bucket: 'own-enforced', Key: 'k', Body: 'x', ACL: 'bucket-owner-full-control' }),
    );
    await s3.send(new PutObjectCommand({ Bucket: 'own-enforced', Key: 'plain', Body: 'x' }));
    const acl = await s3.send(new GetObjectAclCommand({ Bucket: 'own-enforced', Key: 'plain' }));
    assert.equal(acl.Owner?.ID, callers.ownerId);
    assert.deepEqual(
      acl.Grants?.map((g) => [g.Grantee?.ID, g.Permission]),
      [[callers.ownerId, 'FULL_CONTROL']],
    );
    assert.equal(
      (
        await sdkError(
          s3.send(
            new CreateBucketCommand({
              Bucket: 'own-enforced-pub',
              ObjectOwnership: 'BucketOwnerEnforced',
              ACL: 'public-read',
            }),
          ),
        )
      ).name,
      'InvalidBucketAclWithObjectOwnership',
    );
  });

  test('BucketOwnerEnforced on an existing bucket: the bucket owner takes over objects others wrote, and ACL grants stop granting', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'own-shared', GrantWrite: `id="${callers.otherId}"` }));
    await other.send(new PutObjectCommand({ Bucket: 'own-shared', Key: 'before', Body: 'x' }));
    assert.equal(
      (await sdkError(s3.send(new GetObjectAclCommand({ Bucket: 'own-shared', Key: 'before' })))).name,
      'AccessDenied',
      'ObjectWriter: the writer owns it',
    );
    await s3.send(
      new PutBucketOwnershipControlsCommand({
        Bucket: 'own-shared',
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      }),
    );
    assert.equal(
      (await s3.send(new GetObjectAclCommand({ Bucket: 'own-shared', Key: 'before' }))).Owner?.ID,
      callers.ownerId,
      'ACLs disabled: the bucket owner has full control',
    );
    // With ACLs disabled only policies grant access, and there are none: the WRITE grant is void.
    assert.equal(
      (await sdkError(other.send(new PutObjectCommand({ Bucket: 'own-shared', Key: 'after', Body: 'x' })))).name,
      'AccessDenied',
    );
    await s3.send(new DeleteBucketOwnershipControlsCommand({ Bucket: 'own-shared' }));
    await other.send(new PutObjectCommand({ Bucket: 'own-shared', Key: 'after', Body: 'x' }));
  });

  test('BucketOwnerPreferred: bucket-owner-full-control hands the object to the bucket owner, otherwise the writer keeps it', async () => {
    await s3.send(
      new CreateBucketCommand({
        Bucket: 'own-preferred',
        GrantWrite: `id="${callers.otherId}"`,
        ObjectOwnership: 'BucketOwnerPreferred',
      }),
    );
    await other.send(
      new PutObjectCommand({ Bucket: 'own-preferred', Key: 'handed', Body: 'x', ACL: 'bucket-owner-full-control' }),
    );
    assert.equal(
      (await s3.send(new GetObjectAclCommand({ Bucket: 'own-preferred', Key: 'handed' }))).Owner?.ID,
      callers.ownerId,
    );
    await other.send(new PutObjectCommand({ Bucket: 'own-preferred', Key: 'kept', Body: 'x' }));
    assert.equal(
      (await other.send(new GetObjectAclCommand({ Bucket: 'own-preferred', Key: 'kept' }))).Owner?.ID,
      callers.otherId,
    );
  });
});
