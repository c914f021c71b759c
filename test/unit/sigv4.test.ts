import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { test } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { authenticate } from '../../lib/auth/sigv4/index.ts';
import { chunkSignature, trailerSignature } from '../../lib/auth/sigv4/chunk.ts';
import { signingKey } from '../../lib/auth/sigv4/signing-key.ts';
import type { AuthRequest, Credential } from '../../lib/auth/types.ts';
import { presignUrl, rfc3986, signRequest } from '../helpers/signer.ts';
import { SDK_CREDENTIALS, captureSdkRequest } from '../helpers/sdk-capture.ts';
import { throwsS3 } from '../helpers/s3-assert.ts';

// The example credentials and instant of the AWS documentation.
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
const AWS_KEY: Credential = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  ownerId: 'owner',
  displayName: 'example',
};
const AWS_NOW = Date.UTC(2013, 4, 24);
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const SDK_KEY: Credential = {
  accessKeyId: SDK_CREDENTIALS.accessKeyId,
  secretKey: SDK_CREDENTIALS.secretAccessKey,
  ownerId: 'o2',
  displayName: 'sdk',
};
const lookup = (id: string) => [AWS_KEY, SDK_KEY].find((c) => c.accessKeyId === id);
const awsOpts = { region: 'us-east-1', now: AWS_NOW };
const scopeHeader = (signedHeaders: string, signature: string) =>
  `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=${signedHeaders},Signature=${signature}`;

const signedGet = () =>
  signRequest({
    method: 'GET',
    url: 'http://localhost:9000/bucket/some%20key?list-type=2&prefix=a%2Fb',
    accessKey: AWS_KEY.accessKeyId,
    secretKey: AWS_KEY.secretKey,
    region: 'us-east-1',
    date: new Date(AWS_NOW),
    headers: { 'x-amz-meta-color': 'blue' },
  });
const asAuth = (
  headers: Record<string, string>,
  method = 'GET',
  rawPath = '/bucket/some%20key',
  rawQuery = 'list-type=2&prefix=a%2Fb',
): AuthRequest => ({ method, rawPath, rawQuery, headers });

test('the GET Object example of the AWS documentation authenticates', () => {
  const result = authenticate(
    {
      method: 'GET',
      rawPath: '/test.txt',
      rawQuery: '',
      headers: {
        host: 'examplebucket.s3.amazonaws.com',
        range: 'bytes=0-9',
        'x-amz-content-sha256': EMPTY,
        'x-amz-date': '20130524T000000Z',
        authorization: scopeHeader(
          'host;range;x-amz-content-sha256;x-amz-date',
          'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
        ),
      },
    },
    lookup,
    awsOpts,
  );
  assert.equal(result.principal?.accessKeyId, AWS_KEY.accessKeyId);
  assert.deepEqual(result.payload, { kind: 'sha256', hex: EMPTY });
});

test('the PUT Object example of the AWS documentation authenticates with a $ in the key and a Date header', () => {
  const result = authenticate(
    {
      method: 'PUT',
      rawPath: '/test$file.text',
      rawQuery: '',
      headers: {
        host: 'examplebucket.s3.amazonaws.com',
        date: 'Fri, 24 May 2013 00:00:00 GMT',
        'x-amz-date': '20130524T000000Z',
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
        'x-amz-content-sha256': '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072',
        authorization: scopeHeader(
          'date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class',
          '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd',
        ),
      },
    },
    lookup,
    awsOpts,
  );
  assert.equal(result.payload.kind, 'sha256');
});

test('the GET Bucket Lifecycle and List Objects examples of the AWS documentation authenticate', () => {
  const headers = {
    host: 'examplebucket.s3.amazonaws.com',
    'x-amz-content-sha256': EMPTY,
    'x-amz-date': '20130524T000000Z',
  };
  const signed = 'host;x-amz-content-sha256;x-amz-date';
  authenticate(
    {
      method: 'GET',
      rawPath: '/',
      rawQuery: 'lifecycle',
      headers: {
        ...headers,
        authorization: scopeHeader(signed, 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543'),
      },
    },
    lookup,
    awsOpts,
  );
  authenticate(
    {
      method: 'GET',
      rawPath: '/',
      rawQuery: 'max-keys=2&prefix=J',
      headers: {
        ...headers,
        authorization: scopeHeader(signed, '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7'),
      },
    },
    lookup,
    awsOpts,
  );
});

test('the chunked upload example of the AWS documentation yields its seed and chunk signatures', () => {
  // https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
  const result = authenticate(
    {
      method: 'PUT',
      rawPath: '/examplebucket/chunkObject.txt',
      rawQuery: '',
      headers: {
        host: 's3.amazonaws.com',
        'x-amz-date': '20130524T000000Z',
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': '66560',
        'content-length': '66824',
        authorization: scopeHeader(
          'content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class',
          '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
        ),
      },
    },
    lookup,
    awsOpts,
  );
  const p = result.payload;
  assert.equal(p.kind, 'streaming-signed');
  if (p.kind !== 'streaming-signed') return;
  assert.equal(p.trailer, false);
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const c1 = chunkSignature(p, p.seedSignature, sha(Buffer.alloc(65536, 'a')));
  const c2 = chunkSignature(p, c1, sha(Buffer.alloc(1024, 'a')));
  const c3 = chunkSignature(p, c2, EMPTY);
  assert.deepEqual(
    [c1, c2, c3],
    [
      'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
      '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
      'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
    ],
  );
});

test('the trailing-header example of the AWS documentation yields its chunk and trailer signatures', () => {
  // https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
  const result = authenticate(
    {
      method: 'PUT',
      rawPath: '/examplebucket/chunkObject.txt',
      rawQuery: '',
      headers: {
        host: 's3.amazonaws.com',
        'x-amz-date': '20130524T000000Z',
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': '66560',
        'x-amz-trailer': 'x-amz-checksum-crc32c',
        authorization: scopeHeader(
          'content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer',
          '106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e',
        ),
      },
    },
    lookup,
    awsOpts,
  );
  const p = result.payload;
  assert.ok(p.kind === 'streaming-signed' && p.trailer);
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const c1 = chunkSignature(p, p.seedSignature, sha(Buffer.alloc(65536, 'a')));
  const c2 = chunkSignature(p, c1, sha(Buffer.alloc(1024, 'a')));
  const c3 = chunkSignature(p, c2, EMPTY);
  assert.equal(c1, 'b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2');
  assert.equal(c2, '1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7');
  assert.equal(c3, '2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992');
  assert.equal(
    trailerSignature(p, c3, [['x-amz-checksum-crc32c', 'sOO8/Q==']]),
    'd81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435',
  );
});

// The hash constructor smithy wants, over node:crypto.
class Sha256 {
  private readonly secret: Uint8Array | string | undefined;
  private h;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    if (secret === undefined || typeof secret === 'string') this.secret = secret;
    else if (ArrayBuffer.isView(secret))
      this.secret = new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength);
    else this.secret = new Uint8Array(secret);
    this.h = this.make();
  }
  private make() {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret);
  }
  update(data: Uint8Array): void {
    this.h.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
  reset(): void {
    this.h = this.make();
  }
}

const smithy = new SignatureV4({
  service: 's3',
  region: 'eu-west-3',
  sha256: Sha256,
  uriEscapePath: false,
  credentials: { accessKeyId: SDK_KEY.accessKeyId, secretAccessKey: SDK_KEY.secretKey },
});

const TRICKY_KEYS = [
  'plain.txt',
  'a b',
  'ünï/cødé ☃',
  'a+b=c&d',
  "!*'()",
  '100%',
  'x//y/./z/../w',
  '~-_.',
  'é?#;:@$,[]',
];

test('the test signer produces the same Authorization header as @smithy/signature-v4', async () => {
  const date = new Date(Date.UTC(2025, 0, 2, 3, 4, 5));
  for (const key of TRICKY_KEYS) {
    const path = '/bucket/' + key.split('/').map(rfc3986).join('/');
    const query = { prefix: 'a b+c/ü', 'list-type': '2', acl: '', 'x-id': "!*'()" };
    const search = Object.entries(query)
      .map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`)
      .join('&');
    const body = 'hello ' + key;
    const hash = createHash('sha256').update(body).digest('hex');
    const headers = { 'content-type': 'text/plain', 'x-amz-meta-note': '  two  spaces ', 'x-amz-content-sha256': hash };
    const theirs = await smithy.sign(
      {
        method: 'PUT',
        protocol: 'http:',
        hostname: 'localhost',
        port: 9000,
        path,
        query,
        headers: { host: 'localhost:9000', ...headers },
        body,
      },
      { signingDate: date },
    );
    const ours = signRequest({
      method: 'PUT',
      url: `http://localhost:9000${path}?${search}`,
      headers,
      body,
      accessKey: SDK_KEY.accessKeyId,
      secretKey: SDK_KEY.secretKey,
      region: 'eu-west-3',
      date,
    });
    assert.equal(ours.authorization, theirs.headers.authorization, key);
    const result = authenticate({ method: 'PUT', rawPath: path, rawQuery: search, headers: ours }, lookup, {
      region: 'eu-west-3',
      now: date.getTime(),
    });
    assert.equal(result.principal?.accessKeyId, SDK_KEY.accessKeyId);
  }
});

test('requests built by @aws-sdk/client-s3 for tricky keys and query values authenticate', async () => {
  for (const key of TRICKY_KEYS) {
    for (const command of [
      new GetObjectCommand({ Bucket: 'bkt', Key: key }),
      new PutObjectCommand({ Bucket: 'bkt', Key: key, Body: 'data' }),
    ]) {
      const { auth } = await captureSdkRequest(command);
      const result = authenticate(auth, lookup, { region: 'us-east-1', now: Date.now() });
      assert.equal(
        result.principal?.accessKeyId,
        SDK_KEY.accessKeyId,
        `${command.constructor.name} ${key} ${auth.rawPath}`,
      );
    }
  }
  const { auth } = await captureSdkRequest(
    new ListObjectsV2Command({ Bucket: 'bkt', Prefix: 'a b+c/ü', Delimiter: '/', StartAfter: "x!'*%" }),
  );
  assert.equal(
    authenticate(auth, lookup, { region: 'us-east-1', now: Date.now() }).principal?.accessKeyId,
    SDK_KEY.accessKeyId,
  );
});

test('a streaming PutObject from @aws-sdk/client-s3 gets the unsigned-trailer payload mode', async () => {
  const { Readable } = await import('node:stream');
  const { auth } = await captureSdkRequest(
    new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: Readable.from([Buffer.from('abc')]), ContentLength: 3 }),
  );
  assert.deepEqual(authenticate(auth, lookup, { region: 'us-east-1', now: Date.now() }).payload, {
    kind: 'streaming-unsigned-trailer',
  });
});

test('a request signed with a wrong secret is rejected with SignatureDoesNotMatch', () => {
  const headers = signRequest({
    method: 'GET',
    url: 'http://localhost:9000/bucket/some%20key?list-type=2&prefix=a%2Fb',
    accessKey: AWS_KEY.accessKeyId,
    secretKey: 'not-the-secret',
    region: 'us-east-1',
    date: new Date(AWS_NOW),
  });
  const err = throwsS3(() => authenticate(asAuth(headers), lookup, awsOpts), 'SignatureDoesNotMatch');
  assert.equal(err.status, 403);
  assert.match(err.extra.CanonicalRequest ?? '', /^GET\n\/bucket\/some%20key\nlist-type=2&prefix=a%2Fb\n/);
});

test('a signed request whose path, query, method or signed header was changed is rejected', () => {
  const headers = signedGet();
  authenticate(asAuth(headers), lookup, awsOpts);
  throwsS3(() => authenticate(asAuth(headers, 'GET', '/bucket/other%20key'), lookup, awsOpts), 'SignatureDoesNotMatch');
  throwsS3(
    () => authenticate(asAuth(headers, 'GET', undefined, 'list-type=2&prefix=a%2Fc'), lookup, awsOpts),
    'SignatureDoesNotMatch',
  );
  throwsS3(() => authenticate(asAuth(headers, 'DELETE'), lookup, awsOpts), 'SignatureDoesNotMatch');
  throwsS3(
    () => authenticate(asAuth({ ...headers, 'x-amz-meta-color': 'red' }), lookup, awsOpts),
    'SignatureDoesNotMatch',
  );
});

test('a path signed exactly as sent, with escapes an SDK would not use, authenticates', () => {
  const base = {
    accessKey: AWS_KEY.accessKeyId,
    secretKey: AWS_KEY.secretKey,
    region: 'us-east-1',
    date: new Date(AWS_NOW),
  };
  for (const rawPath of ['/b/%2e%2e/enc', '/b/a%7eb!', '/b/caf%c3%a9', '/b/a b']) {
    const headers = signRequest({ ...base, method: 'GET', url: `http://localhost:9000${rawPath}` });
    assert.equal(
      authenticate({ method: 'GET', rawPath, rawQuery: '', headers }, lookup, awsOpts).principal?.accessKeyId,
      AWS_KEY.accessKeyId,
      rawPath,
    );
  }
  // Different decoded keys never share a signature.
  const headers = signRequest({ ...base, method: 'GET', url: 'http://localhost:9000/b/a%20b' });
  throwsS3(
    () => authenticate({ method: 'GET', rawPath: '/b/a%2520b', rawQuery: '', headers }, lookup, awsOpts),
    'SignatureDoesNotMatch',
  );
});

test('a header value with extra inner and outer spaces canonicalizes to the same signature', () => {
  const headers = signedGet();
  authenticate(asAuth({ ...headers, 'x-amz-meta-color': '  blue ' }), lookup, awsOpts);
});

test('a header sent twice is signed with its values joined by a comma when raw headers are given', () => {
  const base = {
    method: 'GET',
    url: 'http://localhost:9000/b/k',
    accessKey: AWS_KEY.accessKeyId,
    secretKey: AWS_KEY.secretKey,
    region: 'us-east-1',
    date: new Date(AWS_NOW),
  };
  const headers = signRequest({ ...base, headers: { 'x-amz-meta-a': '1,2' } });
  const rawHeaders = Object.entries(headers).flatMap(([k, v]) =>
    k === 'x-amz-meta-a' ? [k, '1', 'X-Amz-Meta-A', '2'] : [k, v],
  );
  const nodeStyle = { ...headers, 'x-amz-meta-a': '1, 2' };
  authenticate({ method: 'GET', rawPath: '/b/k', rawQuery: '', headers: nodeStyle, rawHeaders }, lookup, awsOpts);
});

test('an Authorization header without spaces after the commas is accepted', () => {
  const headers = signedGet();
  authenticate(asAuth({ ...headers, authorization: headers.authorization!.replace(/, /g, ',') }), lookup, awsOpts);
});

test('an unknown access key is rejected with InvalidAccessKeyId', () => {
  const headers = signRequest({
    method: 'GET',
    url: 'http://localhost:9000/b/k',
    accessKey: 'AKIDUNKNOWN',
    secretKey: 'x',
    region: 'us-east-1',
    date: new Date(AWS_NOW),
  });
  const err = throwsS3(
    () => authenticate({ method: 'GET', rawPath: '/b/k', rawQuery: '', headers }, lookup, awsOpts),
    'InvalidAccessKeyId',
  );
  assert.equal(err.extra.AWSAccessKeyId, 'AKIDUNKNOWN');
});

test('a malformed Authorization header is rejected with AuthorizationHeaderMalformed', () => {
  const headers = signedGet();
  const auth = headers.authorization!;
  const variants = [
    auth.replace(/Credential=[^,]*, /, ''),
    auth.replace(/SignedHeaders=[^,]*, /, ''),
    auth.replace(/, Signature=.*$/, ''),
    auth.replace('/s3/aws4_request', '/s3'),
    auth.replace('/s3/', '/ec2/'),
    auth.replace('aws4_request', 'aws5_request'),
    auth.replace('/20130524/', '/2013-05-24/'),
    auth.replace('Credential=', 'Credential'),
    'AWS4-HMAC-SHA256',
  ];
  for (const authorization of variants) {
    throwsS3(
      () => authenticate(asAuth({ ...headers, authorization }), lookup, awsOpts),
      'AuthorizationHeaderMalformed',
    );
  }
});

test('a credential scope for another region is rejected naming the expected region', () => {
  const headers = signRequest({
    method: 'GET',
    url: 'http://localhost:9000/b/k',
    accessKey: AWS_KEY.accessKeyId,
    secretKey: AWS_KEY.secretKey,
    region: 'us-west-2',
    date: new Date(AWS_NOW),
  });
  const err = throwsS3(
    () => authenticate({ method: 'GET', rawPath: '/b/k', rawQuery: '', headers }, lookup, awsOpts),
    'AuthorizationHeaderMalformed',
    /'us-west-2' is wrong; expecting 'us-east-1'/,
  );
  assert.equal(err.extra.Region, 'us-east-1');
});

test('a credential date other than the x-amz-date day is rejected with AuthorizationHeaderMalformed', () => {
  const headers = signedGet();
  const authorization = headers.authorization!.replace('/20130524/', '/20130523/');
  throwsS3(
    () => authenticate(asAuth({ ...headers, authorization }), lookup, awsOpts),
    'AuthorizationHeaderMalformed',
    /Invalid credential date/,
  );
});

test('a signed request without x-amz-date or Date is rejected with AccessDenied', () => {
  const { 'x-amz-date': _, ...headers } = signedGet();
  throwsS3(() => authenticate(asAuth(headers), lookup, awsOpts), 'AccessDenied', /valid Date or x-amz-date/);
  throwsS3(
    () => authenticate(asAuth({ ...headers, 'x-amz-date': '2013-05-24T00:00:00Z' }), lookup, awsOpts),
    'AccessDenied',
  );
});

test('a request more than 15 minutes off the server clock is rejected with RequestTimeTooSkewed', () => {
  const headers = signedGet();
  authenticate(asAuth(headers), lookup, { region: 'us-east-1', now: AWS_NOW + 14 * 60_000 });
  authenticate(asAuth(headers), lookup, { region: 'us-east-1', now: AWS_NOW - 14 * 60_000 });
  const err = throwsS3(
    () => authenticate(asAuth(headers), lookup, { region: 'us-east-1', now: AWS_NOW + 16 * 60_000 }),
    'RequestTimeTooSkewed',
  );
  assert.equal(err.status, 403);
  assert.equal(err.extra.RequestTime, '20130524T000000Z');
  throwsS3(
    () => authenticate(asAuth(headers), lookup, { region: 'us-east-1', now: AWS_NOW - 16 * 60_000 }),
    'RequestTimeTooSkewed',
  );
});

test('a bodyless signed request without x-amz-content-sha256 is verified against the empty-body hash (older SDKs)', () => {
  const headers = signRequest({
    method: 'GET',
    url: 'http://localhost:9000/b/k',
    accessKey: AWS_KEY.accessKeyId,
    secretKey: AWS_KEY.secretKey,
    region: 'us-east-1',
    date: new Date(AWS_NOW),
    signedHeaders: ['host', 'x-amz-date'],
  });
  delete headers['x-amz-content-sha256'];
  assert.equal(
    authenticate({ method: 'GET', rawPath: '/b/k', rawQuery: '', headers }, lookup, awsOpts).principal?.accessKeyId,
    AWS_KEY.accessKeyId,
  );
  const other = signRequest({
    method: 'GET',
    url: 'http://localhost:9000/b/k',
    accessKey: AWS_KEY.accessKeyId,
    secretKey: AWS_KEY.secretKey,
    region: 'us-east-1',
    date: new Date(AWS_NOW),
    signedHeaders: ['host', 'x-amz-date'],
    payloadHash: 'f'.repeat(64),
  });
  delete other['x-amz-content-sha256'];
  throwsS3(
    () => authenticate({ method: 'GET', rawPath: '/b/k', rawQuery: '', headers: other }, lookup, awsOpts),
    'SignatureDoesNotMatch',
  );
});

test('a signed request with a body but without x-amz-content-sha256 is refused unless its operation reads the body first', () => {
  const headers = signRequest({
    method: 'PUT',
    url: 'http://localhost:9000/b/k',
    accessKey: AWS_KEY.accessKeyId,
    secretKey: AWS_KEY.secretKey,
    region: 'us-east-1',
    date: new Date(AWS_NOW),
    signedHeaders: ['host', 'x-amz-date'],
    body: 'abc',
  });
  delete headers['x-amz-content-sha256'];
  const req = { method: 'PUT', rawPath: '/b/k', rawQuery: '', headers: { ...headers, 'content-length': '3' } };
  throwsS3(
    () => authenticate(req, lookup, awsOpts),
    'InvalidRequest',
    /Missing required header for this request: x-amz-content-sha256/,
  );
  const deferred = authenticate(req, lookup, { ...awsOpts, deferBodySignature: true });
  assert.equal(deferred.payload.kind, 'signature-sha256');
  if (deferred.payload.kind !== 'signature-sha256') return;
  deferred.payload.verify(createHash('sha256').update('abc').digest('hex'));
  throwsS3(
    () => (deferred.payload as { verify(h: string): void }).verify(createHash('sha256').update('abd').digest('hex')),
    'SignatureDoesNotMatch',
  );
});

test('an unknown x-amz-content-sha256 value is rejected with InvalidArgument', () => {
  for (const value of ['abc', 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD', 'e3b0c442']) {
    const headers = signRequest({
      method: 'PUT',
      url: 'http://localhost:9000/b/k',
      accessKey: AWS_KEY.accessKeyId,
      secretKey: AWS_KEY.secretKey,
      region: 'us-east-1',
      date: new Date(AWS_NOW),
      payloadHash: value,
    });
    throwsS3(
      () => authenticate({ method: 'PUT', rawPath: '/b/k', rawQuery: '', headers }, lookup, awsOpts),
      'InvalidArgument',
    );
  }
});

test('each x-amz-content-sha256 value leads to its payload mode', () => {
  const mode = (payloadHash: string) => {
    const headers = signRequest({
      method: 'PUT',
      url: 'http://localhost:9000/b/k',
      accessKey: AWS_KEY.accessKeyId,
      secretKey: AWS_KEY.secretKey,
      region: 'us-east-1',
      date: new Date(AWS_NOW),
      payloadHash,
    });
    return authenticate({ method: 'PUT', rawPath: '/b/k', rawQuery: '', headers }, lookup, awsOpts).payload;
  };
  assert.deepEqual(mode('UNSIGNED-PAYLOAD'), { kind: 'unsigned' });
  assert.deepEqual(mode(EMPTY.toUpperCase()), { kind: 'sha256', hex: EMPTY });
  assert.deepEqual(mode('STREAMING-UNSIGNED-PAYLOAD-TRAILER'), { kind: 'streaming-unsigned-trailer' });
  const signed = mode('STREAMING-AWS4-HMAC-SHA256-PAYLOAD');
  assert.ok(
    signed.kind === 'streaming-signed' &&
      !signed.trailer &&
      signed.scope === '20130524/us-east-1/s3/aws4_request' &&
      signed.timestamp === '20130524T000000Z',
  );
  const withTrailer = mode('STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER');
  assert.ok(withTrailer.kind === 'streaming-signed' && withTrailer.trailer);
});

test('host and x-amz-* headers that are present but not signed are rejected with AccessDenied', () => {
  const base = {
    method: 'GET',
    url: 'http://localhost:9000/b/k',
    accessKey: AWS_KEY.accessKeyId,
    secretKey: AWS_KEY.secretKey,
    region: 'us-east-1',
    date: new Date(AWS_NOW),
  };
  const noHost = signRequest({ ...base, signedHeaders: ['x-amz-date', 'x-amz-content-sha256'] });
  const e1 = throwsS3(
    () => authenticate({ method: 'GET', rawPath: '/b/k', rawQuery: '', headers: noHost }, lookup, awsOpts),
    'AccessDenied',
  );
  assert.equal(e1.extra.HeadersNotSigned, 'host');
  const headers = { ...signRequest(base), 'x-amz-copy-source': '/other/key', 'x-amz-tagging': 'a=b' };
  const e2 = throwsS3(
    () => authenticate({ method: 'GET', rawPath: '/b/k', rawQuery: '', headers }, lookup, awsOpts),
    'AccessDenied',
  );
  assert.equal(e2.extra.HeadersNotSigned, 'x-amz-copy-source, x-amz-tagging');
  authenticate(
    {
      method: 'GET',
      rawPath: '/b/k',
      rawQuery: '',
      headers: { ...signRequest(base), 'user-agent': 'x', 'content-type': 'a/b' },
    },
    lookup,
    awsOpts,
  );
});

test('SigV2 and unknown Authorization schemes are refused with a clear error', () => {
  const req = (authorization: string) => ({
    method: 'GET',
    rawPath: '/b/k',
    rawQuery: '',
    headers: { host: 'h', authorization },
  });
  throwsS3(
    () => authenticate(req('AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg='), lookup, awsOpts),
    'InvalidRequest',
    /Please use AWS4-HMAC-SHA256/,
  );
  throwsS3(() => authenticate(req('Bearer abc'), lookup, awsOpts), 'InvalidArgument', /Unsupported Authorization Type/);
  throwsS3(
    () =>
      authenticate(
        { method: 'GET', rawPath: '/b/k', rawQuery: 'AWSAccessKeyId=AK&Expires=1&Signature=x', headers: { host: 'h' } },
        lookup,
        awsOpts,
      ),
    'InvalidRequest',
  );
});

test('a request with both an Authorization header and a presigned query is rejected with InvalidArgument', () => {
  const headers = signedGet();
  throwsS3(
    () => authenticate(asAuth(headers, 'GET', '/b/k', 'X-Amz-Algorithm=AWS4-HMAC-SHA256'), lookup, awsOpts),
    'InvalidArgument',
    /Only one auth mechanism/,
  );
});

test('an anonymous request has no principal and is unsigned unless it declares a body hash', () => {
  const bare = { method: 'GET', rawPath: '/b/k', rawQuery: 'acl', headers: { host: 'h' } };
  assert.deepEqual(authenticate(bare, lookup, awsOpts), { principal: null, payload: { kind: 'unsigned' } });
  const trailer = { ...bare, headers: { host: 'h', 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' } };
  assert.deepEqual(authenticate(trailer, lookup, awsOpts).payload, { kind: 'streaming-unsigned-trailer' });
  const hashed = { ...bare, headers: { host: 'h', 'x-amz-content-sha256': EMPTY } };
  assert.deepEqual(authenticate(hashed, lookup, awsOpts).payload, { kind: 'sha256', hex: EMPTY });
  const streaming = { ...bare, headers: { host: 'h', 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' } };
  throwsS3(() => authenticate(streaming, lookup, awsOpts), 'InvalidRequest');
});

test('a rotated secret is not served from the signing key cache', () => {
  const k1 = signingKey('AKROTATE', 'secret-1', '20250101', 'us-east-1');
  const k2 = signingKey('AKROTATE', 'secret-2', '20250101', 'us-east-1');
  assert.notDeepEqual(k1, k2);
  assert.deepEqual(signingKey('AKROTATE', 'secret-2', '20250101', 'us-east-1'), k2);
});

test('the test presigner produces the same signature as @smithy/signature-v4', async () => {
  const date = new Date(Date.UTC(2025, 5, 6, 7, 8, 9));
  for (const key of TRICKY_KEYS) {
    const path = '/bucket/' + key.split('/').map(rfc3986).join('/');
    // Like @aws-sdk/s3-request-presigner: x-amz-content-sha256 is hoisted into the query.
    const theirs = await smithy.presign(
      {
        method: 'GET',
        protocol: 'http:',
        hostname: 'localhost',
        port: 9000,
        path,
        query: { 'response-content-type': 'text/plain; a=b' },
        headers: { host: 'localhost:9000', 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' },
      },
      { signingDate: date, expiresIn: 900 },
    );
    const query = `response-content-type=${rfc3986('text/plain; a=b')}&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD`;
    const ours = presignUrl({
      method: 'GET',
      url: `http://localhost:9000${path}?${query}`,
      accessKey: SDK_KEY.accessKeyId,
      secretKey: SDK_KEY.secretKey,
      region: 'eu-west-3',
      date,
      expires: 900,
    });
    const rawQuery = ours.slice(ours.indexOf('?') + 1);
    assert.equal(new URLSearchParams(rawQuery).get('X-Amz-Signature'), theirs.query?.['X-Amz-Signature'], key);
    const result = authenticate(
      { method: 'GET', rawPath: path, rawQuery, headers: { host: 'localhost:9000' } },
      lookup,
      { region: 'eu-west-3', now: date.getTime() },
    );
    assert.deepEqual(result.payload, { kind: 'unsigned' });
  }
});
