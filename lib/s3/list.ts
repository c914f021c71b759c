// ListObjects (v1) and ListObjectsV2 (ListObjectVersions is in list-versions.ts).
import { S3Error } from './errors.ts';
import type { Ctx } from './context.ts';
import type { BucketEndpoint as B } from './endpoint.ts';
import type { Grants } from './access.ts';
import { sendDocument } from './respond.ts';
import type { XmlNode } from './xml.ts';
import type { ListedObject } from '../metadata/types.ts';
import type { MetadataStore } from '../metadata/sqlite.ts';

// The largest valid code point; UTF-8 "F4 8F BF BF" sorts after any other character, so
// "P" + it is past every key that starts with P followed by anything smaller.
export const MAX_CHAR = String.fromCodePoint(0x10ffff);

export interface ListPage {
  contents: ListedObject[];
  commonPrefixes: string[];
  truncated: boolean;
  /** Last key or common prefix returned; where the next page starts. */
  last: string | null;
}

/**
 * One page in S3's order: keys and common prefixes interleaved by key, `max` entries at
 * most, after `start` (exclusive). When `start` is itself a common prefix, its whole
 * group is skipped, as continuing from a NextMarker that names a prefix must.
 */
export function listPage(
  store: MetadataStore,
  bucket: string,
  prefix: string,
  delimiter: string,
  start: string | null,
  max: number,
): ListPage {
  const page: ListPage = { contents: [], commonPrefixes: [], truncated: false, last: null };
  // max-keys=0 answers an empty, untruncated page: with nothing returned there is no place to
  // continue from (ceph s3-tests test_bucket_list_maxkeys_zero, run against AWS).
  if (max === 0) return page;
  const groupOf = (key: string): string | null => {
    if (!delimiter) return null;
    const i = key.indexOf(delimiter, prefix.length);
    return i < 0 ? null : key.slice(0, i + delimiter.length);
  };
  let lastGroup = start !== null && groupOf(start) === start ? start : null;
  let cursor = lastGroup !== null ? lastGroup + MAX_CHAR : start;
  const batch = Math.min(Math.max(max + 1, 100), 1000);
  for (;;) {
    const rows = store.listObjects(bucket, { prefix, after: cursor, limit: batch });
    if (rows.length === 0) return page;
    for (const row of rows) {
      cursor = row.key;
      if (lastGroup !== null && row.key.startsWith(lastGroup)) continue;
      const group = groupOf(row.key);
      if (page.contents.length + page.commonPrefixes.length >= max) {
        page.truncated = true;
        return page;
      }
      if (group !== null) {
        page.commonPrefixes.push(group);
        page.last = lastGroup = group;
        cursor = group + MAX_CHAR;
        break; // re-query past the whole group
      }
      page.contents.push(row);
      page.last = row.key;
    }
    if (rows.length < batch && cursor === rows[rows.length - 1]!.key) return page;
  }
}

/**
 * encoding-type=url: percent-encoding that keeps '/', a space as %20 (ceph's s3-tests,
 * test_bucket_list_encoding_basic, expect "quux%20ab/"). %20 decodes right with every
 * decoder (unquote, unquote_plus, decodeURIComponent); '+' breaks decodeURIComponent users.
 */
function urlEncode(s: string): string {
  return encodeURIComponent(s)
    .replace(/%2F/g, '/')
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** max-keys / max-uploads: a non-negative integer, capped at 1000 (the default). */
export function maxOf(q: URLSearchParams, name: 'max-keys' | 'max-uploads'): number {
  const raw = q.get(name);
  if (raw === null) return 1000;
  if (!/^\d+$/.test(raw))
    throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, {
      ArgumentName: name,
      ArgumentValue: raw,
    });
  return Math.min(Number(raw), 1000);
}

/** encoding-type: absent (names as they are) or url; anything else is InvalidArgument. */
export function encodingOf(q: URLSearchParams): (s: string) => string {
  const enc = q.get('encoding-type');
  if (enc === null) return (s) => s;
  if (enc.toLowerCase() !== 'url')
    throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', {
      ArgumentName: 'encoding-type',
      ArgumentValue: enc,
    });
  return urlEncode;
}

function decodeToken(token: string): string {
  const raw = Buffer.from(token, 'base64url').toString('utf8');
  if (!raw.startsWith('1:'))
    throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', {
      ArgumentName: 'continuation-token',
    });
  return raw.slice(2);
}

function encodeToken(last: string): string {
  return Buffer.from('1:' + last, 'utf8').toString('base64url');
}

export function listObjects(ctx: Ctx, e: B, { bucket }: Grants['bucket'], version: 1 | 2): void {
  const q = e.query;
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const max = maxOf(q, 'max-keys');
  const enc = encodingOf(q);
  const encoded = q.has('encoding-type');
  const token = version === 2 ? q.get('continuation-token') : null;
  const startAfter = version === 2 ? q.get('start-after') : q.get('marker');
  const start = token !== null ? decodeToken(token) : startAfter || null;
  const page = listPage(ctx.svc.metadata, e.bucket, prefix, delimiter, start, max);
  const withOwner = version === 1 || q.get('fetch-owner') === 'true';
  const contents = page.contents.map(
    (o): XmlNode => ({
      Key: enc(o.key),
      LastModified: o.lastModified,
      ETag: o.etag,
      Size: o.size,
      StorageClass: o.storageClass,
      Owner: withOwner ? { ID: o.ownerId || bucket.ownerId, DisplayName: o.ownerDisplay || bucket.ownerDisplay } : null,
    }),
  );
  const common = page.commonPrefixes.map((p) => ({ Prefix: enc(p) }));
  const body: XmlNode =
    version === 2
      ? {
          Name: e.bucket,
          Prefix: enc(prefix),
          Delimiter: delimiter ? enc(delimiter) : null,
          MaxKeys: max,
          EncodingType: encoded ? 'url' : null,
          KeyCount: page.contents.length + page.commonPrefixes.length,
          IsTruncated: page.truncated,
          ContinuationToken: token,
          StartAfter: q.has('start-after') ? enc(startAfter ?? '') : null,
          NextContinuationToken: page.truncated && page.last !== null ? encodeToken(page.last) : null,
          Contents: contents,
          CommonPrefixes: common,
        }
      : {
          Name: e.bucket,
          Prefix: enc(prefix),
          Marker: enc(startAfter ?? ''),
          MaxKeys: max,
          Delimiter: delimiter ? enc(delimiter) : null,
          EncodingType: encoded ? 'url' : null,
          IsTruncated: page.truncated,
          // AWS returns NextMarker only when a delimiter was given; clients use the last key otherwise.
          NextMarker: page.truncated && delimiter && page.last !== null ? enc(page.last) : null,
          Contents: contents,
          CommonPrefixes: common,
        };
  sendDocument(ctx.res, 'ListBucketResult', body);
}
