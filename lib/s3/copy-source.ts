// Parsing x-amz-copy-source: "bucket/key" or "/bucket/key", URL-encoded, with an optional
// "?versionId=" suffix. https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html
import { S3Error } from './errors.ts';
import { FileMissingError } from '../storage/backend.ts';
import type { BucketRow, ObjectRow } from '../metadata/types.ts';

/** x-amz-copy-source-version-id: the source version copied, when its bucket is versioned. */
export function copySourceVersionHeader(bucket: BucketRow, source: ObjectRow): Record<string, string> {
  return bucket.versioning ? { 'x-amz-copy-source-version-id': source.versionId ?? 'null' } : {};
}

export interface CopySource {
  bucket: string;
  key: string;
  versionId: string | null;
}

export function parseCopySource(raw: string): CopySource {
  const q = raw.indexOf('?');
  const pathPart = q < 0 ? raw : raw.slice(0, q);
  const versionId = q < 0 ? null : new URLSearchParams(raw.slice(q + 1)).get('versionId');
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathPart);
  } catch {
    throw new S3Error('InvalidArgument', 'Invalid copy source encoding', {
      ArgumentName: 'x-amz-copy-source',
      ArgumentValue: raw,
    });
  }
  if (decoded.startsWith('/')) decoded = decoded.slice(1);
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) {
    throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', {
      ArgumentName: 'x-amz-copy-source',
      ArgumentValue: raw,
    });
  }
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1), versionId };
}

/**
 * Runs a whole copy again when the source's file vanished between its row's lookup and the
 * read: an overwrite of the source committed meanwhile and removed the old file. Nothing is
 * committed before the read finishes, so a retry reads the newer version, as GetObject does.
 */
export async function retryOnSourceOverwrite<T>(copy: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await copy();
    } catch (err) {
      if (!(err instanceof FileMissingError) || attempt >= 3) throw err;
    }
  }
}
