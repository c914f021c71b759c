// Browser-based uploads (POST Object), following
// https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html,
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html ("Creating a POST Policy")
// and https://docs.aws.amazon.com/AmazonS3/latest/userguide/HTTPPOSTForms.html.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  GetObjectAclCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { send, signed } from '../helpers/raw.ts';
import { bodyBytes, startServer, type TestServer } from '../helpers/server.ts';
import { form, signedPolicyFields, sigv2PolicyFields, type Condition } from '../helpers/post-form.ts';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { FILENAME_VARIABLE } from '../../lib/s3/post-object.ts';

const BUCKET = 'post-bucket';
const ENTITIES: Record<string, string> = { '&quot;': '"', '&apos;': "'", '&lt;': '<', '&gt;': '>', '&amp;': '&' };
const decodeEntities = (s: string | undefined) => s?.replace(/&(quot|apos|lt|gt|amp);/g, (e) => ENTITIES[e]!);
const PUBLIC = 'post-public';

describe('POST Object (browser-based uploads)', () => {
  let srv: TestServer;
  let s3: S3Client;
  let url: string;
  before(async () => {
    srv = await startServer();
    s3 = srv.client();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new CreateBucketCommand({ Bucket: PUBLIC, ACL: 'public-read-write' }));
    url = `${srv.url}/${BUCKET}`;
  });
  after(() => srv.stop());

  const post = async (fd: FormData, to = url) => {
    const res = await fetch(to, { method: 'POST', body: fd, redirect: 'manual' });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      text,
      code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1],
      message: decodeEntities(/<Message>([^<]*)<\/Message>/.exec(text)?.[1]),
    };
  };
  const get = async (key: string) => {
    const r = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return { body: await bodyBytes(r.Body), r };
  };
  const base: Condition[] = [{ bucket: BUCKET }, ['starts-with', '$key', 'uploads/']];

  test('a signed form stores the file under a key with the filename variable, its metadata and Content-Type, and answers 204 with ETag and Location', async () => {
    const fields = signedPolicyFields({
      conditions: [...base, ['starts-with', '$Content-Type', 'image/'], { 'x-amz-meta-colour': 'blue' }],
    });
    const body = randomBytes(100_000);
    const res = await post(
      form(
        { key: `uploads/${FILENAME_VARIABLE}`, 'Content-Type': 'image/png', 'x-amz-meta-colour': 'blue', ...fields },
        { name: 'C:\\pics\\cat.png', body },
      ),
    );
    assert.equal(res.status, 204, res.text);
    assert.equal(res.headers.get('etag'), `"${createHash('md5').update(body).digest('hex')}"`);
    assert.match(res.headers.get('location') ?? '', /\/post-bucket\/uploads\/cat\.png$/);
    const got = await get('uploads/cat.png');
    assert.ok(got.body.equals(body));
    assert.equal(got.r.ContentType, 'image/png');
    assert.deepEqual(got.r.Metadata, { colour: 'blue' });
  });

  test('a tagging field stores the object with its tags; a malformed one is MalformedXML and an 11th tag BadRequest, storing nothing', async () => {
    const tagging = (n: number) =>
      `<Tagging><TagSet>${Array.from({ length: n }, (_, i) => `<Tag><Key>k${i}</Key><Value>v ${i}</Value></Tag>`).join('')}</TagSet></Tagging>`;
    const upload = (key: string, value: string) => {
      const fields = signedPolicyFields({ conditions: [...base, { tagging: value }] });
      return post(form({ key, tagging: value, ...fields }, { name: 'x', body: 'tagged' }));
    };
    assert.equal((await upload('uploads/tagged.txt', tagging(2))).status, 204);
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: 'uploads/tagged.txt' }));
    assert.deepEqual(
      tags.TagSet?.map((t) => [t.Key, t.Value]),
      [
        ['k0', 'v 0'],
        ['k1', 'v 1'],
      ],
    );
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'uploads/tagged.txt' }))).TagCount, 2);
    const bad = await upload('uploads/bad-tags.txt', '<Tagging><TagSet><Tag><Key>k</Key>');
    assert.deepEqual([bad.status, bad.code], [400, 'MalformedXML']);
    const many = await upload('uploads/many-tags.txt', tagging(11));
    assert.deepEqual([many.status, many.code], [400, 'BadRequest']);
    for (const key of ['uploads/bad-tags.txt', 'uploads/many-tags.txt'])
      await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })));
  });

  test('success_action_status 201 answers a PostResponse document, 200 an empty 200', async () => {
    const f201 = signedPolicyFields({ conditions: [...base, { success_action_status: '201' }] });
    const r201 = await post(
      form({ key: 'uploads/a.txt', success_action_status: '201', ...f201 }, { name: 'a.txt', body: 'aaa' }),
    );
    assert.equal(r201.status, 201);
    assert.match(
      r201.text,
      /<PostResponse xmlns="http:\/\/s3\.amazonaws\.com\/doc\/2006-03-01\/"><Location>http:\/\/[^<]+\/post-bucket\/uploads\/a\.txt<\/Location><Bucket>post-bucket<\/Bucket><Key>uploads\/a\.txt<\/Key><ETag>&quot;[0-9a-f]{32}&quot;<\/ETag><\/PostResponse>/,
    );
    const f200 = signedPolicyFields({ conditions: [...base, { success_action_status: '200' }] });
    const r200 = await post(
      form({ key: 'uploads/b.txt', success_action_status: '200', ...f200 }, { name: 'b.txt', body: 'bbb' }),
    );
    assert.deepEqual([r200.status, r200.text], [200, '']);
  });

  test('success_action_redirect answers 303 to the URL with bucket, key and etag appended', async () => {
    const fields = signedPolicyFields({
      conditions: [...base, ['starts-with', '$success_action_redirect', 'http://app.example/']],
    });
    const res = await post(
      form(
        { key: 'uploads/r.txt', success_action_redirect: 'http://app.example/done?x=1', ...fields },
        { name: 'r.txt', body: 'rrr' },
      ),
    );
    assert.equal(res.status, 303);
    const loc = new URL(res.headers.get('location')!);
    assert.equal(loc.origin + loc.pathname, 'http://app.example/done');
    assert.equal(loc.searchParams.get('x'), '1');
    assert.equal(loc.searchParams.get('bucket'), BUCKET);
    assert.equal(loc.searchParams.get('key'), 'uploads/r.txt');
    assert.match(loc.searchParams.get('etag')!, /^"[0-9a-f]{32}"$/);
  });

  test('policy conditions: exact, starts-with, field names case-insensitive, values case-sensitive', async () => {
    const eq = signedPolicyFields({
      conditions: [{ bucket: BUCKET }, ['eq', '$key', 'uploads/Exact'], { acl: 'public-read' }],
    });
    assert.equal(
      (await post(form({ KEY: 'uploads/Exact', ACL: 'public-read', ...eq }, { name: 'f', body: 'x' }))).status,
      204,
      'field names in any case',
    );
    const acl = await s3.send(new GetObjectAclCommand({ Bucket: BUCKET, Key: 'uploads/Exact' }));
    assert.ok(
      acl.Grants?.some((g) => g.Grantee?.URI?.endsWith('/AllUsers') && g.Permission === 'READ'),
      'the acl field applies',
    );
    const wrongCase = await post(form({ key: 'uploads/exact', acl: 'public-read', ...eq }, { name: 'f', body: 'x' }));
    assert.equal(wrongCase.status, 403);
    assert.equal(wrongCase.code, 'AccessDenied');
    assert.equal(
      wrongCase.message,
      'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "uploads/Exact"]',
    );
    const prefix = signedPolicyFields({ conditions: base });
    const outside = await post(form({ key: 'elsewhere/x', ...prefix }, { name: 'f', body: 'x' }));
    assert.equal(
      outside.message,
      'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "uploads/"]',
    );
    const otherBucket = signedPolicyFields({ conditions: [{ bucket: 'someone-else' }, ['starts-with', '$key', '']] });
    assert.equal((await post(form({ key: 'k', ...otherBucket }, { name: 'f', body: 'x' }))).code, 'AccessDenied');
  });

  test('every form field needs a condition (Extra input fields), except x-ignore-* and the signature fields', async () => {
    const fields = signedPolicyFields({ conditions: base });
    const extra = await post(form({ key: 'uploads/e', 'x-amz-meta-note': 'hi', ...fields }, { name: 'f', body: 'x' }));
    assert.equal(extra.message, 'Invalid according to Policy: Extra input fields: x-amz-meta-note');
    const ignored = await post(
      form({ key: 'uploads/e', 'x-ignore-tracking': '1', ...fields }, { name: 'f', body: 'x' }),
    );
    assert.equal(ignored.status, 204);
  });

  test('an expired policy, a wrong signature, and an unknown key id are refused and store nothing', async () => {
    const expired = signedPolicyFields({ conditions: base, expiresIn: -5 });
    const e = await post(form({ key: 'uploads/expired', ...expired }, { name: 'f', body: 'x' }));
    assert.deepEqual(
      [e.status, e.code, e.message],
      [403, 'AccessDenied', 'Invalid according to Policy: Policy expired.'],
    );
    const bad = signedPolicyFields({ conditions: base, secretKey: 'not-the-secret' });
    assert.equal(
      (await post(form({ key: 'uploads/bad-sig', ...bad }, { name: 'f', body: 'x' }))).code,
      'SignatureDoesNotMatch',
    );
    const ok = signedPolicyFields({ conditions: base });
    const unknown = await post(
      form(
        { key: 'uploads/who', ...ok, 'x-amz-credential': ok['x-amz-credential']!.replace('bleepstore/', 'NOBODY/') },
        { name: 'f', body: 'x' },
      ),
    );
    assert.equal(unknown.code, 'InvalidAccessKeyId');
    for (const k of ['uploads/expired', 'uploads/bad-sig', 'uploads/who']) {
      assert.equal((await signed('HEAD', `${url}/${k}`)).status, 404, k);
    }
  });

  test('content-length-range bounds the file: EntityTooLarge above, EntityTooSmall below, nothing stored', async () => {
    const fields = signedPolicyFields({ conditions: [...base, ['content-length-range', 10, 1000]] });
    const big = await post(form({ key: 'uploads/big', ...fields }, { name: 'f', body: randomBytes(1001) }));
    assert.equal(big.code, 'EntityTooLarge');
    const small = await post(form({ key: 'uploads/small', ...fields }, { name: 'f', body: 'tiny' }));
    assert.equal(small.code, 'EntityTooSmall');
    assert.equal(
      (await post(form({ key: 'uploads/fits', ...fields }, { name: 'f', body: randomBytes(1000) }))).status,
      204,
    );
    assert.equal((await signed('HEAD', `${url}/uploads/big`)).status, 404);
    assert.equal((await signed('HEAD', `${url}/uploads/small`)).status, 404);
  });

  test('checksum fields are verified: a wrong Content-MD5 or x-amz-checksum-sha256 answers BadDigest, a right one is stored', async () => {
    const body = Buffer.from('checked body');
    const sha = createHash('sha256').update(body).digest('base64');
    const fields = signedPolicyFields({
      conditions: [...base, ['starts-with', '$x-amz-checksum-sha256', ''], ['starts-with', '$Content-MD5', '']],
    });
    const wrong = await post(
      form(
        {
          key: 'uploads/c',
          'x-amz-checksum-sha256': createHash('sha256').update('other').digest('base64'),
          'Content-MD5': createHash('md5').update(body).digest('base64'),
          ...fields,
        },
        { name: 'f', body },
      ),
    );
    assert.equal(wrong.code, 'BadDigest');
    const md5 = await post(
      form(
        {
          key: 'uploads/c',
          'x-amz-checksum-sha256': sha,
          'Content-MD5': createHash('md5').update('other').digest('base64'),
          ...fields,
        },
        { name: 'f', body },
      ),
    );
    assert.equal(md5.code, 'BadDigest');
    const ok = await post(
      form(
        {
          key: 'uploads/c',
          'x-amz-checksum-sha256': sha,
          'Content-MD5': createHash('md5').update(body).digest('base64'),
          ...fields,
        },
        { name: 'f', body },
      ),
    );
    assert.equal(ok.status, 204, ok.text);
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'uploads/c', ChecksumMode: 'ENABLED' }));
    assert.equal(head.ChecksumSHA256, sha);
  });

  test('without a policy the upload is anonymous: refused on a private bucket, stored in a public-read-write one', async () => {
    const denied = await post(form({ key: 'anon.txt' }, { name: 'f', body: 'x' }));
    assert.equal(denied.code, 'AccessDenied');
    const ok = await post(
      form({ key: 'anon.txt', acl: 'public-read' }, { name: 'f', body: 'anonymous bytes' }),
      `${srv.url}/${PUBLIC}`,
    );
    assert.equal(ok.status, 204);
    const got = await send('GET', `${srv.url}/${PUBLIC}/anon.txt`, {});
    assert.equal(got.text, 'anonymous bytes');
    const list = await signed('GET', `${srv.url}/${PUBLIC}?list-type=2&fetch-owner=true`);
    assert.match(
      list.text,
      /<ID>65a011a29cdf8ec533ec3d1ccaae921c<\/ID>/,
      'owned by the anonymous user, as AWS records it',
    );
  });

  test('a Signature Version 2 policy (AWSAccessKeyId, signature) is accepted', async () => {
    const fields = sigv2PolicyFields([...base]);
    const res = await post(form({ key: 'uploads/v2', ...fields }, { name: 'f', body: 'v2 bytes' }));
    assert.equal(res.status, 204, res.text);
    assert.equal((await get('uploads/v2')).body.toString(), 'v2 bytes');
  });

  test('the documented errors: no key, no file, not multipart/form-data, malformed body, fields over 20 KB', async () => {
    const fields = signedPolicyFields({ conditions: base });
    const noKey = await post(form({ ...fields }, { name: 'f', body: 'x' }));
    assert.equal(noKey.code, 'InvalidArgument');
    assert.match(noKey.message!, /must contain a field named 'key'/);
    const noFile = await post(form({ key: 'uploads/nofile', ...fields }, null));
    assert.equal(noFile.code, 'InvalidArgument');
    assert.match(noFile.message!, /exactly one file/);
    const urlEncoded = await send('POST', url, { 'content-type': 'application/x-www-form-urlencoded' }, 'key=a');
    assert.equal(urlEncoded.code, 'PreconditionFailed');
    const truncated = await send(
      'POST',
      url,
      { 'content-type': 'multipart/form-data; boundary=XyZ' },
      '--XyZ\r\nContent-Disposition: form-data; name="key"\r\n\r\nabc',
    );
    assert.equal(truncated.code, 'MalformedPOSTRequest');
    const huge = await post(
      form({ key: 'uploads/h', 'x-ignore-pad': 'p'.repeat(21 * 1024), ...fields }, { name: 'f', body: 'x' }),
    );
    assert.equal(huge.code, 'MaxPostPreDataLengthExceeded');
    // The server keeps answering.
    assert.equal((await signed('GET', `${url}?list-type=2`)).status, 200);
  });

  test('a 64 MiB file streams through without the form parser holding it (bytes identical)', async () => {
    const body = randomBytes(64 * 1024 * 1024);
    const fields = signedPolicyFields({ conditions: base });
    const res = await post(form({ key: 'uploads/large.bin', ...fields }, { name: 'large.bin', body }));
    assert.equal(res.status, 204);
    assert.equal(
      createHash('sha256')
        .update((await get('uploads/large.bin')).body)
        .digest('hex'),
      createHash('sha256').update(body).digest('hex'),
    );
  });
});
