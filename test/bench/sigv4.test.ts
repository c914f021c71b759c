// The bench's own SigV4 signer, checked against the AWS documentation's examples and against
// @smithy/signature-v4 (what the AWS SDK signs with) for awkward keys and queries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { canonicalQuery, EMPTY_SHA256, Signer, UNSIGNED_PAYLOAD, uriEncode } from '../../lib/bench/sigv4.ts';

// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html (example credentials and instant)
const AWS = {
  accessKey: 'AKIAIOSFODNN7EXAMPLE',
  secretKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  region: 'us-east-1',
};
const AWS_NOW = Date.UTC(2013, 4, 24);
const HOST = 'examplebucket.s3.amazonaws.com';

test('the GET Bucket Lifecycle example of the AWS documentation gets the documented signature', () => {
  const h = new Signer(AWS).sign('GET', '/', canonicalQuery({ lifecycle: '' }), HOST, EMPTY_SHA256, AWS_NOW);
  assert.equal(h['x-amz-date'], '20130524T000000Z');
  assert.equal(
    h.authorization,
    'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,' +
      'SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543',
  );
});

test('the List Objects example of the AWS documentation gets the documented signature', () => {
  const h = new Signer(AWS).sign(
    'GET',
    '/',
    canonicalQuery({ prefix: 'J', 'max-keys': 2 }),
    HOST,
    EMPTY_SHA256,
    AWS_NOW,
  );
  assert.match(h.authorization, /Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7$/);
});

test('a new day gets a new signing key and scope; the same second reuses the date', () => {
  const s = new Signer(AWS);
  const a = s.sign('GET', '/', '', HOST, EMPTY_SHA256, AWS_NOW);
  const b = s.sign('GET', '/', '', HOST, EMPTY_SHA256, AWS_NOW + 999);
  const c = s.sign('GET', '/', '', HOST, EMPTY_SHA256, AWS_NOW + 86_400_000);
  assert.deepEqual(a, b);
  assert.equal(c['x-amz-date'], '20130525T000000Z');
  assert.match(c.authorization, /\/20130525\/us-east-1\/s3\/aws4_request,/);
  assert.equal(
    c.authorization,
    new Signer(AWS).sign('GET', '/', '', HOST, EMPTY_SHA256, AWS_NOW + 86_400_000).authorization,
  );
});

test('paths and queries are encoded the RFC 3986 way SigV4 wants', () => {
  assert.equal(uriEncode('a b/c~d', true), 'a%20b/c~d');
  assert.equal(uriEncode("!*'()/", false), '%21%2A%27%28%29%2F');
  assert.equal(
    canonicalQuery({ 'list-type': 2, prefix: 'a b', 'continuation-token': 'x=y+z' }),
    'continuation-token=x%3Dy%2Bz&list-type=2&prefix=a%20b',
  );
});

// The hash constructor @smithy/signature-v4 takes, over node:crypto.
class NodeSha256 {
  readonly #secret: Uint8Array | string | undefined;
  #h;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#secret =
      secret === undefined || typeof secret === 'string'
        ? secret
        : ArrayBuffer.isView(secret)
          ? new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength)
          : new Uint8Array(secret);
    this.#h = this.#make();
  }
  #make() {
    return this.#secret === undefined ? createHash('sha256') : createHmac('sha256', this.#secret);
  }
  update(data: Uint8Array): void {
    this.#h.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#h.digest());
  }
  reset(): void {
    this.#h = this.#make();
  }
}

test('signatures match @smithy/signature-v4 for awkward keys, queries and both payload forms', async () => {
  const creds = { accessKey: 'bench-key', secretKey: 'bench/secret+key', region: 'eu-west-3' };
  const smithy = new SignatureV4({
    service: 's3',
    region: creds.region,
    sha256: NodeSha256,
    uriEscapePath: false,
    credentials: { accessKeyId: creds.accessKey, secretAccessKey: creds.secretKey },
  });
  const when = new Date(Date.UTC(2025, 0, 2, 3, 4, 5));
  for (const key of ['plain.txt', 'a b', 'ünï/cødé ☃', 'a+b=c&d', "!*'()", '100%', 'dir/list-20000/17']) {
    for (const payloadHash of [UNSIGNED_PAYLOAD, createHash('sha256').update(key).digest('hex')]) {
      const path = `/bucket/${uriEncode(key, true)}`;
      const query = { partNumber: '3', uploadId: 'a/b c' };
      const ours = new Signer(creds).sign(
        'PUT',
        path,
        canonicalQuery(query),
        'localhost:9000',
        payloadHash,
        when.getTime(),
      );
      const theirs = await smithy.sign(
        {
          method: 'PUT',
          protocol: 'http:',
          hostname: 'localhost',
          port: 9000,
          path,
          query,
          headers: { host: 'localhost:9000', 'x-amz-content-sha256': payloadHash },
        },
        { signingDate: when },
      );
      assert.equal(ours.authorization, String(theirs.headers.authorization).replace(/, /g, ','), key);
    }
  }
});
