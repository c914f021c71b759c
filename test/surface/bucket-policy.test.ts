// Bucket policies with the real SDK and unsigned HTTP, following
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-policies.html and
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/how-s3-evaluates-access-control.html
// (an explicit Deny wins over every Allow; an Allow grants what ACLs do not).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectsCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { sdkError } from '../helpers/s3-assert.ts';
import { send } from '../helpers/raw.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { setUpCallers, type Callers } from '../acl/callers.ts';

type Statement = Record<string, unknown>;
const policyOf = (...Statement: Statement[]) => JSON.stringify({ Version: '2012-10-17', Statement });

describe('bucket policies', () => {
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

  async function bucketWith(name: string, ...statements: Statement[]): Promise<void> {
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    await s3.send(new PutObjectCommand({ Bucket: name, Key: 'shared/a', Body: 'shared bytes' }));
    await s3.send(new PutObjectCommand({ Bucket: name, Key: 'private/a', Body: 'private bytes' }));
    if (statements.length) await s3.send(new PutBucketPolicyCommand({ Bucket: name, Policy: policyOf(...statements) }));
  }
  const anonymous = (method: string, path: string) => send(method, `${srv.url}${path}`, {});

  test('GetBucketPolicy answers NoSuchBucketPolicy until set; Put, Get and Delete round-trip the document, owner only', async () => {
    await bucketWith('policy-doc');
    assert.equal(
      (await sdkError(s3.send(new GetBucketPolicyCommand({ Bucket: 'policy-doc' })))).name,
      'NoSuchBucketPolicy',
    );
    const doc = policyOf({
      Sid: 'read',
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::policy-doc/shared/*',
    });
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'policy-doc', Policy: doc }));
    assert.equal((await s3.send(new GetBucketPolicyCommand({ Bucket: 'policy-doc' }))).Policy, doc);
    assert.equal(
      (await sdkError(other.send(new GetBucketPolicyCommand({ Bucket: 'policy-doc' })))).name,
      'AccessDenied',
    );
    assert.equal(
      (await sdkError(other.send(new PutBucketPolicyCommand({ Bucket: 'policy-doc', Policy: doc })))).name,
      'AccessDenied',
    );
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: 'policy-doc' }));
    assert.equal(
      (await sdkError(s3.send(new GetBucketPolicyCommand({ Bucket: 'policy-doc' })))).name,
      'NoSuchBucketPolicy',
    );
  });

  test('a public-read policy lets anonymous callers GET and HEAD objects under its prefix and nothing else', async () => {
    await bucketWith('policy-public', {
      Effect: 'Allow',
      Principal: '*',
      Action: ['s3:GetObject'],
      Resource: ['arn:aws:s3:::policy-public/shared/*'],
    });
    const got = await anonymous('GET', '/policy-public/shared/a');
    assert.equal(got.status, 200);
    assert.equal(got.text, 'shared bytes');
    assert.equal((await anonymous('HEAD', '/policy-public/shared/a')).status, 200);
    assert.equal((await anonymous('GET', '/policy-public/private/a')).code, 'AccessDenied');
    assert.equal((await anonymous('GET', '/policy-public?list-type=2')).code, 'AccessDenied');
    assert.equal((await send('PUT', `${srv.url}/policy-public/shared/b`, {}, 'x')).code, 'AccessDenied');
    // Not allowed to list: a missing key is AccessDenied, not NoSuchKey (no probing).
    assert.equal((await anonymous('GET', '/policy-public/shared/missing')).code, 'AccessDenied');
    const status = await s3.send(new GetBucketPolicyStatusCommand({ Bucket: 'policy-public' }));
    assert.equal(status.PolicyStatus?.IsPublic, true);
  });

  test('an Allow grants another owner what the ACLs do not: listing one prefix and reading under it', async () => {
    await bucketWith(
      'policy-grant',
      {
        Effect: 'Allow',
        Principal: { AWS: callers.otherId },
        Action: 's3:ListBucket',
        Resource: 'arn:aws:s3:::policy-grant',
        Condition: { StringLike: { 's3:prefix': 'shared/*' } },
      },
      {
        Effect: 'Allow',
        Principal: { CanonicalUser: callers.otherId },
        Action: 's3:GetObject',
        Resource: 'arn:aws:s3:::policy-grant/shared/*',
      },
    );
    const listed = await other.send(new ListObjectsV2Command({ Bucket: 'policy-grant', Prefix: 'shared/' }));
    assert.deepEqual(
      listed.Contents?.map((c) => c.Key),
      ['shared/a'],
    );
    assert.equal(
      (await sdkError(other.send(new ListObjectsV2Command({ Bucket: 'policy-grant' })))).name,
      'AccessDenied',
    );
    const body = await other.send(new GetObjectCommand({ Bucket: 'policy-grant', Key: 'shared/a' }));
    assert.equal(await body.Body!.transformToString(), 'shared bytes');
    assert.equal(
      (await sdkError(other.send(new GetObjectCommand({ Bucket: 'policy-grant', Key: 'private/a' })))).name,
      'AccessDenied',
    );
    const status = await s3.send(new GetBucketPolicyStatusCommand({ Bucket: 'policy-grant' }));
    assert.equal(status.PolicyStatus?.IsPublic, false);
  });

  test('a Deny refuses a caller the bucket ACL grants, for its prefix only, also key by key in DeleteObjects and as a copy source', async () => {
    await bucketWith('policy-deny', {
      Effect: 'Deny',
      Principal: { AWS: [`arn:aws:iam::${callers.otherId}:root`] },
      Action: ['s3:PutObject', 's3:DeleteObject', 's3:GetObject'],
      Resource: 'arn:aws:s3:::policy-deny/private/*',
    });
    await s3.send(new PutBucketAclCommand({ Bucket: 'policy-deny', GrantFullControl: `id="${callers.otherId}"` }));
    await other.send(new PutObjectCommand({ Bucket: 'policy-deny', Key: 'shared/b', Body: 'ok' }));
    assert.equal(
      (await sdkError(other.send(new PutObjectCommand({ Bucket: 'policy-deny', Key: 'private/b', Body: 'no' })))).name,
      'AccessDenied',
    );
    const res = await other.send(
      new DeleteObjectsCommand({
        Bucket: 'policy-deny',
        Delete: { Objects: [{ Key: 'shared/b' }, { Key: 'private/a' }] },
      }),
    );
    assert.deepEqual(
      res.Deleted?.map((d) => d.Key),
      ['shared/b'],
    );
    assert.deepEqual(
      res.Errors?.map((e) => [e.Key, e.Code]),
      [['private/a', 'AccessDenied']],
    );
    // Objects whose ACLs let the other owner read them: the Deny still wins under private/.
    for (const Key of ['shared/r', 'private/r'])
      await s3.send(
        new PutObjectCommand({ Bucket: 'policy-deny', Key, Body: Key, GrantRead: `id="${callers.otherId}"` }),
      );
    await other.send(new CreateBucketCommand({ Bucket: 'policy-deny-dest' }));
    const copy = (from: string) =>
      other.send(new CopyObjectCommand({ Bucket: 'policy-deny-dest', Key: 'c', CopySource: `policy-deny/${from}` }));
    await copy('shared/r');
    assert.equal((await sdkError(copy('private/r'))).name, 'AccessDenied');
    assert.equal(
      (await sdkError(other.send(new GetObjectCommand({ Bucket: 'policy-deny', Key: 'private/r' })))).name,
      'AccessDenied',
    );
    // The owner is not named, so nothing changes for it.
    const own = await s3.send(new GetObjectCommand({ Bucket: 'policy-deny', Key: 'private/a' }));
    assert.equal(await own.Body!.transformToString(), 'private bytes');
  });

  test('a Deny for everyone binds the owner too, except that the owner can still delete the policy', async () => {
    await bucketWith('policy-lockout', {
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: ['arn:aws:s3:::policy-lockout', 'arn:aws:s3:::policy-lockout/*'],
    });
    assert.equal(
      (await sdkError(s3.send(new GetObjectCommand({ Bucket: 'policy-lockout', Key: 'shared/a' })))).name,
      'AccessDenied',
    );
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: 'policy-lockout' }));
    const body = await s3.send(new GetObjectCommand({ Bucket: 'policy-lockout', Key: 'shared/a' }));
    assert.equal(await body.Body!.transformToString(), 'shared bytes');
  });

  test('PutBucketPolicy refuses a malformed policy with MalformedPolicy and keeps the one it had', async () => {
    await bucketWith('policy-bad', {
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::policy-bad/shared/*',
    });
    const good = (await s3.send(new GetBucketPolicyCommand({ Bucket: 'policy-bad' }))).Policy;
    const bad = [
      'not json',
      policyOf({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::another/*' }),
      policyOf({ Effect: 'Allow', Principal: '*', Action: 's3:GetEverything', Resource: 'arn:aws:s3:::policy-bad/*' }),
      policyOf({ Effect: 'Maybe', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::policy-bad/*' }),
      policyOf({
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:GetObject',
        Resource: 'arn:aws:s3:::policy-bad/*',
        Condition: { StringEquals: { 'aws:SourceVpce': 'vpce-1' } },
      }),
    ];
    for (const Policy of bad) {
      const err = await sdkError(s3.send(new PutBucketPolicyCommand({ Bucket: 'policy-bad', Policy })));
      assert.equal(err.name, 'MalformedPolicy', Policy);
      assert.equal(err.$metadata.httpStatusCode, 400);
    }
    assert.equal((await s3.send(new GetBucketPolicyCommand({ Bucket: 'policy-bad' }))).Policy, good);
  });

  test('BlockPublicPolicy refuses a public policy; RestrictPublicBuckets makes a stored one grant anonymous callers nothing', async () => {
    const publicRead = {
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::policy-pab/*',
    };
    await bucketWith('policy-pab', publicRead);
    assert.equal((await anonymous('GET', '/policy-pab/shared/a')).status, 200);
    await s3.send(
      new PutPublicAccessBlockCommand({
        Bucket: 'policy-pab',
        PublicAccessBlockConfiguration: { RestrictPublicBuckets: true },
      }),
    );
    assert.equal((await anonymous('GET', '/policy-pab/shared/a')).code, 'AccessDenied');
    await s3.send(
      new PutPublicAccessBlockCommand({
        Bucket: 'policy-pab',
        PublicAccessBlockConfiguration: { BlockPublicPolicy: true },
      }),
    );
    assert.equal((await anonymous('GET', '/policy-pab/shared/a')).status, 200);
    assert.equal(
      (await sdkError(s3.send(new PutBucketPolicyCommand({ Bucket: 'policy-pab', Policy: policyOf(publicRead) }))))
        .name,
      'AccessDenied',
    );
    const limited = { ...publicRead, Condition: { IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } } };
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'policy-pab', Policy: policyOf(limited) }));
    assert.equal((await anonymous('GET', '/policy-pab/shared/a')).status, 200, 'from 127.0.0.1');
  });

  test('a condition on the caller address decides: a Deny outside an address range refuses, inside it passes', async () => {
    await bucketWith('policy-ip', {
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::policy-ip/*',
      Condition: { NotIpAddress: { 'aws:SourceIp': ['10.0.0.0/8'] } },
    });
    assert.equal(
      (await sdkError(s3.send(new GetObjectCommand({ Bucket: 'policy-ip', Key: 'shared/a' })))).name,
      'AccessDenied',
    );
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: 'policy-ip',
        Policy: policyOf({
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::policy-ip/*',
          Condition: { NotIpAddress: { 'aws:SourceIp': ['127.0.0.0/8', '::1/128'] } },
        }),
      }),
    );
    const body = await s3.send(new GetObjectCommand({ Bucket: 'policy-ip', Key: 'shared/a' }));
    assert.equal(await body.Body!.transformToString(), 'shared bytes');
  });
});
