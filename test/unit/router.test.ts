import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEndpoint, type RouteInput } from '../../lib/s3/router.ts';
import { S3Error } from '../../lib/s3/errors.ts';

const opts = { domains: ['localhost', 's3.example.com'] };
const route = (method: string, url: string, host = '127.0.0.1:9010', headers: Record<string, string> = {}) => {
  const input: RouteInput = { method, url, host, header: (n) => headers[n] };
  return parseEndpoint(input, opts);
};

// Example requests in the shape the AWS API reference shows them, and what they must become.
const TABLE: Array<[string, string, string | undefined, Record<string, string>, Record<string, unknown>]> = [
  ['GET', '/', undefined, {}, { op: 'ListBuckets' }],
  ['PUT', '/photos', undefined, {}, { op: 'CreateBucket', bucket: 'photos' }],
  ['PUT', '/photos/', undefined, {}, { op: 'CreateBucket', bucket: 'photos' }],
  ['DELETE', '/photos', undefined, {}, { op: 'DeleteBucket', bucket: 'photos' }],
  ['HEAD', '/photos', undefined, {}, { op: 'HeadBucket', bucket: 'photos' }],
  ['GET', '/photos?location', undefined, {}, { op: 'GetBucketLocation', bucket: 'photos' }],
  ['GET', '/photos?acl', undefined, {}, { op: 'GetBucketAcl', bucket: 'photos' }],
  ['PUT', '/photos?acl', undefined, {}, { op: 'PutBucketAcl', bucket: 'photos' }],
  ['GET', '/photos?versioning', undefined, {}, { op: 'GetBucketVersioning', bucket: 'photos' }],
  ['PUT', '/photos?versioning', undefined, {}, { op: 'PutBucketVersioning', bucket: 'photos' }],
  ['PUT', '/photos?tagging', undefined, {}, { op: 'PutBucketTagging', bucket: 'photos' }],
  ['GET', '/photos/k?tagging', undefined, {}, { op: 'GetObjectTagging', bucket: 'photos', key: 'k' }],
  ['PUT', '/photos/k?retention', undefined, {}, { op: 'PutObjectRetention', bucket: 'photos', key: 'k' }],
  ['PUT', '/photos/k?legal-hold', undefined, {}, { op: 'PutObjectLegalHold', bucket: 'photos', key: 'k' }],
  ['GET', '/photos?object-lock', undefined, {}, { op: 'GetObjectLockConfiguration', bucket: 'photos' }],
  ['PUT', '/photos?lifecycle', undefined, {}, { op: 'PutBucketLifecycleConfiguration', bucket: 'photos' }],
  ['GET', '/photos/k?attributes', undefined, {}, { op: 'GetObjectAttributes', bucket: 'photos', key: 'k' }],
  ['GET', '/photos?list-type=2&prefix=a', undefined, {}, { op: 'ListObjectsV2', bucket: 'photos' }],
  ['GET', '/photos?prefix=a&marker=b', undefined, {}, { op: 'ListObjects', bucket: 'photos' }],
  ['GET', '/photos?versions', undefined, {}, { op: 'ListObjectVersions', bucket: 'photos' }],
  ['GET', '/photos?uploads', undefined, {}, { op: 'ListMultipartUploads', bucket: 'photos' }],
  ['POST', '/photos?delete', undefined, {}, { op: 'DeleteObjects', bucket: 'photos' }],
  ['GET', '/photos/2024/cat.jpg', undefined, {}, { op: 'GetObject', bucket: 'photos', key: '2024/cat.jpg' }],
  ['HEAD', '/photos/cat.jpg', undefined, {}, { op: 'HeadObject', bucket: 'photos', key: 'cat.jpg' }],
  ['PUT', '/photos/cat.jpg', undefined, {}, { op: 'PutObject', bucket: 'photos', key: 'cat.jpg' }],
  [
    'PUT',
    '/photos/cat.jpg',
    undefined,
    { 'x-amz-copy-source': '/src/k' },
    { op: 'CopyObject', bucket: 'photos', key: 'cat.jpg' },
  ],
  ['DELETE', '/photos/cat.jpg', undefined, {}, { op: 'DeleteObject', bucket: 'photos', key: 'cat.jpg' }],
  ['GET', '/photos/cat.jpg?acl', undefined, {}, { op: 'GetObjectAcl', bucket: 'photos', key: 'cat.jpg' }],
  ['PUT', '/photos/cat.jpg?acl', undefined, {}, { op: 'PutObjectAcl', bucket: 'photos', key: 'cat.jpg' }],
  ['POST', '/photos/big?uploads', undefined, {}, { op: 'CreateMultipartUpload', bucket: 'photos', key: 'big' }],
  ['POST', '/photos', undefined, {}, { op: 'PostObject', bucket: 'photos' }],
  ['OPTIONS', '/photos/a/b', undefined, {}, { op: 'PreflightCors', bucket: 'photos' }],
  ['PUT', '/photos?cors', undefined, {}, { op: 'PutBucketCors', bucket: 'photos' }],
  ['DELETE', '/photos?publicAccessBlock', undefined, {}, { op: 'DeletePublicAccessBlock', bucket: 'photos' }],
  ['GET', '/photos?ownershipControls', undefined, {}, { op: 'GetBucketOwnershipControls', bucket: 'photos' }],
  [
    'PUT',
    '/photos/big?partNumber=3&uploadId=u1',
    undefined,
    {},
    { op: 'UploadPart', bucket: 'photos', key: 'big', uploadId: 'u1', partNumber: 3 },
  ],
  [
    'PUT',
    '/photos/big?partNumber=3&uploadId=u1',
    undefined,
    { 'x-amz-copy-source': 'a/b' },
    { op: 'UploadPartCopy', bucket: 'photos', key: 'big', uploadId: 'u1', partNumber: 3 },
  ],
  [
    'POST',
    '/photos/big?uploadId=u1',
    undefined,
    {},
    { op: 'CompleteMultipartUpload', bucket: 'photos', key: 'big', uploadId: 'u1' },
  ],
  [
    'DELETE',
    '/photos/big?uploadId=u1',
    undefined,
    {},
    { op: 'AbortMultipartUpload', bucket: 'photos', key: 'big', uploadId: 'u1' },
  ],
  ['GET', '/photos/big?uploadId=u1', undefined, {}, { op: 'ListParts', bucket: 'photos', key: 'big', uploadId: 'u1' }],
  // versionId is parsed into the endpoint of every object operation (absent: null).
  ['GET', '/photos/cat.jpg?versionId=null', undefined, {}, { op: 'GetObject', key: 'cat.jpg', versionId: 'null' }],
  ['DELETE', '/photos/cat.jpg?versionId=v1', undefined, {}, { op: 'DeleteObject', key: 'cat.jpg', versionId: 'v1' }],
  ['PUT', '/photos/cat.jpg?acl&versionId=', undefined, {}, { op: 'PutObjectAcl', key: 'cat.jpg', versionId: '' }],
  ['HEAD', '/photos/cat.jpg', undefined, {}, { op: 'HeadObject', versionId: null }],
  // HEAD has no sub-resources; a list-type other than 2 is ListObjects.
  ['HEAD', '/photos/cat.jpg?tagging', undefined, {}, { op: 'HeadObject', key: 'cat.jpg' }],
  ['GET', '/photos?list-type=1', undefined, {}, { op: 'ListObjects', bucket: 'photos' }],
  // Path tricks stay inside the key: the server never maps keys onto paths.
  ['GET', '/photos/a/../b', undefined, {}, { op: 'GetObject', bucket: 'photos', key: 'a/../b' }],
  ['GET', '/photos/sp%20ace%2Bplus', undefined, {}, { op: 'GetObject', bucket: 'photos', key: 'sp ace+plus' }],
  ['GET', '/photos/dir/', undefined, {}, { op: 'GetObject', bucket: 'photos', key: 'dir/' }],
  ['GET', '/photos//double', undefined, {}, { op: 'GetObject', bucket: 'photos', key: '/double' }],
  // Virtual-hosted style.
  ['GET', '/', 'photos.localhost:9010', {}, { op: 'ListObjects', bucket: 'photos', style: 'virtual' }],
  [
    'GET',
    '/cat.jpg',
    'photos.s3.example.com',
    {},
    { op: 'GetObject', bucket: 'photos', key: 'cat.jpg', style: 'virtual' },
  ],
  ['PUT', '/', 'my.dotted.bucket.s3.example.com', {}, { op: 'CreateBucket', bucket: 'my.dotted.bucket' }],
  ['GET', '/', 's3.example.com', {}, { op: 'ListBuckets' }],
];

for (const [method, url, host, headers, want] of TABLE) {
  test(`${method} ${url}${host ? ` (Host: ${host})` : ''} routes to ${String(want.op)}`, () => {
    const got = route(method, url, host, headers) as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k], v, k);
  });
}

const ERRORS: Array<[string, string, string]> = [
  ['GET', '/photos?website', 'NotImplemented'],
  ['POST', '/photos?policy', 'NotImplemented'],
  ['PUT', '/photos?replication', 'NotImplemented'],
  ['POST', '/photos?lifecycle', 'NotImplemented'],
  ['GET', '/photos/k?torrent', 'NotImplemented'],
  ['POST', '/photos/k?tagging', 'NotImplemented'],
  ['POST', '/photos?website', 'NotImplemented'],
  ['PATCH', '/photos/k', 'MethodNotAllowed'],
  ['PUT', '/', 'MethodNotAllowed'],
  ['POST', '/photos/k', 'MethodNotAllowed'],
  ['GET', '/photos/%E0%A4%A', 'InvalidURI'],
  ['GET', '/photos/a%00b', 'InvalidArgument'],
  ['PUT', '/photos/k?partNumber=0&uploadId=u', 'InvalidArgument'],
  ['PUT', '/photos/k?partNumber=1', 'InvalidArgument'],
  // A sub-resource served for another method is not silently the plain operation.
  ['PUT', '/photos?versions', 'NotImplemented'],
  ['DELETE', '/photos?acl', 'NotImplemented'],
  ['PUT', '/photos/k?partNumber=10001&uploadId=u', 'InvalidArgument'],
  ['GET', '/photos/' + 'k'.repeat(1025), 'KeyTooLongError'],
];

for (const [method, url, code] of ERRORS) {
  test(`${method} ${url.slice(0, 40)} is refused with ${code}`, () => {
    assert.throws(
      () => route(method, url),
      (err: unknown) => err instanceof S3Error && err.code === code,
    );
  });
}

test('every operation in the declaration table is reached by a request built from its own route', async () => {
  const { OPERATION_NAMES, OPERATION_TABLE } = await import('../../lib/s3/operations.ts');
  for (const op of OPERATION_NAMES) {
    const r = OPERATION_TABLE[op].route as {
      method: string;
      resource: string;
      subresource?: string;
      query?: Record<string, string>;
      header?: { name: string; example: string };
    };
    const path = r.resource === 'service' ? '/' : r.resource === 'bucket' ? '/photos' : '/photos/cat.jpg';
    const q = new URLSearchParams(r.query);
    if (r.subresource) q.set(r.subresource, '');
    if (r.resource === 'upload' || r.resource === 'part') q.set('uploadId', 'u1');
    if (r.resource === 'part') q.set('partNumber', '1');
    const headers: Record<string, string> = r.header ? { [r.header.name]: r.header.example } : {};
    const query = q.toString().replace(/=(&|$)/g, '$1');
    assert.equal(
      route(r.method, query ? `${path}?${query}` : path, undefined, headers).op,
      op,
      `${r.method} ${path}?${query}`,
    );
  }
});
