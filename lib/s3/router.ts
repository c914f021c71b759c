// Pure request → operation parser. No I/O: given the method, the URL as sent and the Host
// header, it names the S3 operation, or throws the S3 error AWS would answer.
// Sub-resources: https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html
import { S3Error } from './errors.ts';

type BucketOp =
  | 'CreateBucket' | 'DeleteBucket' | 'HeadBucket' | 'GetBucketLocation' | 'GetBucketAcl' | 'PutBucketAcl'
  | 'GetBucketVersioning' | 'ListObjects' | 'ListObjectsV2' | 'ListObjectVersions' | 'DeleteObjects'
  | 'ListMultipartUploads' | 'GetBucketCors' | 'PutBucketCors' | 'DeleteBucketCors' | 'PreflightCors'
  | 'GetPublicAccessBlock' | 'PutPublicAccessBlock' | 'DeletePublicAccessBlock'
  | 'GetBucketOwnershipControls' | 'PutBucketOwnershipControls' | 'DeleteBucketOwnershipControls' | 'PostObject';
type ObjectOp =
  | 'GetObject' | 'HeadObject' | 'PutObject' | 'CopyObject' | 'DeleteObject' | 'GetObjectAcl' | 'PutObjectAcl'
  | 'CreateMultipartUpload';
type UploadOp = 'CompleteMultipartUpload' | 'AbortMultipartUpload' | 'ListParts';
type PartOp = 'UploadPart' | 'UploadPartCopy';

export type Endpoint = (
  | { op: 'ListBuckets' }
  | { op: BucketOp; bucket: string }
  | { op: ObjectOp; bucket: string; key: string }
  | { op: UploadOp; bucket: string; key: string; uploadId: string }
  | { op: PartOp; bucket: string; key: string; uploadId: string; partNumber: number }
) & { query: URLSearchParams; style: 'path' | 'virtual' };

export type OperationName = Endpoint['op'];

/** Every operation the router can produce; /openapi.json and metrics use this list. */
export const OPERATIONS: readonly OperationName[] = [
  'ListBuckets', 'CreateBucket', 'DeleteBucket', 'HeadBucket', 'GetBucketLocation', 'GetBucketAcl',
  'PutBucketAcl', 'GetBucketVersioning', 'ListObjects', 'ListObjectsV2', 'ListObjectVersions',
  'DeleteObjects', 'ListMultipartUploads', 'GetObject', 'HeadObject', 'PutObject', 'CopyObject',
  'DeleteObject', 'GetObjectAcl', 'PutObjectAcl', 'CreateMultipartUpload', 'CompleteMultipartUpload',
  'AbortMultipartUpload', 'ListParts', 'UploadPart', 'UploadPartCopy',
  'GetBucketCors', 'PutBucketCors', 'DeleteBucketCors', 'PreflightCors',
  'GetPublicAccessBlock', 'PutPublicAccessBlock', 'DeletePublicAccessBlock',
  'GetBucketOwnershipControls', 'PutBucketOwnershipControls', 'DeleteBucketOwnershipControls', 'PostObject',
];

/** Valid S3 sub-resources this server does not implement: answered with NotImplemented. */
const BUCKET_UNSUPPORTED = [
  'accelerate', 'analytics', 'encryption', 'intelligent-tiering', 'inventory', 'lifecycle',
  'logging', 'metrics', 'notification', 'object-lock', 'policy', 'policyStatus', 'replication', 'requestPayment', 'tagging', 'website', 'metadataTable',
  'metadataConfiguration', 'session',
];
const OBJECT_UNSUPPORTED = ['tagging', 'retention', 'legal-hold', 'torrent', 'restore', 'select', 'attributes', 'renameObject'];

export interface RouteInput {
  method: string;
  /** Request target as sent: path plus optional query. */
  url: string;
  /** Host header, possibly with a port. */
  host?: string | undefined;
  /** Lower-case header lookup, used only where a header picks the operation (x-amz-copy-source). */
  header?: (name: string) => string | undefined;
}

export interface RouterOptions {
  /** Base domains for virtual-hosted-style addressing, e.g. ['localhost', 's3.example.com']. */
  domains: readonly string[];
}

export function splitUrl(url: string): { rawPath: string; rawQuery: string } {
  const q = url.indexOf('?');
  return q < 0 ? { rawPath: url, rawQuery: '' } : { rawPath: url.slice(0, q), rawQuery: url.slice(q + 1) };
}

function decodePath(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new S3Error('InvalidURI', "Couldn't parse the specified URI.");
  }
}

/** Bucket from a virtual-hosted Host header (`bucket.domain[:port]`), if any. */
export function bucketFromHost(host: string | undefined, domains: readonly string[]): string | undefined {
  if (!host) return undefined;
  let name = host.toLowerCase();
  if (name.startsWith('[')) return undefined; // IPv6 literal
  const colon = name.lastIndexOf(':');
  if (colon >= 0) name = name.slice(0, colon);
  for (const d of domains) {
    if (name.length > d.length + 1 && name.endsWith('.' + d)) return name.slice(0, -(d.length + 1));
  }
  return undefined;
}

const has = (q: URLSearchParams, name: string): boolean => q.has(name);

export function parseEndpoint(input: RouteInput, opts: RouterOptions): Endpoint {
  const method = input.method.toUpperCase();
  const { rawPath, rawQuery } = splitUrl(input.url);
  if (!rawPath.startsWith('/')) throw new S3Error('InvalidURI', "Couldn't parse the specified URI.");
  const query = new URLSearchParams(rawQuery);
  const path = decodePath(rawPath);

  let bucket: string | undefined = bucketFromHost(input.host, opts.domains);
  let key: string | undefined;
  let style: 'path' | 'virtual' = 'virtual';
  if (bucket !== undefined) {
    key = path.length > 1 ? path.slice(1) : undefined;
  } else {
    style = 'path';
    const slash = path.indexOf('/', 1);
    if (path.length > 1) {
      bucket = slash < 0 ? path.slice(1) : path.slice(1, slash);
      if (slash >= 0 && slash + 1 < path.length) key = path.slice(slash + 1);
    }
  }
  if (bucket === '') throw new S3Error('InvalidBucketName', 'The specified bucket is not valid.', { BucketName: '' });

  const base = { query, style };
  if (bucket === undefined) {
    if (method === 'GET') return { op: 'ListBuckets', ...base };
    throw new S3Error('MethodNotAllowed', undefined, { Method: method, ResourceType: 'SERVICE' });
  }
  // A CORS preflight names a bucket or an object; the bucket's rules answer it either way.
  if (method === 'OPTIONS') return { op: 'PreflightCors', bucket, ...base };
  if (key === undefined) return { ...routeBucket(method, bucket, query), ...base };
  if (key.includes('\0')) throw new S3Error('InvalidArgument', 'Object key must not contain the NUL character.', { ArgumentName: 'key' });
  if (Buffer.byteLength(key) > 1024) throw new S3Error('KeyTooLongError', undefined, { MaxSizeAllowed: '1024', Size: String(Buffer.byteLength(key)) });
  return { ...routeObject(method, bucket, key, query, input.header), ...base };
}

function unsupported(what: string): never {
  throw new S3Error('NotImplemented', `The ${what} sub-resource is not implemented by this server.`);
}

function routeBucket(method: string, bucket: string, q: URLSearchParams) {
  const sub = BUCKET_UNSUPPORTED.find((s) => has(q, s));
  switch (method) {
    case 'GET':
      if (has(q, 'acl')) return { op: 'GetBucketAcl' as const, bucket };
      if (has(q, 'cors')) return { op: 'GetBucketCors' as const, bucket };
      if (has(q, 'publicAccessBlock')) return { op: 'GetPublicAccessBlock' as const, bucket };
      if (has(q, 'ownershipControls')) return { op: 'GetBucketOwnershipControls' as const, bucket };
      if (has(q, 'location')) return { op: 'GetBucketLocation' as const, bucket };
      if (has(q, 'versioning')) return { op: 'GetBucketVersioning' as const, bucket };
      if (has(q, 'uploads')) return { op: 'ListMultipartUploads' as const, bucket };
      if (has(q, 'versions')) return { op: 'ListObjectVersions' as const, bucket };
      if (sub) unsupported(sub);
      if (q.get('list-type') === '2') return { op: 'ListObjectsV2' as const, bucket };
      return { op: 'ListObjects' as const, bucket };
    case 'HEAD':
      return { op: 'HeadBucket' as const, bucket };
    case 'PUT':
      if (has(q, 'acl')) return { op: 'PutBucketAcl' as const, bucket };
      if (has(q, 'cors')) return { op: 'PutBucketCors' as const, bucket };
      if (has(q, 'publicAccessBlock')) return { op: 'PutPublicAccessBlock' as const, bucket };
      if (has(q, 'ownershipControls')) return { op: 'PutBucketOwnershipControls' as const, bucket };
      if (has(q, 'versioning')) unsupported('versioning');
      if (sub) unsupported(sub);
      return { op: 'CreateBucket' as const, bucket };
    case 'DELETE':
      if (has(q, 'cors')) return { op: 'DeleteBucketCors' as const, bucket };
      if (has(q, 'publicAccessBlock')) return { op: 'DeletePublicAccessBlock' as const, bucket };
      if (has(q, 'ownershipControls')) return { op: 'DeleteBucketOwnershipControls' as const, bucket };
      if (sub) unsupported(sub);
      return { op: 'DeleteBucket' as const, bucket };
    case 'POST':
      if (has(q, 'delete')) return { op: 'DeleteObjects' as const, bucket };
      if (sub) unsupported(sub);
      // Browser-based upload: a multipart/form-data POST to the bucket.
      return { op: 'PostObject' as const, bucket };
  }
  throw new S3Error('MethodNotAllowed', undefined, { Method: method, ResourceType: 'BUCKET' });
}

function partNumberOf(q: URLSearchParams): number {
  const raw = q.get('partNumber') ?? '';
  const n = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= 10000)) {
    throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', { ArgumentName: 'partNumber', ArgumentValue: raw });
  }
  return n;
}

function routeObject(method: string, bucket: string, key: string, q: URLSearchParams, header?: (n: string) => string | undefined) {
  const sub = OBJECT_UNSUPPORTED.find((s) => has(q, s));
  const uploadId = q.get('uploadId');
  switch (method) {
    case 'GET':
      if (has(q, 'acl')) return { op: 'GetObjectAcl' as const, bucket, key };
      if (sub) unsupported(sub);
      if (uploadId !== null) return { op: 'ListParts' as const, bucket, key, uploadId };
      return { op: 'GetObject' as const, bucket, key };
    case 'HEAD':
      return { op: 'HeadObject' as const, bucket, key };
    case 'PUT':
      if (has(q, 'acl')) return { op: 'PutObjectAcl' as const, bucket, key };
      if (sub) unsupported(sub);
      if (uploadId !== null || has(q, 'partNumber')) {
        if (uploadId === null) throw new S3Error('InvalidArgument', 'uploadId is required with partNumber', { ArgumentName: 'uploadId' });
        const partNumber = partNumberOf(q);
        const op = header?.('x-amz-copy-source') !== undefined ? 'UploadPartCopy' as const : 'UploadPart' as const;
        return { op, bucket, key, uploadId, partNumber };
      }
      if (header?.('x-amz-copy-source') !== undefined) return { op: 'CopyObject' as const, bucket, key };
      return { op: 'PutObject' as const, bucket, key };
    case 'DELETE':
      if (sub) unsupported(sub);
      if (uploadId !== null) return { op: 'AbortMultipartUpload' as const, bucket, key, uploadId };
      return { op: 'DeleteObject' as const, bucket, key };
    case 'POST':
      if (has(q, 'uploads')) return { op: 'CreateMultipartUpload' as const, bucket, key };
      if (uploadId !== null) return { op: 'CompleteMultipartUpload' as const, bucket, key, uploadId };
      if (sub) unsupported(sub);
      throw new S3Error('MethodNotAllowed', undefined, { Method: method, ResourceType: 'OBJECT' });
  }
  throw new S3Error('MethodNotAllowed', undefined, { Method: method, ResourceType: 'OBJECT' });
}
