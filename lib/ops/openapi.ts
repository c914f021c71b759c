// The OpenAPI 3.1 document served at /openapi.json. Paths and operation ids follow the shared
// contract (specs/s3-api.openapi.yaml): S3 picks the operation by query sub-resource (?acl,
// ?uploads, ...) or header (x-amz-copy-source), and OpenAPI allows one operation per path
// and method, so each OpenAPI operation lists the S3 operations it multiplexes in
// `x-s3-operations`, with the query and headers that select each one. A test routes every
// entry through lib/s3/router.ts and checks it reaches the named operation.
import type { Config } from '../config.ts';
import type { OperationName, Resource } from '../s3/endpoint.ts';
import { OPERATION_NAMES, OPERATION_TABLE, type Method, type Route } from '../s3/operations.ts';
import { version } from '../version.ts';
import { opsPaths } from './openapi-ops.ts';
import { schemas } from './openapi-schemas.ts';

type Obj = Record<string, unknown>;

export interface S3Variant {
  operation: OperationName;
  summary: string;
  /** Query parameters that select this operation (value '' for a bare sub-resource). */
  query?: Record<string, string>;
  /** Headers that select this operation. */
  header?: Record<string, string>;
}

export const S3_OPERATIONS_KEY = 'x-s3-operations';

const ref = (kind: string, name: string): Obj => ({ $ref: `#/components/${kind}/${name}` });
const schemaRef = (name: string): Obj => ref('schemas', name);
const q = (name: string, description: string, schema: Obj = { type: 'string' }): Obj => ({
  name,
  in: 'query',
  description,
  schema,
});
const flag = (name: string, description: string): Obj => ({
  name,
  in: 'query',
  description,
  allowEmptyValue: true,
  schema: { type: 'string' },
});
const h = (name: string, description: string, schema: Obj = { type: 'string' }): Obj => ({
  name,
  in: 'header',
  description,
  schema,
});
const xml = (description: string, ...names: string[]): Obj => ({
  description,
  content: {
    'application/xml': { schema: names.length === 1 ? schemaRef(names[0]!) : { oneOf: names.map(schemaRef) } },
  },
});
const ok = (description: string, headers: Obj = {}): Obj => ({
  description,
  headers: { 'x-amz-request-id': ref('headers', 'x-amz-request-id'), ...headers },
});
const err = (...codes: string[]): Obj =>
  Object.fromEntries(codes.map((c) => [c, ref('responses', ERROR_RESPONSES[c]![0])]));

/** Status → (component name, description) for the S3 error document. */
const ERROR_RESPONSES: Record<string, [string, string]> = {
  '400': ['BadRequest', 'Malformed request (InvalidArgument, MalformedXML, InvalidBucketName, ...).'],
  '403': ['AccessDenied', 'Signature missing or wrong, or the ACL does not allow it.'],
  '404': ['NotFound', 'NoSuchBucket, NoSuchKey or NoSuchUpload.'],
  '409': ['Conflict', 'BucketAlreadyExists, BucketAlreadyOwnedByYou or BucketNotEmpty.'],
  '412': ['PreconditionFailed', 'An If-Match / If-Unmodified-Since condition failed.'],
  '416': ['RangeNotSatisfiable', 'The Range does not overlap the object.'],
  '500': ['InternalError', 'Unexpected server failure; details are in the server log under the request id.'],
};

const acl = h('x-amz-acl', 'Canned ACL.', schemaRef('CannedAcl'));
const grants = ['read', 'write', 'read-acp', 'write-acp', 'full-control'].map((g) =>
  h(`x-amz-grant-${g}`, `Grantees given ${g.toUpperCase().replace('-', '_')}, e.g. id="…", uri="…".`),
);
const contentHeaders = [
  h('Content-Type', 'Stored and returned with the object.'),
  h('Cache-Control', 'Stored and returned with the object.'),
  h('Content-Disposition', 'Stored and returned with the object.'),
  h('Content-Encoding', 'Stored and returned with the object (aws-chunked is transfer framing and is not stored).'),
  h('Content-Language', 'Stored and returned with the object.'),
  h('Expires', 'Stored and returned with the object.'),
  h('x-amz-meta-*', 'User metadata: every x-amz-meta- header is stored and returned.'),
];
const checksumHeaders = [
  h('Content-MD5', 'Base64 MD5 of the body; a mismatch answers BadDigest.'),
  h('x-amz-sdk-checksum-algorithm', 'CRC32, CRC32C, CRC64NVME, SHA1 or SHA256.'),
  ...['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'].map((a) =>
    h(`x-amz-checksum-${a}`, `Base64 ${a.toUpperCase()} of the body (or sent as an aws-chunked trailer).`),
  ),
];
const conditionals = [
  h('If-Match', 'Answer only if the ETag matches (else 412).'),
  h('If-None-Match', 'Answer only if the ETag differs (else 304).'),
  h('If-Modified-Since', 'RFC 7232 date.'),
  h('If-Unmodified-Since', 'RFC 7232 date.'),
];
const SUBRESOURCE_FLAGS = [
  flag('cors', 'Address the CORS configuration.'),
  flag('publicAccessBlock', 'Address the PublicAccessBlock configuration.'),
  flag('ownershipControls', 'Address the ObjectOwnership setting.'),
  flag('notification', 'Address the event notification configuration.'),
  flag('policy', 'Address the bucket policy (JSON).'),
  flag('policyStatus', 'Whether the bucket policy is public.'),
];
const TAGGING = flag('tagging', 'Address the tag set (Get/Put/DeleteBucketTagging, Get/Put/DeleteObjectTagging).');
const BUCKET_CONFIG_FLAGS = [
  flag('object-lock', 'Address the Object Lock configuration (default retention).'),
  flag('lifecycle', 'Address the lifecycle rules.'),
];
const VERSION_FLAGS = [
  flag('retention', "Address a version's Object Lock retention."),
  flag('legal-hold', "Address a version's legal hold."),
];
const ATTRIBUTES_PARAMS = [
  flag('attributes', 'GetObjectAttributes: what x-amz-object-attributes names, without the body.'),
  h('x-amz-object-attributes', 'GetObjectAttributes: ETag, Checksum, ObjectParts, StorageClass, ObjectSize.'),
  h('x-amz-max-parts', 'GetObjectAttributes: at most this many parts.'),
  h('x-amz-part-number-marker', 'GetObjectAttributes: parts after this one.'),
];
const objectHeaders: Obj = {
  ETag: { schema: { type: 'string' } },
  'Last-Modified': { schema: { type: 'string' } },
  'Content-Length': { schema: { type: 'integer' } },
  'Content-Type': { schema: { type: 'string' } },
};

/** A markdown table of the S3 operations behind one OpenAPI operation, for Swagger UI. */
function describe(variants: S3Variant[]): string {
  const selector = (v: S3Variant): string => {
    const parts = [
      ...Object.entries(v.query ?? {}).map(([k, val]) => `\`?${val === '' ? k : `${k}=${val}`}\``),
      ...Object.keys(v.header ?? {}).map((k) => `header \`${k}\``),
    ];
    return parts.length ? parts.join(' + ') : '(none of the others)';
  };
  if (variants.length === 1) return `S3 operation **${variants[0]!.operation}**: ${variants[0]!.summary}`;
  return [
    '| S3 operation | Selected by | |',
    '|---|---|---|',
    ...variants.map((v) => `| **${v.operation}** | ${selector(v)} | ${v.summary} |`),
  ].join('\n');
}

const levelOf = (r: Resource): 'service' | 'bucket' | 'object' => (r === 'service' || r === 'bucket' ? r : 'object');

/** The S3 operations served at one path and method, with what selects each, from lib/s3/operations.ts. */
function variants(method: Method, level: 'service' | 'bucket' | 'object'): S3Variant[] {
  return OPERATION_NAMES.flatMap((operation) => {
    const { route, summary } = OPERATION_TABLE[operation] as { route: Route<Resource>; summary: string };
    if (route.method !== method || levelOf(route.resource) !== level) return [];
    const query: Record<string, string> = { ...route.query };
    if (route.subresource) query[route.subresource] = '';
    if (route.resource === 'part') query.partNumber = '1';
    if (route.resource === 'upload' || route.resource === 'part') query.uploadId = 'UPLOAD_ID';
    const v: S3Variant = { operation, summary };
    if (Object.keys(query).length) v.query = query;
    if (route.header) v.header = { [route.header.name]: route.header.example };
    return [v];
  });
}

function operation(id: string, summary: string, tag: string, variants: S3Variant[], body: Obj): Obj {
  return {
    operationId: id,
    summary,
    description: describe(variants),
    tags: [tag],
    [S3_OPERATIONS_KEY]: variants,
    ...body,
  };
}

function s3Paths(): Obj {
  const listCommon = [
    q('prefix', 'Only keys that begin with this prefix.'),
    q('delimiter', 'Groups keys that contain it after the prefix into CommonPrefixes.'),
    q('max-keys', 'At most this many keys (default and maximum 1000).', { type: 'integer', minimum: 0, maximum: 1000 }),
    q('encoding-type', 'URL-encode keys in the response.', { type: 'string', enum: ['url'] }),
  ];
  return {
    '/': {
      get: operation('ListBuckets', 'List the buckets the caller owns', 'Bucket', variants('GET', 'service'), {
        parameters: [
          q('prefix', 'Only buckets whose name begins with this prefix.'),
          q('max-buckets', 'At most this many buckets (1-10000).', { type: 'integer', minimum: 1, maximum: 10000 }),
          q('continuation-token', 'ContinuationToken from the previous page.'),
        ],
        responses: {
          '200': { ...ok('The bucket list.'), ...xml('The bucket list.', 'ListAllMyBucketsResult') },
          ...err('403', '500'),
        },
      }),
    },
    '/{Bucket}': {
      parameters: [ref('parameters', 'BucketParam')],
      put: operation(
        'CreateBucket',
        'Create a bucket, set its ACL (?acl), or a sub-resource',
        'Bucket',
        variants('PUT', 'bucket'),
        {
          parameters: [
            ref('parameters', 'AclQueryParam'),
            ...SUBRESOURCE_FLAGS,
            flag('versioning', 'PutBucketVersioning: Enabled or Suspended.'),
            TAGGING,
            ...BUCKET_CONFIG_FLAGS,
            h('x-amz-bucket-object-lock-enabled', 'CreateBucket: true turns Object Lock (and versioning) on.'),
            acl,
            ...grants,
            h(
              'x-amz-object-ownership',
              'CreateBucket: BucketOwnerEnforced, BucketOwnerPreferred or ObjectWriter (default).',
            ),
          ],
          requestBody: {
            required: false,
            ...xml(
              'CreateBucketConfiguration, or the sub-resource document.',
              'CreateBucketConfiguration',
              'AccessControlPolicy',
              'VersioningConfiguration',
              'CORSConfiguration',
              'PublicAccessBlockConfiguration',
              'OwnershipControls',
            ),
          },
          responses: {
            '200': ok('Created (or ACL set).', { Location: { schema: { type: 'string' } } }),
            ...err('400', '403', '404', '409', '500'),
          },
        },
      ),
      delete: operation(
        'DeleteBucket',
        'Delete an empty bucket, or a sub-resource',
        'Bucket',
        variants('DELETE', 'bucket'),
        {
          parameters: [...SUBRESOURCE_FLAGS, TAGGING, flag('lifecycle', 'DeleteBucketLifecycle.')],
          responses: { '204': ok('Deleted.'), ...err('403', '404', '409', '500') },
        },
      ),
      head: operation(
        'HeadBucket',
        'Check that a bucket exists and the caller may use it',
        'Bucket',
        variants('HEAD', 'bucket'),
        {
          responses: {
            '200': ok('The bucket exists.', { 'x-amz-bucket-region': { schema: { type: 'string' } } }),
            '403': { description: 'Access denied (no body).' },
            '404': { description: 'No such bucket (no body).' },
          },
        },
      ),
      get: operation('GetBucket', 'List objects, or read a bucket sub-resource', 'Bucket', variants('GET', 'bucket'), {
        parameters: [
          ...SUBRESOURCE_FLAGS,
          q('list-type', 'Set to 2 for ListObjectsV2.', { type: 'string', enum: ['2'] }),
          flag('location', 'Return the bucket location.'),
          ref('parameters', 'AclQueryParam'),
          flag('versioning', 'Return the versioning configuration.'),
          TAGGING,
          ...BUCKET_CONFIG_FLAGS,
          flag('versions', 'List object versions.'),
          flag('uploads', 'List multipart uploads in progress.'),
          ...listCommon,
          q('marker', 'ListObjects: start after this key.'),
          q('continuation-token', 'ListObjectsV2: NextContinuationToken from the previous page.'),
          q('start-after', 'ListObjectsV2: start after this key.'),
          q('fetch-owner', "ListObjectsV2: include each key's owner.", { type: 'boolean' }),
          q('key-marker', 'ListObjectVersions / ListMultipartUploads: start after this key.'),
          q('version-id-marker', 'ListObjectVersions: start after this version.'),
          q('upload-id-marker', 'ListMultipartUploads: with key-marker, start after this upload.'),
          q('max-uploads', 'ListMultipartUploads: at most this many uploads.', {
            type: 'integer',
            minimum: 1,
            maximum: 1000,
          }),
        ],
        responses: {
          '200': {
            ...ok('Depends on the sub-resource.'),
            ...xml(
              'Depends on the sub-resource.',
              'ListBucketResult',
              'ListBucketResultV2',
              'LocationConstraint',
              'AccessControlPolicy',
              'VersioningConfiguration',
              'ListVersionsResult',
              'ListMultipartUploadsResult',
              'CORSConfiguration',
              'PublicAccessBlockConfiguration',
              'OwnershipControls',
            ),
          },
          ...err('400', '403', '404', '500'),
        },
      }),
      options: operation(
        'PreflightCors',
        'CORS preflight (also on /{Bucket}/{Key+})',
        'Bucket',
        variants('OPTIONS', 'bucket'),
        {
          security: [],
          parameters: [
            h('Origin', 'The requesting origin (required).'),
            h('Access-Control-Request-Method', 'The method of the actual request (required).'),
            h('Access-Control-Request-Headers', 'Headers the actual request will send.'),
          ],
          responses: {
            '200': ok('A rule allows the request; Access-Control-Allow-* headers say what.'),
            ...err('400', '403', '404'),
          },
        },
      ),
      post: operation(
        'PostBucket',
        'Delete many objects (?delete), or upload from an HTML form',
        'Object',
        variants('POST', 'bucket'),
        {
          parameters: [
            flag('delete', 'Multi-object delete.'),
            h('Content-MD5', 'Base64 MD5 of the body (or an x-amz-checksum-* header); one is required.'),
          ],
          requestBody: {
            required: true,
            description: 'The keys to delete, or the upload form.',
            content: {
              'application/xml': { schema: schemaRef('DeleteObjectsRequest') },
              'multipart/form-data': {
                schema: {
                  type: 'object',
                  properties: {
                    key: { type: 'string' },
                    policy: { type: 'string' },
                    file: { type: 'string', format: 'binary' },
                  },
                },
              },
            },
          },
          responses: {
            '200': {
              ...ok('What was deleted, and what failed (or an upload with success_action_status 200).'),
              ...xml('What was deleted, and what failed.', 'DeleteResult'),
            },
            '201': { ...ok('Uploaded (success_action_status 201).'), ...xml('The uploaded object.', 'PostResponse') },
            '204': ok('Uploaded (the default success_action_status).'),
            '303': ok('Uploaded; redirected to success_action_redirect.'),
            ...err('400', '403', '404', '500'),
          },
        },
      ),
    },
    '/{Bucket}/{Key+}': {
      parameters: [ref('parameters', 'BucketParam'), ref('parameters', 'KeyParam')],
      put: operation(
        'PutObject',
        'Upload, copy (x-amz-copy-source), set the ACL (?acl), or upload a part',
        'Object',
        variants('PUT', 'object'),
        {
          parameters: [
            ref('parameters', 'AclQueryParam'),
            TAGGING,
            ...VERSION_FLAGS,
            q('partNumber', 'UploadPart: the part number (1-10000).', { type: 'integer', minimum: 1, maximum: 10000 }),
            q('uploadId', 'UploadPart: the upload id (required with partNumber).'),
            h('x-amz-copy-source', 'CopyObject / UploadPartCopy: /bucket/key of the source (URL-encoded).'),
            h('x-amz-copy-source-range', 'UploadPartCopy: bytes=first-last of the source.'),
            h('x-amz-metadata-directive', 'CopyObject: COPY (default) or REPLACE.', {
              type: 'string',
              enum: ['COPY', 'REPLACE'],
            }),
            ...['if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since'].map((c) =>
              h(`x-amz-copy-source-${c}`, 'Copy only if the source meets this condition.'),
            ),
            h('x-amz-storage-class', 'Only STANDARD.', schemaRef('StorageClass')),
            h('If-None-Match', 'PutObject: "*" writes only if the key does not exist.'),
            h('If-Match', 'PutObject: writes only if the current ETag matches.'),
            acl,
            ...grants,
            ...contentHeaders,
            ...checksumHeaders,
          ],
          requestBody: {
            required: false,
            description: 'The object bytes (none for CopyObject; AccessControlPolicy XML with ?acl).',
            content: {
              'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
              'application/xml': { schema: schemaRef('AccessControlPolicy') },
            },
          },
          responses: {
            '200': {
              ...ok('Stored.', { ETag: { schema: { type: 'string' } } }),
              ...xml('Empty for uploads; the copy result for copies.', 'CopyObjectResult', 'CopyPartResult'),
            },
            ...err('400', '403', '404', '412', '500'),
          },
        },
      ),
      get: operation(
        'GetObject',
        'Download an object, read its ACL (?acl), or list parts (?uploadId)',
        'Object',
        variants('GET', 'object'),
        {
          parameters: [
            ref('parameters', 'AclQueryParam'),
            TAGGING,
            ...VERSION_FLAGS,
            ...ATTRIBUTES_PARAMS,
            q('uploadId', 'ListParts: the upload id.'),
            q('max-parts', 'ListParts: at most this many parts.', { type: 'integer', minimum: 0, maximum: 1000 }),
            q('part-number-marker', 'ListParts: start after this part number.', { type: 'integer', minimum: 0 }),
            q('versionId', 'A version of the object ("null": the null version).'),
            h('Range', 'bytes=first-last, bytes=first- or bytes=-suffix (one range).'),
            q(
              'partNumber',
              'Read one part of a multipart object (206; 416 InvalidPartNumber past x-amz-mp-parts-count).',
              { type: 'integer', minimum: 1, maximum: 10000 },
            ),
            h('x-amz-checksum-mode', 'ENABLED returns the stored checksum (never on a ranged GET).', {
              type: 'string',
              enum: ['ENABLED'],
            }),
            ...conditionals,
            ...[
              'content-type',
              'content-language',
              'expires',
              'cache-control',
              'content-disposition',
              'content-encoding',
            ].map((n) => q(`response-${n}`, `Override the ${n} response header (signed requests only).`)),
          ],
          responses: {
            '200': {
              ...ok('The object (or the ACL / part list document).', objectHeaders),
              content: {
                'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
                'application/xml': {
                  schema: { oneOf: [schemaRef('AccessControlPolicy'), schemaRef('ListPartsResult')] },
                },
              },
            },
            '206': {
              ...ok('The requested range.', { ...objectHeaders, 'Content-Range': { schema: { type: 'string' } } }),
              content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
            },
            '304': { description: 'Not modified (If-None-Match / If-Modified-Since).' },
            ...err('400', '403', '404', '412', '416', '500'),
          },
        },
      ),
      head: operation('HeadObject', "Read an object's metadata", 'Object', variants('HEAD', 'object'), {
        parameters: [
          q('versionId', 'A version of the object ("null": the null version).'),
          h('Range', 'As for GetObject.'),
          q('partNumber', 'As for GetObject: the size of one part.', { type: 'integer', minimum: 1, maximum: 10000 }),
          h('x-amz-checksum-mode', 'ENABLED returns the stored checksum.', { type: 'string', enum: ['ENABLED'] }),
          ...conditionals,
        ],
        responses: {
          '200': ok('The object exists.', objectHeaders),
          '304': { description: 'Not modified.' },
          '403': { description: 'Access denied (no body).' },
          '404': { description: 'No such key (no body).' },
          '412': { description: 'Precondition failed (no body).' },
        },
      }),
      delete: operation(
        'DeleteObject',
        'Delete an object, or abort an upload (?uploadId)',
        'Object',
        variants('DELETE', 'object'),
        {
          parameters: [
            q('uploadId', 'AbortMultipartUpload: the upload id.'),
            q('versionId', 'Remove this version for good (without it: a delete marker on a versioned bucket).'),
            TAGGING,
            h('If-Match', 'Conditional delete: the ETag of the current version, or * (it must exist).'),
            h('x-amz-if-match-last-modified-time', 'Conditional delete: its Last-Modified time.'),
            h('x-amz-if-match-size', 'Conditional delete: its size in bytes.'),
            h('x-amz-bypass-governance-retention', 'true: the bucket owner removes a GOVERNANCE-locked version.'),
          ],
          responses: { '204': ok('Deleted (or aborted).'), ...err('403', '404', '500') },
        },
      ),
      post: operation(
        'PostObject',
        'Start (?uploads) or complete (?uploadId) a multipart upload',
        'MultipartUpload',
        variants('POST', 'object'),
        {
          parameters: [
            flag('uploads', 'CreateMultipartUpload.'),
            q('uploadId', 'CompleteMultipartUpload: the upload id.'),
            h('x-amz-checksum-algorithm', 'CreateMultipartUpload: checksum algorithm of the parts.'),
            h('x-amz-checksum-type', 'CreateMultipartUpload: COMPOSITE or FULL_OBJECT.', {
              type: 'string',
              enum: ['COMPOSITE', 'FULL_OBJECT'],
            }),
            acl,
            ...grants,
            ...contentHeaders,
          ],
          requestBody: {
            required: false,
            ...xml('CompleteMultipartUpload: the parts, in order.', 'CompleteMultipartUploadRequest'),
          },
          responses: {
            '200': {
              ...ok('Started, or completed.'),
              ...xml('Started, or completed.', 'InitiateMultipartUploadResult', 'CompleteMultipartUploadResult'),
            },
            ...err('400', '403', '404', '500'),
          },
        },
      ),
    },
  };
}

export function buildOpenApi(config: Pick<Config, 'observability' | 'server'>): Obj {
  return {
    openapi: '3.1.0',
    info: {
      title: 'BleepStore S3 API',
      version,
      description: [
        'The S3 operations this BleepStore serves, path-style (`/{Bucket}/{Key}`); virtual-hosted style',
        '(`{Bucket}.<domain>/{Key}`) reaches the same operations. One OpenAPI operation may stand for',
        'several S3 operations, told apart by query sub-resource or header: see `x-s3-operations`.',
        '',
        'Requests are authenticated with AWS Signature Version 4 (Authorization header, presigned',
        'query, or aws-chunked bodies). "Try it out" sends unsigned requests, which act as the anonymous',
        'user: they succeed only where an ACL grants AllUsers. The operator endpoints (`/health`, `/metrics`,',
        '...) answer unsigned GET and HEAD only; a signed request for the same path is an S3 request.',
      ].join('\n'),
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/', description: `This server (region ${config.server.region})` }],
    security: [{ sigv4: [] }],
    tags: [
      { name: 'Bucket', description: 'Buckets and their sub-resources.' },
      { name: 'Object', description: 'Objects and their sub-resources.' },
      { name: 'MultipartUpload', description: 'Multipart upload lifecycle.' },
      { name: 'Operations', description: 'Health, metrics and documentation (unsigned GET/HEAD only).' },
    ],
    paths: { ...opsPaths(config.observability), ...s3Paths() },
    components: {
      securitySchemes: {
        sigv4: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description:
            'AWS Signature Version 4: `AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/s3/aws4_request, SignedHeaders=..., Signature=...`, or the same fields as X-Amz-* query parameters (presigned URL).',
        },
      },
      parameters: {
        BucketParam: {
          name: 'Bucket',
          in: 'path',
          required: true,
          description: 'Bucket name (3-63 characters: a-z, 0-9, dot, hyphen).',
          schema: { type: 'string', minLength: 3, maxLength: 63, pattern: '^[a-z0-9][a-z0-9.\\-]{1,61}[a-z0-9]$' },
        },
        KeyParam: {
          name: 'Key+',
          in: 'path',
          required: true,
          description: 'Object key, up to 1024 bytes; may contain slashes (the `+` marks a greedy match).',
          schema: { type: 'string', minLength: 1, maxLength: 1024 },
        },
        AclQueryParam: flag('acl', 'Address the ACL sub-resource.'),
      },
      headers: {
        'x-amz-request-id': {
          description: 'Id of this request; the server log line for it carries the same id.',
          schema: { type: 'string' },
        },
      },
      responses: Object.fromEntries(
        Object.values(ERROR_RESPONSES).map(([name, description]) => [name, xml(description, 'Error')]),
      ),
      schemas,
    },
  };
}
