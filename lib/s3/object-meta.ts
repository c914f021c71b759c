// Object metadata in and out: content headers, x-amz-meta-*, storage class, and the
// response headers GET and HEAD share.
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from './errors.ts';
import { decodeMetaValue, encodeMetaValue } from './rfc2047.ts';
import type { ContentHeaders, ObjectRow } from '../metadata/types.ts';

// https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html — user metadata
// is limited to 2 KB, measured as the UTF-8 size of names (without prefix) and values.
const MAX_USER_METADATA = 2048;
const STORAGE_CLASSES = new Set([
  'STANDARD',
  'REDUCED_REDUNDANCY',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER',
  'DEEP_ARCHIVE',
  'OUTPOSTS',
  'GLACIER_IR',
  'SNOW',
  'EXPRESS_ONEZONE',
]);

export function contentHeadersFrom(header: (n: string) => string | undefined): ContentHeaders {
  return {
    contentType: header('content-type') || 'application/octet-stream',
    contentEncoding: stripAwsChunked(header('content-encoding')),
    contentLanguage: header('content-language') ?? null,
    contentDisposition: header('content-disposition') ?? null,
    cacheControl: header('cache-control') ?? null,
    expires: header('expires') ?? null,
  };
}

/** aws-chunked is transport framing, never part of the stored Content-Encoding. */
function stripAwsChunked(v: string | undefined): string | null {
  if (v === undefined) return null;
  const rest = v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s && s.toLowerCase() !== 'aws-chunked');
  return rest.length ? rest.join(', ') : null;
}

export function userMetadataFrom(headers: IncomingHttpHeaders): Record<string, string> {
  const meta: Record<string, string> = {};
  let size = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    const short = name.slice('x-amz-meta-'.length);
    const v = decodeMetaValue(Array.isArray(value) ? value.join(',') : value);
    meta[short] = v;
    size += Buffer.byteLength(short) + Buffer.byteLength(v);
  }
  if (size > MAX_USER_METADATA) {
    throw new S3Error('MetadataTooLarge', 'Your metadata headers exceed the maximum allowed metadata size.', {
      Size: String(size),
      MaxSizeAllowed: String(MAX_USER_METADATA),
    });
  }
  return meta;
}

export function storageClassFrom(header: (n: string) => string | undefined): string {
  const v = header('x-amz-storage-class');
  if (v === undefined || v === '') return 'STANDARD';
  if (!STORAGE_CLASSES.has(v))
    throw new S3Error('InvalidStorageClass', 'The storage class you specified is not valid', {
      StorageClassRequested: v,
    });
  return v;
}

// Last-Modified of the objects read lately: parsing and formatting a date is ~0.65 µs, a
// lookup ~0.01 µs, and small reads revisit the same rows.
const httpDates = new Map<string, string>();

export function httpDate(iso: string): string {
  let v = httpDates.get(iso);
  if (v === undefined) {
    v = new Date(iso).toUTCString();
    if (httpDates.size >= 4096) httpDates.clear();
    httpDates.set(iso, v);
  }
  return v;
}

/** Headers describing a stored object, shared by GET, HEAD and conditional 304s. */
export function objectHeaders(o: ObjectRow): Record<string, string> {
  const h: Record<string, string> = {
    'Last-Modified': httpDate(o.lastModified),
    ETag: o.etag,
    'Accept-Ranges': 'bytes',
    'Content-Type': o.contentType,
  };
  if (o.contentEncoding !== null) h['Content-Encoding'] = o.contentEncoding;
  if (o.contentLanguage !== null) h['Content-Language'] = o.contentLanguage;
  if (o.contentDisposition !== null) h['Content-Disposition'] = o.contentDisposition;
  if (o.cacheControl !== null) h['Cache-Control'] = o.cacheControl;
  if (o.expires !== null) h.Expires = o.expires;
  // AWS omits x-amz-storage-class for STANDARD objects.
  if (o.storageClass !== 'STANDARD') h['x-amz-storage-class'] = o.storageClass;
  for (const [k, v] of Object.entries(o.userMetadata)) h[`x-amz-meta-${k}`] = encodeMetaValue(v);
  return h;
}

export function checksumHeaders(o: ObjectRow): Record<string, string> {
  if (!o.checksum) return {};
  return {
    [`x-amz-checksum-${o.checksum.algorithm.toLowerCase()}`]: o.checksum.value,
    'x-amz-checksum-type': o.checksum.type,
  };
}
