import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authenticate } from '../../lib/auth/sigv4/index.ts';
import type { AuthRequest, Credential } from '../../lib/auth/types.ts';
import { presignUrl } from '../helpers/signer.ts';
import { throwsS3 } from '../helpers/s3-assert.ts';

const KEY: Credential = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  ownerId: 'owner',
  displayName: 'example',
};
const lookup = (id: string) => (id === KEY.accessKeyId ? KEY : undefined);
const SIGNED_AT = Date.UTC(2025, 2, 3, 4, 5, 6);
const opts = (now = SIGNED_AT + 1000) => ({ region: 'us-east-1', now });

function requestFor(url: string, method = 'GET', headers: Record<string, string> = {}): AuthRequest {
  const m = /^https?:\/\/([^/]+)([^?]*)\?(.*)$/.exec(url)!;
  return { method, rawPath: m[2]!, rawQuery: m[3]!, headers: { host: m[1]!, ...headers } };
}

const presign = (
  extra: { expires?: number; method?: string; headers?: Record<string, string>; url?: string; secretKey?: string } = {},
) =>
  presignUrl({
    method: extra.method ?? 'GET',
    url: extra.url ?? 'http://localhost:9000/bucket/photo%20one.jpg',
    accessKey: KEY.accessKeyId,
    secretKey: extra.secretKey ?? KEY.secretKey,
    region: 'us-east-1',
    date: new Date(SIGNED_AT),
    expires: extra.expires ?? 3600,
    headers: extra.headers,
  });

test('the presigned GET example of the AWS documentation authenticates', () => {
  // https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
  const rawQuery =
    'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request' +
    '&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host' +
    '&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404';
  const result = authenticate(
    { method: 'GET', rawPath: '/test.txt', rawQuery, headers: { host: 'examplebucket.s3.amazonaws.com' } },
    lookup,
    { region: 'us-east-1', now: Date.UTC(2013, 4, 24, 1) },
  );
  assert.equal(result.principal?.accessKeyId, KEY.accessKeyId);
  assert.deepEqual(result.payload, { kind: 'unsigned' });
});

test('a presigned URL authenticates until it expires and then is refused with AccessDenied', () => {
  const req = requestFor(presign({ expires: 60 }));
  authenticate(req, lookup, opts(SIGNED_AT + 60_000));
  const err = throwsS3(
    () => authenticate(req, lookup, opts(SIGNED_AT + 61_000)),
    'AccessDenied',
    /Request has expired/,
  );
  assert.equal(err.extra['X-Amz-Expires'], '60');
});

test('X-Amz-Expires outside 1..604800 or not a number is refused with AuthorizationQueryParametersError', () => {
  authenticate(requestFor(presign({ expires: 604800 })), lookup, opts());
  for (const expires of ['604801', '0', '-5', 'soon', '1e3']) {
    const url = presign().replace('X-Amz-Expires=3600', `X-Amz-Expires=${expires}`);
    throwsS3(() => authenticate(requestFor(url), lookup, opts()), 'AuthorizationQueryParametersError');
  }
});

test('a presigned URL with a changed path, query or method is refused with SignatureDoesNotMatch', () => {
  const url = presign();
  throwsS3(
    () => authenticate(requestFor(url.replace('photo%20one', 'photo%20two')), lookup, opts()),
    'SignatureDoesNotMatch',
  );
  throwsS3(() => authenticate(requestFor(url + '&versionId=3'), lookup, opts()), 'SignatureDoesNotMatch');
  throwsS3(() => authenticate(requestFor(url, 'DELETE'), lookup, opts()), 'SignatureDoesNotMatch');
  throwsS3(
    () => authenticate(requestFor(url.replace(/X-Amz-Signature=./, 'X-Amz-Signature=f')), lookup, opts()),
    'SignatureDoesNotMatch',
  );
});

test('a presigned URL signed with another secret or for an unknown key is refused', () => {
  throwsS3(() => authenticate(requestFor(presign({ secretKey: 'wrong' })), lookup, opts()), 'SignatureDoesNotMatch');
  const unknown = presign().replace('AKIAIOSFODNN7EXAMPLE', 'AKIDNOBODY');
  throwsS3(() => authenticate(requestFor(unknown), lookup, opts()), 'InvalidAccessKeyId');
});

test('a presigned URL missing a required parameter is refused with AuthorizationQueryParametersError', () => {
  for (const name of ['X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature']) {
    const url = presign().replace(new RegExp(`&${name}=[^&]*`), '');
    throwsS3(
      () => authenticate(requestFor(url), lookup, opts()),
      'AuthorizationQueryParametersError',
      /requires the X-Amz-Algorithm/,
    );
  }
  throwsS3(
    () => authenticate(requestFor(presign().replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA512')), lookup, opts()),
    'AuthorizationQueryParametersError',
    /only supports/,
  );
});

test('a presigned URL for another region or with a mismatched credential date is refused', () => {
  const region = presign().replace('%2Fus-east-1%2F', '%2Feu-west-1%2F');
  const err = throwsS3(
    () => authenticate(requestFor(region), lookup, opts()),
    'AuthorizationQueryParametersError',
    /'eu-west-1' is wrong/,
  );
  assert.equal(err.extra.Region, 'us-east-1');
  const day = presign().replace('%2F20250303%2F', '%2F20250302%2F');
  throwsS3(
    () => authenticate(requestFor(day), lookup, opts()),
    'AuthorizationQueryParametersError',
    /Invalid credential date/,
  );
  const badDate = presign().replace('X-Amz-Date=20250303T040506Z', 'X-Amz-Date=2025-03-03');
  throwsS3(() => authenticate(requestFor(badDate), lookup, opts()), 'AuthorizationQueryParametersError', /ISO8601/);
});

test('a presigned URL dated well in the future is refused as not yet valid', () => {
  throwsS3(
    () => authenticate(requestFor(presign()), lookup, opts(SIGNED_AT - 20 * 60_000)),
    'AccessDenied',
    /not valid yet/,
  );
});

test('a presigned PUT must be sent with the headers it signed, and unsigned x-amz-* headers are refused', () => {
  const url = presign({ method: 'PUT', headers: { 'content-type': 'image/jpeg' } });
  authenticate(requestFor(url, 'PUT', { 'content-type': 'image/jpeg' }), lookup, opts());
  throwsS3(
    () => authenticate(requestFor(url, 'PUT', { 'content-type': 'text/plain' }), lookup, opts()),
    'SignatureDoesNotMatch',
  );
  const err = throwsS3(
    () =>
      authenticate(
        requestFor(url, 'PUT', { 'content-type': 'image/jpeg', 'x-amz-acl': 'public-read' }),
        lookup,
        opts(),
      ),
    'AccessDenied',
  );
  assert.equal(err.extra.HeadersNotSigned, 'x-amz-acl');
});

test('a presigned URL carrying X-Amz-Content-Sha256 signs that hash and enforces it on the body', () => {
  const hash = 'a'.repeat(64);
  const url = presign({ method: 'PUT', url: `http://localhost:9000/bucket/k?X-Amz-Content-Sha256=${hash}` });
  assert.deepEqual(authenticate(requestFor(url, 'PUT'), lookup, opts()).payload, { kind: 'sha256', hex: hash });
});

test('a presigned URL may upload an aws-chunked body with an unsigned trailer', () => {
  const url = presign({ method: 'PUT', headers: { 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' } });
  const result = authenticate(
    requestFor(url, 'PUT', { 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' }),
    lookup,
    opts(),
  );
  assert.deepEqual(result.payload, { kind: 'streaming-unsigned-trailer' });
});
