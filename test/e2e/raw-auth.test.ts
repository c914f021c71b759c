// SigV4 on the wire: header auth errors, every payload form, streaming uploads with chunk
// and trailer signatures, and presigned URLs, sent by the test signer to the real server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { ACCESS_KEY, REGION, SECRET_KEY, startServer, type TestServer } from '../helpers/server.ts';
import { presignUrl, signChunkedUpload, signRequest } from '../helpers/signer.ts';
import { send, signed } from '../helpers/raw.ts';

const sha256hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const crc32b64 = (b: Buffer) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(b) >>> 0);
  return out.toString('base64');
};

describe('SigV4 on the wire', () => {
  let srv: TestServer;
  let base: string;
  before(async () => {
    srv = await startServer();
    base = srv.url;
    const r = await signed('PUT', `${base}/raw-bucket`);
    assert.equal(r.status, 200);
  });
  after(() => srv.stop());

  test('every response carries x-amz-request-id, x-amz-id-2, Date and Server', async () => {
    const ok = await signed('GET', `${base}/`);
    const bad = await signed('GET', `${base}/no-such-bucket-raw`);
    for (const r of [ok, bad]) {
      assert.match(String(r.headers['x-amz-request-id']), /^[0-9A-F]{16}$/);
      assert.ok(r.headers['x-amz-id-2']);
      assert.ok(r.headers.date);
      assert.equal(r.headers.server, 'BleepStore');
    }
    assert.equal(bad.status, 404);
    assert.equal(bad.headers['content-type'], 'application/xml');
    assert.equal(bad.code, 'NoSuchBucket');
    assert.match(bad.text, /<Resource>\/no-such-bucket-raw<\/Resource>/);
    assert.match(bad.text, new RegExp(`<RequestId>${bad.headers['x-amz-request-id']}</RequestId>`));
  });

  test('a wrong secret is refused with SignatureDoesNotMatch', async () => {
    const r = await signed('GET', `${base}/`, { secretKey: 'not-the-secret' });
    assert.equal(r.status, 403);
    assert.equal(r.code, 'SignatureDoesNotMatch');
  });

  test('an unknown access key is refused with InvalidAccessKeyId', async () => {
    const r = await signed('GET', `${base}/`, { accessKey: 'nobody' });
    assert.equal(r.status, 403);
    assert.equal(r.code, 'InvalidAccessKeyId');
  });

  test('a request 20 minutes old is refused with RequestTimeTooSkewed', async () => {
    const r = await signed('GET', `${base}/`, { date: new Date(Date.now() - 20 * 60_000) });
    assert.equal(r.status, 403);
    assert.equal(r.code, 'RequestTimeTooSkewed');
  });

  test('a tampered header after signing is refused', async () => {
    const headers = signRequest({
      method: 'GET',
      url: `${base}/raw-bucket`,
      accessKey: ACCESS_KEY,
      secretKey: SECRET_KEY,
      region: REGION,
    });
    const r = await send('GET', `${base}/raw-bucket?prefix=x`, headers);
    assert.equal(r.code, 'SignatureDoesNotMatch');
  });

  test('a malformed Authorization header is refused with a 400 or 403 S3 error', async () => {
    const r = await send('GET', `${base}/`, {
      authorization: 'AWS4-HMAC-SHA256 garbage',
      'x-amz-date': '20260101T000000Z',
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
    });
    assert.ok([400, 403].includes(r.status));
    assert.ok(r.code);
  });

  test('a signed SHA-256 payload is stored; a mismatching one is refused with XAmzContentSHA256Mismatch', async () => {
    const body = Buffer.from('signed payload');
    const ok = await signed('PUT', `${base}/raw-bucket/sha`, { body });
    assert.equal(ok.status, 200);
    const bad = await signed('PUT', `${base}/raw-bucket/sha-bad`, { body, payloadHash: sha256hex('something else') });
    assert.equal(bad.status, 400);
    assert.equal(bad.code, 'XAmzContentSHA256Mismatch');
    const head = await signed('HEAD', `${base}/raw-bucket/sha-bad`);
    assert.equal(head.status, 404);
  });

  test('UNSIGNED-PAYLOAD uploads are accepted', async () => {
    const r = await signed('PUT', `${base}/raw-bucket/unsigned`, { body: 'free', payloadHash: 'UNSIGNED-PAYLOAD' });
    assert.equal(r.status, 200);
    const get = await signed('GET', `${base}/raw-bucket/unsigned`);
    assert.equal(get.text, 'free');
  });

  for (const mode of ['signed', 'signed-trailer', 'unsigned-trailer'] as const) {
    test(`aws-chunked upload (${mode}) stores the decoded bytes, never the framing`, async () => {
      const data = randomBytes(200_000);
      const trailer = mode === 'signed' ? undefined : (['x-amz-checksum-crc32', crc32b64(data)] as [string, string]);
      const { headers, body } = signChunkedUpload({
        method: 'PUT',
        url: `${base}/raw-bucket/chunked-${mode}`,
        accessKey: ACCESS_KEY,
        secretKey: SECRET_KEY,
        region: REGION,
        mode,
        data,
        chunkSize: 65536,
        ...(trailer ? { trailer } : {}),
      });
      const put = await send('PUT', `${base}/raw-bucket/chunked-${mode}`, headers, body);
      assert.equal(put.status, 200, put.text);
      assert.equal(put.headers.etag, `"${createHash('md5').update(data).digest('hex')}"`);
      if (trailer) assert.equal(put.headers['x-amz-checksum-crc32'], trailer[1]);
      const get = await signed('GET', `${base}/raw-bucket/chunked-${mode}`, {
        headers: { 'x-amz-checksum-mode': 'ENABLED' },
      });
      assert.ok(get.body.equals(data));
      assert.equal(get.headers['content-length'], String(data.length));
      assert.equal(get.headers['content-encoding'], undefined, 'aws-chunked is not stored as Content-Encoding');
      if (trailer) assert.equal(get.headers['x-amz-checksum-crc32'], trailer[1]);
    });
  }

  test('a chunk with a wrong signature is refused with SignatureDoesNotMatch and nothing is stored', async () => {
    const data = randomBytes(150_000);
    const { headers, body } = signChunkedUpload({
      method: 'PUT',
      url: `${base}/raw-bucket/bad-chunk`,
      accessKey: ACCESS_KEY,
      secretKey: SECRET_KEY,
      region: REGION,
      mode: 'signed',
      data,
      chunkSize: 65536,
      corrupt: { chunkSignature: 1 },
    });
    const put = await send('PUT', `${base}/raw-bucket/bad-chunk`, headers, body);
    assert.equal(put.status, 403);
    assert.equal(put.code, 'SignatureDoesNotMatch');
    assert.equal((await signed('HEAD', `${base}/raw-bucket/bad-chunk`)).status, 404);
  });

  test('a wrong trailer signature is refused; a wrong trailer checksum is BadDigest', async () => {
    const data = randomBytes(70_000);
    const trailer: [string, string] = ['x-amz-checksum-crc32', crc32b64(data)];
    const opts = {
      method: 'PUT',
      accessKey: ACCESS_KEY,
      secretKey: SECRET_KEY,
      region: REGION,
      data,
      chunkSize: 65536,
      trailer,
    };
    const a = signChunkedUpload({
      ...opts,
      url: `${base}/raw-bucket/bad-trailer`,
      mode: 'signed-trailer',
      corrupt: { trailerSignature: true },
    });
    const r1 = await send('PUT', `${base}/raw-bucket/bad-trailer`, a.headers, a.body);
    assert.equal(r1.status, 403);
    assert.equal(r1.code, 'SignatureDoesNotMatch');
    const b = signChunkedUpload({
      ...opts,
      url: `${base}/raw-bucket/bad-sum`,
      mode: 'unsigned-trailer',
      trailer: ['x-amz-checksum-crc32', 'AAAAAA=='],
    });
    const r2 = await send('PUT', `${base}/raw-bucket/bad-sum`, b.headers, b.body);
    assert.equal(r2.status, 400);
    assert.equal(r2.code, 'BadDigest');
    for (const k of ['bad-trailer', 'bad-sum'])
      assert.equal((await signed('HEAD', `${base}/raw-bucket/${k}`)).status, 404);
  });

  test('presigned URLs work for PUT, GET, HEAD and DELETE', async () => {
    const presign = (method: string, key: string, expires = 300) =>
      presignUrl({
        method,
        url: `${base}/raw-bucket/${key}`,
        accessKey: ACCESS_KEY,
        secretKey: SECRET_KEY,
        region: REGION,
        expires,
      });
    const put = await send('PUT', presign('PUT', 'pre'), {}, 'presigned body');
    assert.equal(put.status, 200, put.text);
    const get = await send('GET', presign('GET', 'pre'), {});
    assert.equal(get.text, 'presigned body');
    const head = await send('HEAD', presign('HEAD', 'pre'), {});
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '14');
    const del = await send('DELETE', presign('DELETE', 'pre'), {});
    assert.equal(del.status, 204);
    assert.equal((await send('GET', presign('GET', 'pre'), {})).code, 'NoSuchKey');
  });

  test('an expired presigned URL is refused with AccessDenied', async () => {
    const url = presignUrl({
      method: 'GET',
      url: `${base}/raw-bucket/sha`,
      accessKey: ACCESS_KEY,
      secretKey: SECRET_KEY,
      region: REGION,
      expires: 60,
      date: new Date(Date.now() - 120_000),
    });
    const r = await send('GET', url, {});
    assert.equal(r.status, 403);
    assert.equal(r.code, 'AccessDenied');
  });

  test('X-Amz-Expires above seven days is refused with AuthorizationQueryParametersError', async () => {
    const url = presignUrl({
      method: 'GET',
      url: `${base}/raw-bucket/sha`,
      accessKey: ACCESS_KEY,
      secretKey: SECRET_KEY,
      region: REGION,
      expires: 604801,
    });
    const r = await send('GET', url, {});
    assert.equal(r.status, 400);
    assert.equal(r.code, 'AuthorizationQueryParametersError');
  });

  test('a presigned URL used for another key is refused with SignatureDoesNotMatch', async () => {
    const url = presignUrl({
      method: 'GET',
      url: `${base}/raw-bucket/sha`,
      accessKey: ACCESS_KEY,
      secretKey: SECRET_KEY,
      region: REGION,
    });
    const r = await send('GET', url.replace('/sha?', '/unsigned?'), {});
    assert.equal(r.code, 'SignatureDoesNotMatch');
  });

  test('anonymous requests get AccessDenied on private data and may read public-read objects', async () => {
    assert.equal((await send('GET', `${base}/raw-bucket/sha`, {})).code, 'AccessDenied');
    assert.equal((await send('GET', `${base}/raw-bucket`, {})).code, 'AccessDenied');
    assert.equal((await send('PUT', `${base}/raw-bucket/anon`, {}, 'x')).code, 'AccessDenied');
    const put = await signed('PUT', `${base}/raw-bucket/public`, {
      body: 'public data',
      headers: { 'x-amz-acl': 'public-read' },
    });
    assert.equal(put.status, 200);
    const get = await send('GET', `${base}/raw-bucket/public`, {});
    assert.equal(get.status, 200);
    assert.equal(get.text, 'public data');
  });
});
