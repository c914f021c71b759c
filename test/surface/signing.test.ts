// Legacy and lenient signing:
// - Signature Version 2, https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html
//   (header "AWS AKID:signature" and query AWSAccessKeyId/Expires/Signature), behind auth.sigv2;
// - SigV4 without x-amz-content-sha256 (older SDKs, generic signers): the signature covers the
//   body's SHA-256 (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html,
//   "HashedPayload"), checked once the body is read;
// - "aws-global" as a LocationConstraint means us-east-1 (the SDKs' global-endpoint region).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { send, signed } from '../helpers/raw.ts';
import { signRequest } from '../helpers/signer.ts';
import { ACCESS_KEY, REGION, SECRET_KEY, startServer, type TestServer } from '../helpers/server.ts';
import { sigv2Sign, stringToSign, canonicalResource, canonicalAmzHeaders } from '../../lib/auth/sigv2/sign.ts';

const BUCKET = 'signing-bucket';

function v2(method: string, url: string, headers: Record<string, string>, secret = SECRET_KEY): Record<string, string> {
  const u = new URL(url);
  const toSign = [
    method,
    headers['content-md5'] ?? '',
    headers['content-type'] ?? '',
    headers['x-amz-date'] ? '' : (headers.date ?? ''),
    Object.keys(headers)
      .filter((h) => h.startsWith('x-amz-'))
      .sort()
      .map((h) => `${h}:${headers[h]}\n`)
      .join('') +
      u.pathname +
      (u.search.match(/^\?(acl|uploads)$/) ? u.search : ''),
  ].join('\n');
  return {
    ...headers,
    authorization: `AWS ${ACCESS_KEY}:${createHmac('sha1', secret).update(toSign).digest('base64')}`,
  };
}

/** A SigV4 request as an older SDK signs it: the body's SHA-256 signed, no x-amz-content-sha256 sent. */
function withoutContentSha(
  method: string,
  url: string,
  body: string,
  headers: Record<string, string> = {},
  signedBody = body,
): Record<string, string> {
  const h = signRequest({
    method,
    url,
    accessKey: ACCESS_KEY,
    secretKey: SECRET_KEY,
    region: REGION,
    headers,
    payloadHash: createHash('sha256').update(signedBody).digest('hex'),
    signedHeaders: ['host', 'x-amz-date', ...Object.keys(headers)],
  });
  delete h['x-amz-content-sha256'];
  return h;
}

describe('legacy and lenient signing', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startServer();
    assert.equal((await signed('PUT', `${srv.url}/${BUCKET}`)).status, 200);
  });
  after(() => srv.stop());

  test('the Signature Version 2 string to sign and signature match the AWS documentation example', () => {
    // RESTAuthentication.html, "Example Object GET".
    const toSign = stringToSign({
      method: 'GET',
      contentMd5: '',
      contentType: '',
      date: 'Tue, 27 Mar 2007 19:36:42 +0000',
      amzHeaders: canonicalAmzHeaders({ host: 'x' }),
      resource: canonicalResource('/photos/puppy.jpg', '', 'awsexamplebucket1'),
    });
    assert.equal(toSign, 'GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg');
    assert.equal(sigv2Sign('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', toSign), 'qgk2+6Sv9/oM7G3qLEjTH1a1l1g=');
    assert.equal(
      canonicalResource('/b/k', 'uploadId=a%2Bb&partNumber=2&x-id=PutObject'),
      '/b/k?partNumber=2&uploadId=a+b',
    );
  });

  test('a Signature Version 2 header signs PUT and GET; a wrong secret answers SignatureDoesNotMatch; a stale Date RequestTimeTooSkewed', async () => {
    const url = `${srv.url}/${BUCKET}/v2.txt`;
    const put = await send(
      'PUT',
      url,
      v2('PUT', url, {
        'content-type': 'text/plain',
        'x-amz-date': new Date().toUTCString(),
        'x-amz-meta-a': 'b',
        'content-length': '5',
      }),
      'hello',
    );
    assert.equal(put.status, 200, put.text);
    const get = await send('GET', url, v2('GET', url, { date: new Date().toUTCString() }));
    assert.equal(get.text, 'hello');
    assert.equal(get.headers['x-amz-meta-a'], 'b');
    const bad = await send('GET', url, v2('GET', url, { date: new Date().toUTCString() }, 'wrong-secret'));
    assert.equal(bad.code, 'SignatureDoesNotMatch');
    const stale = await send('GET', url, v2('GET', url, { date: new Date(Date.now() - 3600_000).toUTCString() }));
    assert.equal(stale.code, 'RequestTimeTooSkewed');
    const acl = await send('GET', `${url}?acl`, v2('GET', `${url}?acl`, { date: new Date().toUTCString() }));
    assert.match(acl.text, /<AccessControlPolicy/, 'sub-resources are part of the signed resource');
  });

  test('with auth.sigv2 off, Signature Version 2 is refused as an unsupported mechanism', async (t) => {
    const off = await startServer({ auth: { sigv2: false } });
    t.after(() => off.stop());
    const r = await send('GET', `${off.url}/`, v2('GET', `${off.url}/`, { date: new Date().toUTCString() }));
    assert.equal(r.code, 'InvalidRequest');
    assert.match(r.text, /Please use AWS4-HMAC-SHA256/);
  });

  test('SigV4 without x-amz-content-sha256: PUT verified against the received body, a body that differs from the signed one refused with nothing stored', async () => {
    const url = `${srv.url}/${BUCKET}/lenient.txt`;
    const ok = await send(
      'PUT',
      url,
      withoutContentSha('PUT', url, 'lenient body', { 'content-type': 'text/plain' }),
      'lenient body',
    );
    assert.equal(ok.status, 200, ok.text);
    assert.equal((await signed('GET', url)).text, 'lenient body');
    const tampered = await send(
      'PUT',
      `${url}.2`,
      withoutContentSha('PUT', `${url}.2`, 'x', {}, 'the signed body'),
      'another body!!!',
    );
    assert.equal(tampered.code, 'SignatureDoesNotMatch');
    assert.equal((await signed('HEAD', `${url}.2`)).status, 404);
    const get = await send('GET', url, withoutContentSha('GET', url, ''));
    assert.equal(get.text, 'lenient body', 'a bodyless request signs the empty hash');
    const del = await send(
      'DELETE',
      `${url}`,
      { ...withoutContentSha('DELETE', url, 'x'), 'content-length': '1' },
      'x',
    );
    assert.equal(del.code, 'InvalidRequest', 'operations that do not read their body first still need the header');
  });

  test('"aws-global" as a LocationConstraint creates a us-east-1 bucket', async () => {
    const body =
      '<CreateBucketConfiguration><LocationConstraint>aws-global</LocationConstraint></CreateBucketConfiguration>';
    const r = await signed('PUT', `${srv.url}/global-bucket`, { body });
    assert.equal(r.status, 200, r.text);
    const loc = await signed('GET', `${srv.url}/global-bucket?location`);
    assert.match(loc.text, /<LocationConstraint xmlns="[^"]+"\/>/);
  });
});
