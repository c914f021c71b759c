// The one object-write service PutObject, CopyObject and CompleteMultipartUpload share: write
// preconditions (RFC 7232 If-None-Match / If-Match, decided again inside the transaction),
// the row's stamps, the commit through one command, the replaced blobs' collection, and the
// checksum response headers, and the new version's id (x-amz-version-id).
import { S3Error } from './errors.ts';
import type { Ctx } from './context.ts';
import { etagMatches } from './conditional.ts';
import { noSuchBucket } from './access.ts';
import { PreconditionError } from '../metadata/sqlite.ts';
import { objectRecord } from '../metadata/commands.ts';
import type { ObjectRow, StoredChecksum, WriteCondition } from '../metadata/types.ts';
import { eventStamp } from './event-stamp.ts';
import { versionIdFor } from './versioning.ts';
import { EventUnconfirmedError } from '../events/unconfirmed.ts';

/** If-None-Match / If-Match on a write; AWS supports only "*" for If-None-Match here. */
export function writeCondition(ctx: Ctx): WriteCondition | undefined {
  const inm = ctx.header('if-none-match');
  const im = ctx.header('if-match');
  if (inm === undefined && im === undefined) return undefined;
  if (inm !== undefined && inm.trim() !== '*') {
    throw new S3Error('NotImplemented', 'If-None-Match on a write supports only "*".');
  }
  const cond: WriteCondition = {};
  if (inm !== undefined) cond.ifNoneMatchStar = true;
  if (im !== undefined) cond.ifMatch = im.trim() === '*' ? '*' : `"${im.trim().replace(/^"|"$/g, '')}"`;
  return cond;
}

/** Fails early (before reading the body) when a write condition already does not hold. */
export function precheck(ctx: Ctx, bucket: string, key: string, cond: WriteCondition | undefined): void {
  if (!cond) return;
  const current = ctx.svc.metadata.getObject(bucket, key, false);
  if (cond.ifNoneMatchStar && current)
    throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-None-Match' });
  if (cond.ifMatch !== undefined) {
    if (!current) throw new S3Error('NoSuchKey', undefined, { Key: key });
    if (cond.ifMatch !== '*' && !etagMatches(cond.ifMatch, current.etag))
      throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-Match' });
  }
}

/** An object row stamped now; `fields` are what the handler decided. */
export function objectRowOf(fields: Omit<ObjectRow, 'lastModified'>): ObjectRow {
  return { ...fields, lastModified: new Date().toISOString() };
}

/**
 * Commits a durable blob (or inline bytes) as the object's current version and schedules
 * the replaced blob for removal; with `uploadId`, completes that multipart upload in the same
 * transaction. A condition that held at the start but not at commit means another write won
 * the race: 409 ConditionalRequestConflict, as AWS answers.
 */
export async function commitObject(
  ctx: Ctx,
  row: ObjectRow,
  cond: WriteCondition | undefined,
  uploadId?: string,
): Promise<void> {
  const { metadata, storage } = ctx.svc;
  const at = row.lastModified;
  const bucket = metadata.getBucket(row.bucket);
  row.versionId = versionIdFor(bucket);
  let files: string[] | null;
  try {
    files =
      uploadId === undefined
        ? [
            (
              await metadata.submit({
                type: 'object.put',
                object: objectRecord(row),
                cond,
                at,
                event: eventStamp(ctx, at),
              })
            ).replacedFileId,
          ].filter((f): f is string => f !== null)
        : await metadata.submit({
            type: 'upload.complete',
            uploadId,
            object: objectRecord(row),
            cond,
            at,
            event: eventStamp(ctx, at),
          });
  } catch (err) {
    // Sync event mode timed out after the commit: the blob is the object's now; only the
    // files the commit released go.
    if (err instanceof EventUnconfirmedError) {
      const released = err.result as { replacedFileId: string | null } | string[] | null;
      // null: the upload was gone, nothing committed, the assembled blob is ours to drop.
      if (released === null) ctx.svc.collect([row.fileId]);
      else if (Array.isArray(released)) ctx.svc.collect(released);
      else if (released.replacedFileId) ctx.svc.collect([released.replacedFileId]);
      throw err;
    }
    if (row.fileId) await storage.remove(row.fileId);
    // The bucket was deleted while the body streamed in (its row then fails the foreign key).
    if (!metadata.getBucket(row.bucket)) throw noSuchBucket(row.bucket);
    if (err instanceof PreconditionError) {
      if (err.reason === 'missing') throw new S3Error('NoSuchKey', undefined, { Key: row.key });
      throw new S3Error(
        'ConditionalRequestConflict',
        'A conflicting operation occurred. If using PutObject you can retry the request.',
      );
    }
    throw err;
  }
  if (files === null) {
    // The upload was aborted or completed meanwhile; the assembled blob is already queued.
    ctx.svc.collect([row.fileId]);
    throw new S3Error('NoSuchUpload', undefined, { UploadId: uploadId! });
  }
  ctx.svc.collect(files);
  // Set before the handler's writeHead, so every write answer carries it (a streamed
  // Complete has sent its head already; its version id is in the listing).
  if (bucket?.versioning && !ctx.res.headersSent) ctx.res.setHeader('x-amz-version-id', row.versionId ?? 'null');
}

/** x-amz-checksum-<algorithm> and x-amz-checksum-type for a stored checksum. */
export function checksumHeaders(checksum: StoredChecksum | null): Record<string, string> {
  if (!checksum) return {};
  return {
    [`x-amz-checksum-${checksum.algorithm.toLowerCase()}`]: checksum.value,
    'x-amz-checksum-type': checksum.type,
  };
}

/** The same, as CopyObjectResult / CompleteMultipartUploadResult elements. */
export function checksumElements(checksum: StoredChecksum | null): Record<string, string> {
  if (!checksum) return {};
  return { [`Checksum${checksum.algorithm}`]: checksum.value, ChecksumType: checksum.type };
}
