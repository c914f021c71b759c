// Attacks on bucket policies: every way a caller might get more than AWS S3 gives under the same
// policy and ACLs, or make the server misbehave through a policy. Each test asserts what AWS
// does, so a failing test is a finding. References:
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html (the
// permissions each operation needs), https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
// (API operations → IAM actions), https://docs.aws.amazon.com/AmazonS3/latest/userguide/how-s3-evaluates-access-control.html,
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketPolicyCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
  type S3ServiceException,
} from '@aws-sdk/client-s3';
import { sdkError } from '../helpers/s3-assert.ts';
import { send, signed } from '../helpers/raw.ts';
import { presignUrl } from '../helpers/signer.ts';
import { form, signedPolicyFields, sigv2PolicyFields } from '../helpers/post-form.ts';
import { ACCESS_KEY, REGION, SECRET_KEY, startServer, type TestServer } from '../helpers/server.ts';
import { setUpCallers, type Callers } from '../acl/callers.ts';

type Statement = Record<string, unknown>;
const policyOf = (...Statement: Statement[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const status = (e: S3ServiceException) => e.$metadata.httpStatusCode;
const md5 = (s: string) => createHash('md5').update(s).digest('base64');

describe('bucket policy attacks', () => {
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

  const arn = (bucket: string, path = '') => `arn:aws:s3:::${bucket}${path}`;
  const setPolicy = (Bucket: string, ...statements: Statement[]) =>
    s3.send(new PutBucketPolicyCommand({ Bucket, Policy: policyOf(...statements) }));
  async function bucketWith(name: string, ...statements: Statement[]): Promise<void> {
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    await s3.send(new PutObjectCommand({ Bucket: name, Key: 'shared/a', Body: 'shared bytes' }));
    await s3.send(new PutObjectCommand({ Bucket: name, Key: 'private/a', Body: 'private bytes' }));
    if (statements.length) await setPolicy(name, ...statements);
  }
  const denyAll = (bucket: string, Action: string | string[], path = '/private/*', extra: Statement = {}) => ({
    Effect: 'Deny',
    Principal: '*',
    Action,
    Resource: arn(bucket, path),
    ...extra,
  });
  const exists = async (Bucket: string, Key: string) => {
    try {
      await s3.send(new HeadObjectCommand({ Bucket, Key }));
      return true;
    } catch {
      return false;
    }
  };
  /** 'ok', or the error code the request was refused with. */
  const outcome = (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (e: S3ServiceException) => e.name,
    );
  /** DeleteObjects: the keys deleted, or none when the whole request is refused (403). */
  async function deleteObjects(client: S3Client, Bucket: string, keys: string[]): Promise<{ deleted: string[] }> {
    try {
      const res = await client.send(
        new DeleteObjectsCommand({ Bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }),
      );
      return { deleted: (res.Deleted ?? []).map((d) => d.Key!) };
    } catch (err) {
      assert.equal((err as S3ServiceException).name, 'AccessDenied');
      return { deleted: [] };
    }
  }
  const anonymous = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
    send(method, `${srv.url}${path}`, headers, body);
  const post = async (bucket: string, fd: FormData) => {
    const res = await fetch(`${srv.url}/${bucket}`, { method: 'POST', body: fd, redirect: 'manual' });
    const text = await res.text();
    return { status: res.status, code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1], text };
  };
  /** A SigV2 query-string presigned URL (RESTAuthentication.html, "Query string request authentication"). */
  const presignV2 = (path: string) => {
    const expires = Math.floor(Date.now() / 1000) + 300;
    const sig = createHmac('sha1', SECRET_KEY).update(`GET\n\n\n${expires}\n${path}`).digest('base64');
    return `${srv.url}${path}?AWSAccessKeyId=${ACCESS_KEY}&Expires=${expires}&Signature=${encodeURIComponent(sig)}`;
  };
  /** A SigV2 header-signed GET (no x-amz-* headers, no sub-resource). */
  const getV2 = (path: string) => {
    const date = new Date().toUTCString();
    const sig = createHmac('sha1', SECRET_KEY).update(`GET\n\n\n${date}\n${path}`).digest('base64');
    return send('GET', `${srv.url}${path}`, { date, authorization: `AWS ${ACCESS_KEY}:${sig}` });
  };

  // ---- reads under a denied prefix ----

  test('a Deny on s3:GetObject also refuses GetObjectAttributes', async () => {
    await bucketWith('atk-attrs', denyAll('atk-attrs', 's3:GetObject'));
    assert.equal(
      (await sdkError(s3.send(new GetObjectCommand({ Bucket: 'atk-attrs', Key: 'private/a' })))).name,
      'AccessDenied',
    );
    // GetObjectAttributes needs s3:GetObject and s3:GetObjectAttributes (API_GetObjectAttributes.html, "Permissions").
    const err = await sdkError(
      s3.send(
        new GetObjectAttributesCommand({
          Bucket: 'atk-attrs',
          Key: 'private/a',
          ObjectAttributes: ['ETag', 'ObjectSize'],
        }),
      ),
    );
    assert.equal(err.name, 'AccessDenied');
  });

  test('a Deny on s3:GetObject refuses HEAD, Range, ?partNumber, presigned SigV4 and SigV2, and virtual-hosted-style reads', async () => {
    await bucketWith('atk-reads', denyAll('atk-reads', 's3:GetObject'));
    const head = await sdkError(s3.send(new HeadObjectCommand({ Bucket: 'atk-reads', Key: 'private/a' })));
    assert.equal(status(head), 403);
    const range = await sdkError(
      s3.send(new GetObjectCommand({ Bucket: 'atk-reads', Key: 'private/a', Range: 'bytes=0-3' })),
    );
    assert.equal(range.name, 'AccessDenied');
    assert.equal((await signed('GET', `${srv.url}/atk-reads/private/a?partNumber=1`)).code, 'AccessDenied');
    const v4 = presignUrl({
      method: 'GET',
      url: `${srv.url}/atk-reads/private/a`,
      accessKey: ACCESS_KEY,
      secretKey: SECRET_KEY,
      region: REGION,
    });
    assert.equal((await send('GET', v4, {})).code, 'AccessDenied');
    assert.equal((await send('GET', presignV2('/atk-reads/private/a'), {})).code, 'AccessDenied');
    assert.equal((await getV2('/atk-reads/private/a')).code, 'AccessDenied');
    const virtual = await signed('GET', `${srv.url}/private/a`, {
      headers: { host: `atk-reads.localhost:${srv.port}` },
    });
    assert.equal(virtual.code, 'AccessDenied');
    // The same requests under shared/ succeed: the Deny is what refused them.
    assert.equal(
      (await signed('GET', `${srv.url}/shared/a`, { headers: { host: `atk-reads.localhost:${srv.port}` } })).status,
      200,
    );
    assert.equal((await send('GET', presignV2('/atk-reads/shared/a'), {})).status, 200);
  });

  test('a Deny under a prefix cannot be dodged by encoded or unusual spellings of the key', async () => {
    await bucketWith('atk-spell', denyAll('atk-spell', 's3:GetObject'));
    for (const path of ['/atk-spell/private%2Fa', '/atk-spell/%70rivate/a', '/atk-spell/private%2fa']) {
      const r = await signed('GET', `${srv.url}${path}`);
      assert.equal(r.code, 'AccessDenied', path);
    }
    // Dot segments and doubled slashes are other keys (S3 does not normalise paths): never the denied bytes.
    for (const path of ['/atk-spell/shared/../private/a', '/atk-spell//private/a', '/atk-spell/./private/a']) {
      const r = await signed('GET', `${srv.url}${path}`);
      assert.notEqual(r.text, 'private bytes', path);
      assert.ok(r.status >= 400 && r.status < 500, `${path}: ${r.status} ${r.code}`);
    }
  });

  test('a Deny on s3:GetObject refuses the key as an UploadPartCopy source, as for CopyObject', async () => {
    await bucketWith('atk-partcopy', denyAll('atk-partcopy', 's3:GetObject'));
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: 'atk-partcopy', Key: 'shared/dest' }),
    );
    const copyPart = (from: string) =>
      s3.send(
        new UploadPartCopyCommand({
          Bucket: 'atk-partcopy',
          Key: 'shared/dest',
          UploadId,
          PartNumber: 1,
          CopySource: `atk-partcopy/${from}`,
        }),
      );
    await copyPart('shared/a');
    assert.equal((await sdkError(copyPart('private/a'))).name, 'AccessDenied');
    assert.equal((await sdkError(copyPart('private%2Fa'))).name, 'AccessDenied');
    const copy = s3.send(
      new CopyObjectCommand({ Bucket: 'atk-partcopy', Key: 'shared/c', CopySource: 'atk-partcopy/private/a' }),
    );
    assert.equal((await sdkError(copy)).name, 'AccessDenied');
  });

  test('a Deny on s3:GetObjectVersion refuses reads and copies by versionId on a versioned bucket', async () => {
    const B = 'atk-versions';
    await s3.send(new CreateBucketCommand({ Bucket: B }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: B, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: B, Key: 'private/a', Body: 'old secret' }))).VersionId!;
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'private/a', Body: 'new' }));
    await setPolicy(B, denyAll(B, ['s3:GetObjectVersion', 's3:GetObjectVersionAttributes']));
    assert.equal(
      (await sdkError(s3.send(new GetObjectCommand({ Bucket: B, Key: 'private/a', VersionId: v1 })))).name,
      'AccessDenied',
    );
    assert.equal(
      status(await sdkError(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'private/a', VersionId: v1 })))),
      403,
    );
    const copy = s3.send(
      new CopyObjectCommand({ Bucket: B, Key: 'shared/c', CopySource: `${B}/private/a?versionId=${v1}` }),
    );
    assert.equal((await sdkError(copy)).name, 'AccessDenied');
    const attrs = s3.send(
      new GetObjectAttributesCommand({ Bucket: B, Key: 'private/a', VersionId: v1, ObjectAttributes: ['ETag'] }),
    );
    assert.equal((await sdkError(attrs)).name, 'AccessDenied');
  });

  test('a Deny on s3:ListBucket makes a missing key AccessDenied, not NoSuchKey, even in a public-read bucket', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'atk-probe', ACL: 'public-read' }));
    await setPolicy('atk-probe', {
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:ListBucket',
      Resource: arn('atk-probe'),
    });
    assert.equal((await anonymous('GET', '/atk-probe?list-type=2')).code, 'AccessDenied');
    assert.equal((await anonymous('GET', '/atk-probe/missing')).code, 'AccessDenied');
    assert.equal(status(await sdkError(s3.send(new HeadObjectCommand({ Bucket: 'atk-probe', Key: 'missing' })))), 403);
  });

  // ---- writes under a denied prefix ----

  test('a Deny on s3:PutObject refuses CreateMultipartUpload, and UploadPart and Complete of an upload started before it', async () => {
    const B = 'atk-mpu';
    await bucketWith(B);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'private/big' }));
    const p1 = await s3.send(
      new UploadPartCommand({ Bucket: B, Key: 'private/big', UploadId, PartNumber: 1, Body: 'x' }),
    );
    await setPolicy(B, denyAll(B, 's3:PutObject'));
    const start = s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'private/other' }));
    assert.equal((await sdkError(start)).name, 'AccessDenied');
    const part = s3.send(new UploadPartCommand({ Bucket: B, Key: 'private/big', UploadId, PartNumber: 2, Body: 'y' }));
    assert.equal((await sdkError(part)).name, 'AccessDenied');
    const complete = s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: B,
        Key: 'private/big',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }] },
      }),
    );
    assert.equal((await sdkError(complete)).name, 'AccessDenied');
    assert.equal(await exists(B, 'private/big'), false);
  });

  test('a Deny on s3:PutObjectAcl or s3:PutObjectTagging also refuses a PutObject that sets an ACL or tags', async () => {
    const B = 'atk-put-extras';
    await bucketWith(B, denyAll(B, ['s3:PutObjectAcl', 's3:PutObjectTagging'], '/*'));
    // The direct operations are refused...
    const acl = s3.send(new PutObjectAclCommand({ Bucket: B, Key: 'shared/a', ACL: 'public-read' }));
    assert.equal((await sdkError(acl)).name, 'AccessDenied');
    // ...and PutObject with x-amz-acl needs s3:PutObjectAcl too, with x-amz-tagging s3:PutObjectTagging.
    const got = {
      acl: await outcome(
        s3.send(new PutObjectCommand({ Bucket: B, Key: 'shared/public', Body: 'x', ACL: 'public-read' })),
      ),
      tagging: await outcome(
        s3.send(new PutObjectCommand({ Bucket: B, Key: 'shared/tagged', Body: 'x', Tagging: 'k=v' })),
      ),
      mpuAcl: await outcome(
        s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'shared/mpu', ACL: 'public-read' })),
      ),
    };
    assert.deepEqual(got, { acl: 'AccessDenied', tagging: 'AccessDenied', mpuAcl: 'AccessDenied' });
  });

  test('a Deny on s3:PutObject under a prefix refuses POST uploads there from SigV4, SigV2 and policy-less forms', async () => {
    const B = 'atk-post';
    await s3.send(new CreateBucketCommand({ Bucket: B, ACL: 'public-read-write' }));
    await setPolicy(B, denyAll(B, 's3:PutObject'));
    const conditions = [{ bucket: B }, ['starts-with', '$key', ''] as [string, string, string]];
    const file = { name: 'f.txt', body: 'posted' };
    const v4 = await post(B, form({ key: 'private/v4', ...signedPolicyFields({ conditions }) }, file));
    assert.equal(v4.code, 'AccessDenied', v4.text);
    const v2 = await post(B, form({ key: 'private/v2', ...sigv2PolicyFields(conditions) }, file));
    assert.equal(v2.code, 'AccessDenied', v2.text);
    const anon = await post(B, form({ key: 'private/anon' }, file));
    assert.equal(anon.code, 'AccessDenied', anon.text);
    const viaFilename = await post(B, form({ key: 'private/$' + '{filename}' }, file));
    assert.equal(viaFilename.code, 'AccessDenied', viaFilename.text);
    assert.equal((await post(B, form({ key: 'shared/anon' }, file))).status, 204);
    for (const k of ['private/v4', 'private/v2', 'private/anon', 'private/f.txt'])
      assert.equal(await exists(B, k), false, k);
  });

  test('a Deny conditioned on s3:x-amz-acl refuses a POST form whose acl field matches, as it refuses the header', async () => {
    const B = 'atk-post-acl';
    await s3.send(new CreateBucketCommand({ Bucket: B }));
    await setPolicy(B, {
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:PutObject',
      Resource: arn(B, '/*'),
      Condition: { StringEquals: { 's3:x-amz-acl': ['public-read', 'public-read-write'] } },
    });
    const put = s3.send(new PutObjectCommand({ Bucket: B, Key: 'hdr', Body: 'x', ACL: 'public-read' }));
    assert.equal((await sdkError(put)).name, 'AccessDenied');
    const fields = signedPolicyFields({
      conditions: [{ bucket: B }, ['starts-with', '$key', ''], { acl: 'public-read' }],
    });
    const res = await post(B, form({ key: 'form', acl: 'public-read', ...fields }, { name: 'f', body: 'x' }));
    assert.equal(res.code, 'AccessDenied', `${res.status} ${res.text}`);
    assert.notEqual((await anonymous('GET', `/${B}/form`)).status, 200, 'the object became public');
  });

  test('a Deny on s3:BypassGovernanceRetention stops the owner from deleting a governance-locked version', async () => {
    const B = 'atk-governance';
    await s3.send(new CreateBucketCommand({ Bucket: B, ObjectLockEnabledForBucket: true }));
    const { VersionId } = await s3.send(
      new PutObjectCommand({
        Bucket: B,
        Key: 'locked',
        Body: 'keep me',
        ObjectLockMode: 'GOVERNANCE',
        ObjectLockRetainUntilDate: new Date(Date.now() + 86_400_000),
      }),
    );
    await setPolicy(B, denyAll(B, 's3:BypassGovernanceRetention', '/*'));
    const del = s3.send(
      new DeleteObjectCommand({ Bucket: B, Key: 'locked', VersionId, BypassGovernanceRetention: true }),
    );
    assert.equal((await sdkError(del)).name, 'AccessDenied');
    assert.equal(await exists(B, 'locked'), true);
  });

  // ---- DeleteObjects ----

  test('a Deny on s3:DeleteObject and s3:DeleteObjectVersion holds key by key in DeleteObjects on a versioned bucket', async () => {
    const B = 'atk-delete-versions';
    await s3.send(new CreateBucketCommand({ Bucket: B }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: B, VersioningConfiguration: { Status: 'Enabled' } }));
    const v = (await s3.send(new PutObjectCommand({ Bucket: B, Key: 'private/a', Body: 'x' }))).VersionId!;
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'shared/a', Body: 'x' }));
    await setPolicy(B, denyAll(B, ['s3:DeleteObject', 's3:DeleteObjectVersion']));
    const res = await s3.send(
      new DeleteObjectsCommand({
        Bucket: B,
        Delete: { Objects: [{ Key: 'private/a' }, { Key: 'private/a', VersionId: v }, { Key: 'shared/a' }] },
      }),
    );
    assert.deepEqual(
      res.Errors?.map((e) => [e.Key, e.Code]),
      [
        ['private/a', 'AccessDenied'],
        ['private/a', 'AccessDenied'],
      ],
    );
    assert.deepEqual(
      res.Deleted?.map((d) => d.Key),
      ['shared/a'],
    );
    const one = s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'private/a', VersionId: v }));
    assert.equal((await sdkError(one)).name, 'AccessDenied');
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: B, Prefix: 'private/' }));
    assert.deepEqual(
      versions.Versions?.map((x) => x.VersionId),
      [v],
    );
  });

  test('an Allow of s3:* on the bucket ARN alone does not let DeleteObjects delete objects', async () => {
    const B = 'atk-del-bucket-arn';
    await bucketWith(B, { Effect: 'Allow', Principal: { AWS: callers.otherId }, Action: 's3:*', Resource: arn(B) });
    // The bucket ARN grants bucket actions only: the object itself is still out of reach.
    const single = other.send(new DeleteObjectCommand({ Bucket: B, Key: 'private/a' }));
    assert.equal((await sdkError(single)).name, 'AccessDenied');
    const res = await deleteObjects(other, B, ['private/a']);
    assert.deepEqual(res.deleted, [], 'DeleteObjects reported the key deleted');
    assert.equal(await exists(B, 'private/a'), true, 'private/a was deleted');
  });

  test('an Allow of s3:DeleteObject with NotResource does not let DeleteObjects delete the excluded keys', async () => {
    const B = 'atk-del-notresource';
    await bucketWith(B, {
      Effect: 'Allow',
      Principal: { AWS: callers.otherId },
      Action: 's3:DeleteObject',
      NotResource: arn(B, '/private/*'),
    });
    const single = other.send(new DeleteObjectCommand({ Bucket: B, Key: 'private/a' }));
    assert.equal((await sdkError(single)).name, 'AccessDenied');
    const res = await deleteObjects(other, B, ['shared/a', 'private/a']);
    assert.ok(!res.deleted.includes('private/a'), 'DeleteObjects reported private/a deleted');
    assert.equal(await exists(B, 'private/a'), true, 'private/a was deleted');
  });

  test('an Allow of s3:DeleteObject on a prefix lets DeleteObjects delete there without any ACL grant', async () => {
    const B = 'atk-del-allow';
    await bucketWith(B, {
      Effect: 'Allow',
      Principal: { AWS: callers.otherId },
      Action: 's3:DeleteObject',
      Resource: arn(B, '/shared/*'),
    });
    await other.send(new DeleteObjectCommand({ Bucket: B, Key: 'shared/a' }));
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'shared/a', Body: 'again' }));
    const res = await other.send(
      new DeleteObjectsCommand({ Bucket: B, Delete: { Objects: [{ Key: 'shared/a' }, { Key: 'private/a' }] } }),
    );
    assert.deepEqual(
      res.Deleted?.map((d) => d.Key),
      ['shared/a'],
    );
    assert.deepEqual(
      res.Errors?.map((e) => [e.Key, e.Code]),
      [['private/a', 'AccessDenied']],
    );
  });

  // ---- Allows that reach too far ----

  test('a bucket policy Allow does not reach an object another owner wrote and kept private', async () => {
    const B = 'atk-foreign-object';
    await bucketWith(B, { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: arn(B, '/*') });
    await s3.send(new PutBucketAclCommand({ Bucket: B, GrantWrite: `id="${callers.otherId}"` }));
    // Object Ownership is ObjectWriter: the other owner owns what it writes, with a private ACL.
    await other.send(new PutObjectCommand({ Bucket: B, Key: 'theirs', Body: 'their secret' }));
    assert.equal((await anonymous('GET', `/${B}/shared/a`)).status, 200);
    // "A bucket policy that grants permissions on objects applies only to objects the bucket owner owns."
    const r = await anonymous('GET', `/${B}/theirs`);
    assert.equal(r.status, 403, `anonymous read another owner's private object: ${r.status} ${r.text.slice(0, 40)}`);
  });

  test('an Allow of s3:ListBucket conditioned on s3:prefix lists nothing beyond the prefix', async () => {
    const B = 'atk-list-prefix';
    await bucketWith(B, {
      Effect: 'Allow',
      Principal: { AWS: callers.otherId },
      Action: 's3:ListBucket',
      Resource: arn(B),
      Condition: { StringLike: { 's3:prefix': 'shared/*' } },
    });
    await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'private/upload' }));
    const ok = await other.send(new ListObjectsV2Command({ Bucket: B, Prefix: 'shared/' }));
    assert.deepEqual(
      ok.Contents?.map((c) => c.Key),
      ['shared/a'],
    );
    assert.equal((await sdkError(other.send(new ListObjectsCommand({ Bucket: B })))).name, 'AccessDenied');
    assert.equal(
      (await sdkError(other.send(new ListObjectsV2Command({ Bucket: B, Prefix: 'private/' })))).name,
      'AccessDenied',
    );
    // Other list operations are other actions (ListBucketVersions, ListBucketMultipartUploads).
    const versions = other.send(new ListObjectVersionsCommand({ Bucket: B, Prefix: 'shared/' }));
    assert.equal((await sdkError(versions)).name, 'AccessDenied');
    const uploads = other.send(new ListMultipartUploadsCommand({ Bucket: B, Prefix: 'shared/' }));
    assert.equal((await sdkError(uploads)).name, 'AccessDenied');
    // A repeated prefix parameter: the condition and the listing must read the same one.
    const cred = await other.config.credentials();
    for (const q of ['prefix=shared/&prefix=private/', 'prefix=private/&prefix=shared/', 'prefix=shared%2F&prefix=']) {
      const r = await signed('GET', `${srv.url}/${B}?list-type=2&${q}`, {
        accessKey: cred.accessKeyId,
        secretKey: cred.secretAccessKey,
      });
      assert.ok(!r.text.includes('<Key>private/'), `${q}: ${r.text}`);
    }
  });

  // ---- condition keys ----

  test('X-Forwarded-For and Forwarded headers do not change aws:SourceIp', async () => {
    const B = 'atk-xff';
    await bucketWith(B, {
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: arn(B, '/*'),
      Condition: { IpAddress: { 'aws:SourceIp': '203.0.113.7/32' } },
    });
    for (const headers of [
      { 'x-forwarded-for': '203.0.113.7' },
      { 'x-real-ip': '203.0.113.7' },
      { forwarded: 'for=203.0.113.7' },
      { 'x-forwarded-for': '203.0.113.7, 127.0.0.1' },
    ] as Record<string, string>[]) {
      assert.equal((await anonymous('GET', `/${B}/shared/a`, headers)).code, 'AccessDenied', JSON.stringify(headers));
    }
  });

  test('condition keys match in any case, while StringEquals compares values case-sensitively', async () => {
    const B = 'atk-case';
    await bucketWith(
      B,
      denyAll(B, 's3:GetObject', '/*', { Condition: { StringEquals: { 'AWS:UserAGENT': 'Evil-Agent' } } }),
    );
    const get = (ua: string) => signed('GET', `${srv.url}/${B}/shared/a`, { headers: { 'user-agent': ua } });
    assert.equal((await get('Evil-Agent')).code, 'AccessDenied');
    assert.equal((await get('evil-agent')).status, 200);
    // A Deny on the signature version: SigV2, by header or by query, is refused; SigV4 is not.
    await setPolicy(
      B,
      denyAll(B, 's3:GetObject', '/*', { Condition: { StringEquals: { 'S3:SignatureVersion': 'AWS' } } }),
    );
    assert.equal((await getV2(`/${B}/shared/a`)).code, 'AccessDenied');
    assert.equal((await send('GET', presignV2(`/${B}/shared/a`), {})).code, 'AccessDenied');
    assert.equal((await signed('GET', `${srv.url}/${B}/shared/a`)).status, 200);
  });

  // ---- Block Public Access, bucket lifecycle, the console ----

  test('BlockPublicPolicy refuses every public form of policy and accepts one for a named owner', async () => {
    const B = 'atk-bpp';
    await bucketWith(B);
    await s3.send(
      new PutPublicAccessBlockCommand({ Bucket: B, PublicAccessBlockConfiguration: { BlockPublicPolicy: true } }),
    );
    const read = { Effect: 'Allow', Action: 's3:GetObject', Resource: arn(B, '/*') };
    const publicOnes: Statement[] = [
      { ...read, Principal: '*' },
      { ...read, Principal: { AWS: '*' } },
      { ...read, Principal: { AWS: ['*', callers.otherId] } },
      { ...read, NotPrincipal: { AWS: callers.otherId } },
      { ...read, Principal: '*', Condition: { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } } },
      { ...read, Principal: '*', Condition: { IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '::/0'] } } },
      { ...read, Principal: '*', Condition: { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } },
      { ...read, Principal: '*', Condition: { IpAddressIfExists: { 'aws:SourceIp': '10.0.0.0/8' } } },
      { ...read, Principal: '*', Condition: { StringLike: { 'aws:Referer': 'https://example.com/*' } } },
    ];
    for (const s of publicOnes) {
      const err = await sdkError(setPolicy(B, s));
      assert.equal(err.name, 'AccessDenied', JSON.stringify(s));
    }
    await setPolicy(B, { ...read, Principal: { AWS: callers.otherId } });
  });

  test('a bucket deleted and recreated by another owner does not keep the old policy', async () => {
    const B = 'atk-recreate';
    await s3.send(new CreateBucketCommand({ Bucket: B }));
    await setPolicy(B, {
      Effect: 'Allow',
      Principal: '*',
      Action: ['s3:GetObject', 's3:ListBucket'],
      Resource: [arn(B), arn(B, '/*')],
    });
    await s3.send(new DeleteBucketCommand({ Bucket: B }));
    await other.send(new CreateBucketCommand({ Bucket: B }));
    await other.send(new PutObjectCommand({ Bucket: B, Key: 'new-owner-secret', Body: 'x' }));
    assert.equal((await anonymous('GET', `/${B}/new-owner-secret`)).code, 'AccessDenied');
    assert.equal((await anonymous('GET', `/${B}?list-type=2`)).code, 'AccessDenied');
    assert.equal((await sdkError(other.send(new GetBucketPolicyCommand({ Bucket: B })))).name, 'NoSuchBucketPolicy');
  });

  test('a Deny on s3:ListBucket also refuses the console bucket totals', async () => {
    const B = 'atk-console';
    await bucketWith(B, {
      Effect: 'Deny',
      Principal: { AWS: callers.otherId },
      Action: 's3:ListBucket',
      Resource: arn(B),
    });
    await s3.send(new PutBucketAclCommand({ Bucket: B, GrantRead: `id="${callers.otherId}"` }));
    assert.equal((await sdkError(other.send(new ListObjectsV2Command({ Bucket: B })))).name, 'AccessDenied');
    const cred = await other.config.credentials();
    const login = await fetch(`${srv.url}/ui/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ accessKeyId: cred.accessKeyId, secretKey: cred.secretAccessKey }),
    });
    assert.equal(login.status, 200);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const { csrf } = (await login.json()) as { csrf: string };
    const stats = await fetch(`${srv.url}/ui/api/bucket-stats?bucket=${B}`, {
      headers: { cookie, 'x-bleepstore-csrf': csrf },
    });
    const body = await stats.text();
    assert.equal(stats.status, 403, `bucket totals answered ${stats.status}: ${body}`);
  });

  test('an Allow of s3:* to another owner does not let it read, replace or delete the bucket policy (405)', async () => {
    const B = 'atk-policy-xacct';
    const doc = policyOf(
      { Effect: 'Allow', Principal: { AWS: callers.otherId }, Action: 's3:*', Resource: [arn(B), arn(B, '/*')] },
      denyAll(B, 's3:GetObject'),
    );
    await bucketWith(B);
    await s3.send(new PutBucketPolicyCommand({ Bucket: B, Policy: doc }));
    // "If you have the correct permissions, but you're not using an identity that belongs to the
    // bucket owner's account, Amazon S3 returns a 405 Method Not Allowed error" (API_PutBucketPolicy.html).
    const takeover = policyOf({ Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: [arn(B), arn(B, '/*')] });
    const got = {
      get: await outcome(other.send(new GetBucketPolicyCommand({ Bucket: B }))),
      put: await outcome(other.send(new PutBucketPolicyCommand({ Bucket: B, Policy: takeover }))),
      delete: await outcome(other.send(new DeleteBucketPolicyCommand({ Bucket: B }))),
    };
    assert.deepEqual(got, { get: 'MethodNotAllowed', put: 'MethodNotAllowed', delete: 'MethodNotAllowed' });
    assert.equal(await outcome(s3.send(new GetBucketPolicyCommand({ Bucket: B }))), 'ok');
    assert.equal((await s3.send(new GetBucketPolicyCommand({ Bucket: B }))).Policy, doc);
  });

  // ---- robustness ----

  test('huge or deeply nested policies are refused with MalformedPolicy; a costly evaluation is cut short and denies, never a 500', async () => {
    const B = 'atk-huge';
    await bucketWith(B);
    const put = (Policy: string) => s3.send(new PutBucketPolicyCommand({ Bucket: B, Policy }));
    const oversize = policyOf(
      ...Array.from({ length: 200 }, (_, i) => ({
        Sid: `s${i}`.padEnd(60, 'x'),
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:GetObject',
        Resource: arn(B, `/p${i}/*`),
      })),
    );
    assert.ok(Buffer.byteLength(oversize) > 20 * 1024);
    for (const p of [
      oversize,
      `{"Statement":${'['.repeat(5000)}${']'.repeat(5000)}}`,
      `{"Version":"2012-10-17","Statement":[${'{'.repeat(3000)}]}`,
    ]) {
      const err = await sdkError(put(p));
      assert.equal(err.name, 'MalformedPolicy', p.slice(0, 60));
      assert.equal(status(err), 400);
    }
    // Many statements of worst-case wildcards against a long key and a long User-Agent.
    const pattern = `*${'a'.repeat(4000)}b`;
    await put(
      policyOf(
        denyAll(B, 's3:GetObject', `/${pattern}`),
        denyAll(B, 's3:GetObject', '/*', {
          Condition: { StringLike: { 'aws:UserAgent': [pattern, pattern, pattern] } },
        }),
      ),
    );
    const key = 'a'.repeat(1000);
    await s3.send(new PutObjectCommand({ Bucket: B, Key: key, Body: 'long' }));
    // Unbounded, this request costs ~100 ms of the event loop per User-Agent pattern; past the
    // evaluation's budget it is denied (never allowed), and answered at once.
    const r = await signed('GET', `${srv.url}/${B}/${key}`, { headers: { 'user-agent': 'a'.repeat(12_000) } });
    assert.equal(r.code, 'AccessDenied', r.text.slice(0, 200));
    // With a short User-Agent the same policy is evaluated in full: no statement denies.
    assert.equal((await signed('GET', `${srv.url}/${B}/${key}`)).status, 200);
  });

  // ---- buckets without a policy: the ACLs alone, as before ----

  test('a bucket without a policy keeps its ACL behaviour for anonymous callers and other owners', async () => {
    const open = 'atk-nopolicy-open';
    await s3.send(new CreateBucketCommand({ Bucket: open, ACL: 'public-read-write' }));
    assert.equal((await anonymous('PUT', `/${open}/anon`, {}, 'a')).status, 200);
    assert.equal((await anonymous('GET', `/${open}?list-type=2`)).status, 200);
    assert.equal((await anonymous('GET', `/${open}/missing`)).code, 'NoSuchKey');
    assert.equal((await post(open, form({ key: 'posted' }, { name: 'f', body: 'p' }))).status, 204);
    const del = '<Delete><Object><Key>anon</Key></Object><Object><Key>posted</Key></Object></Delete>';
    const deleted = await anonymous('POST', `/${open}?delete`, { 'content-md5': md5(del) }, del);
    assert.equal(deleted.status, 200);
    assert.ok(!deleted.text.includes('<Error>'), deleted.text);

    const closed = 'atk-nopolicy-closed';
    await bucketWith(closed);
    assert.equal(
      (await sdkError(other.send(new GetObjectCommand({ Bucket: closed, Key: 'shared/a' })))).name,
      'AccessDenied',
    );
    assert.equal(
      (await sdkError(other.send(new PutObjectCommand({ Bucket: closed, Key: 'x', Body: 'x' })))).name,
      'AccessDenied',
    );
    assert.equal((await sdkError(other.send(new ListObjectsV2Command({ Bucket: closed })))).name, 'AccessDenied');
    await s3.send(new PutBucketAclCommand({ Bucket: closed, GrantWrite: `id="${callers.otherId}"` }));
    await other.send(new PutObjectCommand({ Bucket: closed, Key: 'theirs', Body: 'x' }));
    const res = await other.send(
      new DeleteObjectsCommand({ Bucket: closed, Delete: { Objects: [{ Key: 'theirs' }] } }),
    );
    assert.deepEqual(
      res.Deleted?.map((d) => d.Key),
      ['theirs'],
    );
    // Only the initiator or the bucket owner acts on an upload.
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: closed, Key: 'owners' }));
    const part = other.send(
      new UploadPartCommand({ Bucket: closed, Key: 'owners', UploadId, PartNumber: 1, Body: 'x' }),
    );
    assert.equal((await sdkError(part)).name, 'AccessDenied');
    assert.equal(
      (await sdkError(other.send(new GetObjectCommand({ Bucket: closed, Key: 'shared/a' })))).name,
      'AccessDenied',
    );
  });
});
