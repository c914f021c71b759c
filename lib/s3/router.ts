// Pure request → operation parser. No I/O: given the method, the URL as sent and the Host
// header, it names the S3 operation, or throws the S3 error AWS would answer.
// Sub-resources: https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html
import { S3Error } from './errors.ts';
import type { Endpoint, OperationName, Resource } from './endpoint.ts';
import { OPERATION_NAMES, OPERATION_TABLE, type Route } from './operations.ts';

export type { Endpoint, OperationName } from './endpoint.ts';

/** Every operation the router can produce; /openapi.json and metrics use this list. */
export const OPERATIONS: readonly OperationName[] = OPERATION_NAMES;

/** Valid S3 sub-resources this server does not implement: answered with NotImplemented. */
const UNSUPPORTED: Record<'bucket' | 'object', readonly string[]> = {
  bucket: [
    'accelerate',
    'analytics',
    'encryption',
    'intelligent-tiering',
    'inventory',
    'logging',
    'metrics',
    'replication',
    'requestPayment',
    'website',
    'metadataTable',
    'metadataConfiguration',
    'session',
  ],
  object: ['torrent', 'restore', 'select', 'renameObject'],
};

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

  const level: Level = bucket === undefined ? 'service' : key === undefined ? 'bucket' : 'object';
  if (key !== undefined) {
    if (key.includes('\0'))
      throw new S3Error('InvalidArgument', 'Object key must not contain the NUL character.', { ArgumentName: 'key' });
    if (Buffer.byteLength(key) > 1024)
      throw new S3Error('KeyTooLongError', undefined, { MaxSizeAllowed: '1024', Size: String(Buffer.byteLength(key)) });
  }
  const { op, route: r } = route(method, level, query, input.header);
  return { op, ...fields(r.resource, bucket, key, query), query, style } as Endpoint;
}

function unsupported(what: string): never {
  throw new S3Error('NotImplemented', `The ${what} sub-resource is not implemented by this server.`);
}

type Level = 'service' | 'bucket' | 'object';
const levelOf = (r: Resource): Level => (r === 'service' || r === 'bucket' ? r : 'object');
type Candidate = { op: OperationName; route: Route<Resource> };

/** How specific a route's selectors are: the more specific is tried first. */
function specificity(r: Route<Resource>): number {
  return (
    (r.resource === 'upload' || r.resource === 'part' ? 2 : 0) +
    (r.resource === 'part' ? 1 : 0) +
    (r.header ? 1 : 0) +
    (r.query ? 1 : 0)
  );
}

/** Method → level → the operations that may serve it: sub-resource ones, then the rest, most specific first. */
const CANDIDATES = new Map<string, { sub: Candidate[]; rest: Candidate[]; subresources: Set<string> }>();
for (const op of OPERATION_NAMES) {
  const route = OPERATION_TABLE[op].route as Route<Resource>;
  const levels = route.objectPathsToo ? [levelOf(route.resource), 'object'] : [levelOf(route.resource)];
  for (const level of levels) {
    const id = `${route.method} ${level}`;
    let c = CANDIDATES.get(id);
    if (!c) CANDIDATES.set(id, (c = { sub: [], rest: [], subresources: new Set() }));
    (route.subresource ? c.sub : c.rest).push({ op, route });
  }
}
for (const [id, c] of CANDIDATES) {
  c.rest.sort((a, b) => specificity(b.route) - specificity(a.route));
  // A sub-resource this level serves for another method is refused here too (PUT ?versioning).
  const level = id.slice(id.indexOf(' ') + 1);
  for (const other of CANDIDATES.keys()) {
    if (other.endsWith(' ' + level))
      for (const s of CANDIDATES.get(other)!.sub) c.subresources.add(s.route.subresource!);
  }
}

function selects(r: Route<Resource>, q: URLSearchParams, header?: (n: string) => string | undefined): boolean {
  if (r.resource === 'upload' && !q.has('uploadId')) return false;
  if (r.resource === 'part' && !q.has('uploadId') && !q.has('partNumber')) return false;
  if (r.header && header?.(r.header.name) === undefined) return false;
  for (const [name, value] of Object.entries(r.query ?? {})) if (q.get(name) !== value) return false;
  return true;
}

function route(
  method: string,
  level: Level,
  q: URLSearchParams,
  header?: (n: string) => string | undefined,
): Candidate {
  const c = CANDIDATES.get(`${method} ${level}`);
  const resourceType = level.toUpperCase();
  if (!c) {
    throw new S3Error('MethodNotAllowed', undefined, { Method: method, ResourceType: resourceType });
  }
  const bySub = c.sub.find((s) => q.has(s.route.subresource!));
  if (bySub) return bySub;
  // HEAD has no sub-resources: it is always HeadBucket / HeadObject.
  if (level !== 'service' && method !== 'HEAD') {
    const sub = UNSUPPORTED[level].find((s) => q.has(s)) ?? [...c.subresources].find((s) => q.has(s));
    if (sub) unsupported(sub);
  }
  const match = c.rest.find((r) => selects(r.route, q, header));
  if (match) return match;
  throw new S3Error('MethodNotAllowed', undefined, { Method: method, ResourceType: resourceType });
}

function partNumberOf(q: URLSearchParams): number {
  const raw = q.get('partNumber') ?? '';
  const n = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= 10000)) {
    throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', {
      ArgumentName: 'partNumber',
      ArgumentValue: raw,
    });
  }
  return n;
}

/** The resource's fields from the path and query, once the operation is known. */
function fields(
  resource: Resource,
  bucket: string | undefined,
  key: string | undefined,
  q: URLSearchParams,
): Record<string, unknown> {
  if (resource === 'service') return {};
  if (resource === 'bucket') return { bucket };
  const object = { bucket, key, versionId: q.get('versionId') };
  if (resource === 'object') return object;
  const uploadId = q.get('uploadId');
  if (uploadId === null)
    throw new S3Error('InvalidArgument', 'uploadId is required with partNumber', { ArgumentName: 'uploadId' });
  if (resource === 'upload') return { ...object, uploadId };
  return { ...object, uploadId, partNumber: partNumberOf(q) };
}
