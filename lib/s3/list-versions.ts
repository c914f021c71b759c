// ListObjectVersions: every version and delete marker, keys in UTF-8 order and each key's
// versions newest first; max-keys counts versions, markers and common prefixes alike.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html
import { S3Error } from './errors.ts';
import type { Ctx } from './context.ts';
import type { BucketEndpoint as B } from './endpoint.ts';
import type { Grants } from './access.ts';
import { sendDocument } from './respond.ts';
import type { XmlNode } from './xml.ts';
import { encodingOf, MAX_CHAR, maxOf } from './list.ts';
import type { ListedVersion } from '../metadata/types.ts';
import type { MetadataStore } from '../metadata/sqlite.ts';

interface VersionsPage {
  versions: ListedVersion[];
  commonPrefixes: string[];
  truncated: boolean;
  nextKeyMarker: string | null;
  nextVersionIdMarker: string | null;
}

/**
 * One page after (key-marker, version-id-marker), both exclusive: without a version id marker
 * the page starts at the key after key-marker; with one, at the version after it. The Next*
 * markers name the last entry returned, so the next page continues right after it.
 */
export function versionsPage(
  store: MetadataStore,
  bucket: string,
  prefix: string,
  delimiter: string,
  keyMarker: string | null,
  versionIdMarker: string | null,
  max: number,
): VersionsPage {
  const page: VersionsPage = {
    versions: [],
    commonPrefixes: [],
    truncated: false,
    nextKeyMarker: null,
    nextVersionIdMarker: null,
  };
  if (max === 0) return page;
  const full = (): boolean => page.versions.length + page.commonPrefixes.length >= max;
  /** Adds versions until the page is full; false when it filled before the last one. */
  const addVersions = (list: ListedVersion[]): boolean => {
    for (const v of list) {
      if (full()) {
        page.truncated = true;
        return false;
      }
      page.versions.push(v);
      page.nextKeyMarker = v.key;
      page.nextVersionIdMarker = v.versionId;
    }
    return true;
  };
  const groupOf = (key: string): string | null => {
    if (!delimiter) return null;
    const i = key.indexOf(delimiter, prefix.length);
    return i < 0 ? null : key.slice(0, i + delimiter.length);
  };

  let cursor = keyMarker;
  if (keyMarker !== null && versionIdMarker !== null && keyMarker.startsWith(prefix) && groupOf(keyMarker) === null) {
    const all = store.keyVersions(bucket, keyMarker);
    const at = all.findIndex((v) => v.versionId === versionIdMarker);
    if (at >= 0 && !addVersions(all.slice(at + 1))) return finish(page);
  }
  let lastGroup = cursor !== null && groupOf(cursor) === cursor ? cursor : null;
  if (lastGroup !== null) cursor = lastGroup + MAX_CHAR;
  const batch = Math.min(Math.max(max + 1, 100), 1000);
  for (;;) {
    const keys = store.listVersionKeys(bucket, { prefix, after: cursor, limit: batch });
    if (keys.length === 0) return finish(page);
    let regroup = false;
    for (const key of keys) {
      cursor = key;
      if (lastGroup !== null && key.startsWith(lastGroup)) continue;
      const group = groupOf(key);
      if (group !== null) {
        if (full()) {
          page.truncated = true;
          return finish(page);
        }
        page.commonPrefixes.push(group);
        page.nextKeyMarker = lastGroup = group;
        page.nextVersionIdMarker = null;
        cursor = group + MAX_CHAR;
        regroup = true;
        break; // re-query past the whole group
      }
      if (!addVersions(store.keyVersions(bucket, key))) return finish(page);
    }
    if (!regroup && keys.length < batch) return finish(page);
  }
}

function finish(page: VersionsPage): VersionsPage {
  if (!page.truncated) {
    page.nextKeyMarker = null;
    page.nextVersionIdMarker = null;
  }
  return page;
}

export function listObjectVersions(ctx: Ctx, e: B, { bucket }: Grants['bucket']): void {
  const q = e.query;
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const max = maxOf(q, 'max-keys');
  const enc = encodingOf(q);
  const keyMarker = q.get('key-marker') || null;
  const versionIdMarker = q.get('version-id-marker') || null;
  if (versionIdMarker !== null && keyMarker === null)
    throw new S3Error('InvalidArgument', 'A version-id marker cannot be specified without a key marker.', {
      ArgumentName: 'version-id-marker',
      ArgumentValue: versionIdMarker,
    });
  const page = versionsPage(ctx.svc.metadata, e.bucket, prefix, delimiter, keyMarker, versionIdMarker, max);
  const owner = (v: ListedVersion): XmlNode => ({
    ID: v.ownerId || bucket.ownerId,
    DisplayName: v.ownerDisplay || bucket.ownerDisplay,
  });
  sendDocument(ctx.res, 'ListVersionsResult', {
    Name: e.bucket,
    Prefix: enc(prefix),
    KeyMarker: enc(keyMarker ?? ''),
    VersionIdMarker: versionIdMarker ?? '',
    NextKeyMarker: page.nextKeyMarker !== null ? enc(page.nextKeyMarker) : null,
    NextVersionIdMarker: page.nextVersionIdMarker,
    MaxKeys: max,
    Delimiter: delimiter ? enc(delimiter) : null,
    EncodingType: q.has('encoding-type') ? 'url' : null,
    IsTruncated: page.truncated,
    // Versions and delete markers interleaved in listing order, as AWS answers.
    '#seq': page.versions.map((v): [string, XmlNode] =>
      v.deleteMarker
        ? [
            'DeleteMarker',
            {
              Key: enc(v.key),
              VersionId: v.versionId,
              IsLatest: v.isLatest,
              LastModified: v.lastModified,
              Owner: owner(v),
            },
          ]
        : [
            'Version',
            {
              Key: enc(v.key),
              VersionId: v.versionId,
              IsLatest: v.isLatest,
              LastModified: v.lastModified,
              ETag: v.etag,
              Size: v.size,
              Owner: owner(v),
              StorageClass: v.storageClass,
            },
          ],
    ),
    CommonPrefixes: page.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
  });
}
