// Smaller gaps real clients ran into (issue #16), each against the AWS page it follows.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { sdkError } from '../helpers/s3-assert.ts';
import { rawSocket, signed } from '../helpers/raw.ts';
import { signRequest } from '../helpers/signer.ts';
import { ACCESS_KEY, REGION, SECRET_KEY, bodyBytes, startServer, type TestServer } from '../helpers/server.ts';

const BUCKET = 'gaps-bucket';

describe('smaller S3 gaps', () => {
  let srv: TestServer;
  let s3: S3Client;
  before(async () => {
    srv = await startServer();
    s3 = srv.client();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    for (const Key of ['run books/a.txt', 'a b.txt', 'a+b.txt'])
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: 'x' }));
  });
  after(() => srv.stop());

  test('ListObjectsV2 encoding-type=url encodes a space as %20 in keys and common prefixes, a plus as %2B', async () => {
    const r = await signed('GET', `${srv.url}/${BUCKET}?list-type=2&encoding-type=url&delimiter=/`);
    assert.match(r.text, /<Key>a%20b\.txt<\/Key>/);
    assert.match(r.text, /<Key>a%2Bb\.txt<\/Key>/);
    assert.match(r.text, /<CommonPrefixes><Prefix>run%20books\/<\/Prefix><\/CommonPrefixes>/);
  });

  test('max-keys=0 answers an empty, untruncated page (API_ListObjectsV2.html, MaxKeys; ceph s3-tests test_bucket_list_maxkeys_zero)', async () => {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: 0 }));
    assert.equal(r.KeyCount, 0);
    assert.equal(r.IsTruncated, false, 'a truncated page without a continuation token would loop a client forever');
    assert.equal(r.Contents, undefined);
    assert.equal(r.MaxKeys, 0);
    const v1 = await signed('GET', `${srv.url}/${BUCKET}?max-keys=0`);
    assert.equal(v1.status, 200);
    assert.doesNotMatch(v1.text, /<Contents>/);
    assert.match(v1.text, /<IsTruncated>false<\/IsTruncated>/);
  });

  test('an empty continuation token is refused as AWS does (InvalidArgument "The continuation token provided is incorrect")', async () => {
    const r = await signed('GET', `${srv.url}/${BUCKET}?list-type=2&continuation-token=`);
    assert.equal(r.code, 'InvalidArgument');
    assert.match(r.text, /The continuation token provided is incorrect/);
  });

  test('bucket names with a period next to a hyphen are invalid (bucketnamingrules.html)', async () => {
    for (const Bucket of ['my.-bucket', 'my-.bucket']) {
      assert.equal((await sdkError(s3.send(new CreateBucketCommand({ Bucket })))).name, 'InvalidBucketName', Bucket);
    }
    await s3.send(new CreateBucketCommand({ Bucket: 'my.ok-bucket' }));
  });

  test('PUT with Transfer-Encoding: chunked and no Content-Length stores the decoded body', async () => {
    const url = `${srv.url}/${BUCKET}/streamed.txt`;
    const headers = signRequest({
      method: 'PUT',
      url,
      accessKey: ACCESS_KEY,
      secretKey: SECRET_KEY,
      region: REGION,
      payloadHash: 'UNSIGNED-PAYLOAD',
    });
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        url,
        { method: 'PUT', headers: { ...headers, 'transfer-encoding': 'chunked' } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        },
      );
      req.on('error', reject);
      for (const piece of ['first piece, ', 'second piece, ', 'last piece']) req.write(piece);
      req.end();
    });
    assert.equal(status, 200);
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'streamed.txt' }));
    assert.equal((await bodyBytes(got.Body)).toString(), 'first piece, second piece, last piece');
    assert.equal(got.ContentLength, 37);
  });

  test('Content-Encoding "aws-chunked, gzip" on a plain body stores gzip and drops aws-chunked', async () => {
    const url = `${srv.url}/${BUCKET}/coded.gz`;
    const put = await signed('PUT', url, {
      headers: { 'content-encoding': 'aws-chunked, gzip' },
      body: 'not really gzip',
    });
    assert.equal(put.status, 200, put.text);
    const got = await signed('GET', url);
    assert.equal(got.headers['content-encoding'], 'gzip');
    assert.equal(got.text, 'not really gzip');
  });

  test('x-amz-meta-* values beyond US-ASCII are stored decoded and returned RFC 2047-encoded (UsingMetadata.html)', async () => {
    const url = `${srv.url}/${BUCKET}/meta.txt`;
    const text = 'Grüße ✓ 日本';
    const rawUtf8 = Buffer.from(text, 'utf8').toString('latin1'); // the UTF-8 bytes on the wire
    const encodedWord = `=?UTF-8?B?${Buffer.from(text).toString('base64')}?=`;
    // Written byte for byte (each header character one byte), so the value arrives as raw UTF-8.
    const headers = signRequest({
      method: 'PUT',
      url,
      accessKey: ACCESS_KEY,
      secretKey: SECRET_KEY,
      region: REGION,
      body: 'x',
      headers: {
        'x-amz-meta-raw': rawUtf8,
        'x-amz-meta-word': encodedWord,
        'x-amz-meta-q': '=?ISO-8859-1?Q?caf=E9?=',
        'x-amz-meta-plain': 'ascii only',
        'content-length': '1',
      },
    });
    const path = new URL(url).pathname;
    const reply = await rawSocket(
      srv.port,
      Buffer.from(
        `PUT ${path} HTTP/1.1\r\n${Object.entries(headers)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('')}connection: close\r\n\r\nx`,
        'latin1',
      ),
    );
    assert.match(reply, /^HTTP\/1\.1 200 /, reply);
    const head = await signed('HEAD', url);
    assert.equal(head.headers['x-amz-meta-raw'], encodedWord);
    assert.equal(head.headers['x-amz-meta-word'], encodedWord);
    assert.equal(head.headers['x-amz-meta-q'], `=?UTF-8?B?${Buffer.from('café').toString('base64')}?=`);
    assert.equal(head.headers['x-amz-meta-plain'], 'ascii only');
    const sdk = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'meta.txt' }));
    assert.equal(sdk.Metadata?.plain, 'ascii only');
  });
});
