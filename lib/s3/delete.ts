// DeleteObject and DeleteObjects. The rows go in one transaction (with the files' removal
// recorded in gc_files), then the files are removed; a crash in between is finished on start.
import { S3Error } from './errors.ts';
import { policyVerdict } from './policy-access.ts';
import { aclAllows } from '../auth/authorize.ts';
import { effectiveAcl } from './ownership.ts';
import type { Ctx } from './context.ts';
import type { BucketEndpoint as B, ObjectEndpoint as O } from './endpoint.ts';
import { readXmlBody } from './body.ts';
import { child, children, childText, type XmlElement, type XmlLimits, type XmlNode } from './xml.ts';
import { sendDocument } from './respond.ts';
import { eventStamp } from './event-stamp.ts';
import type { Grants } from './access.ts';
import { versionIdFor } from './versioning.ts';
import { mayBypassGovernance } from './object-lock.ts';
import { LockedError, PreconditionError } from '../metadata/errors.ts';
import type { BucketRow, DeleteCondition } from '../metadata/types.ts';
import { ANONYMOUS_OWNER } from './put.ts';
import { afterCommit } from '../events/unconfirmed.ts';
import type { WriteTasks } from '../events/write-tasks.ts';
import type { CommandOf, EventStamp } from '../metadata/commands.ts';

const ANONYMOUS = { id: ANONYMOUS_OWNER.id, displayName: ANONYMOUS_OWNER.display_name };

export async function deleteObject(ctx: Ctx, e: O, { bucket }: Grants['bucket']): Promise<void> {
  const cond = deleteCondition(
    ctx.header('if-match'),
    ctx.header('x-amz-if-match-last-modified-time'),
    ctx.header('x-amz-if-match-size'),
  );
  if (ctx.svc.tasks && e.versionId === null) return queueDelete(ctx, ctx.svc.tasks, bucket, e.key, cond);
  const r = await deleteOne(ctx, bucket, e.key, e.versionId, cond);
  const headers: Record<string, string> = {};
  if (r.versionId !== null) headers['x-amz-version-id'] = r.versionId;
  if (r.deleteMarker) headers['x-amz-delete-marker'] = 'true';
  ctx.res.writeHead(204, headers);
  ctx.res.end();
}

/**
 * The command of a delete without a version id: the row goes on a bucket never versioned,
 * otherwise a delete marker becomes the latest version.
 */
function removal(
  ctx: Ctx,
  bucket: BucketRow,
  key: string,
  cond: DeleteCondition | undefined,
  at: string,
  event: EventStamp | undefined,
): CommandOf<'object.delete' | 'marker.put'> {
  if (!bucket.versioning) return { type: 'object.delete', bucket: bucket.name, key, at, cond, event };
  const owner = ctx.principal ? { id: ctx.principal.ownerId, displayName: ctx.principal.displayName } : ANONYMOUS;
  return { type: 'marker.put', bucket: bucket.name, key, markerId: versionIdFor(bucket), owner, at, cond, event };
}

/**
 * Async consistency: the delete is queued as a task and answered 202 with its id (a delete
 * with a version id, or DeleteObjects, stays write-through: Object Lock decides those).
 */
async function queueDelete(
  ctx: Ctx,
  tasks: WriteTasks,
  bucket: BucketRow,
  key: string,
  cond: DeleteCondition | undefined,
): Promise<void> {
  const release = tasks.admit();
  try {
    const at = new Date().toISOString();
    const cmd = removal(ctx, bucket, key, cond, at, eventStamp(ctx, at));
    const headers: Record<string, string> = { 'x-bleepstore-task-id': await tasks.enqueue(cmd, null) };
    if (cmd.type === 'marker.put') {
      headers['x-amz-version-id'] = cmd.markerId ?? 'null';
      headers['x-amz-delete-marker'] = 'true';
    }
    ctx.res.writeHead(202, headers);
    ctx.res.end();
  } finally {
    release();
  }
}

interface DeleteOutcome {
  /** The version removed or the marker added; null on a bucket never versioned. */
  versionId: string | null;
  deleteMarker: boolean;
}

/**
 * The headers (or DeleteObjects elements) of a conditional delete; undefined when none.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html
 */
function deleteCondition(
  ifMatch: string | undefined,
  lastModified: string | undefined,
  size: string | undefined,
): DeleteCondition | undefined {
  if (ifMatch === undefined && lastModified === undefined && size === undefined) return undefined;
  const cond: DeleteCondition = {};
  if (ifMatch !== undefined) cond.ifMatch = ifMatch.trim() === '*' ? '*' : `"${ifMatch.trim().replace(/^"|"$/g, '')}"`;
  if (lastModified !== undefined) {
    const t = Date.parse(lastModified);
    if (Number.isNaN(t)) throw new S3Error('InvalidArgument', 'Invalid x-amz-if-match-last-modified-time value.');
    cond.lastModifiedSeconds = Math.floor(t / 1000);
  }
  if (size !== undefined) {
    if (!/^\d{1,15}$/.test(size.trim())) throw new S3Error('InvalidArgument', 'Invalid x-amz-if-match-size value.');
    cond.size = Number(size.trim());
  }
  return cond;
}

/**
 * One delete. On a bucket never versioned the row goes; on a versioned bucket, with a version
 * id that version goes for good (unless Object Lock protects it: AccessDenied), without one a
 * delete marker becomes the latest version (id "null" when versioning is suspended).
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeletingObjectVersions.html
 */
async function deleteOne(
  ctx: Ctx,
  bucket: BucketRow,
  key: string,
  versionId: string | null,
  cond: DeleteCondition | undefined,
): Promise<DeleteOutcome> {
  const { metadata } = ctx.svc;
  const at = new Date().toISOString();
  const event = eventStamp(ctx);
  try {
    if (!bucket.versioning && versionId !== null && versionId !== 'null')
      throw new S3Error('NoSuchVersion', 'The specified version does not exist.', { Key: key, VersionId: versionId });
    if (!bucket.versioning || versionId === null) {
      const cmd = removal(ctx, bucket, key, cond, at, event);
      if (cmd.type === 'object.delete') {
        await afterCommit(metadata.submit(cmd), (fileId) => fileId && ctx.svc.collect([fileId]));
        return { versionId: null, deleteMarker: false };
      }
      await afterCommit(metadata.submit(cmd), (r) => r.removed && ctx.svc.collect([r.removed]));
      return { versionId: cmd.markerId ?? 'null', deleteMarker: true };
    }
    const bypassGovernance = mayBypassGovernance(ctx, bucket, key);
    const r = await afterCommit(
      metadata.submit({
        type: 'version.delete',
        bucket: bucket.name,
        key,
        versionId,
        bypassGovernance,
        at,
        cond,
        event,
      }),
      (r) => r.removed && ctx.svc.collect([r.removed]),
    );
    return { versionId, deleteMarker: r.deleteMarker };
  } catch (err) {
    if (err instanceof LockedError) throw new S3Error('AccessDenied', err.message);
    if (err instanceof PreconditionError)
      throw err.reason === 'missing'
        ? new S3Error('NoSuchKey', undefined, { Key: key })
        : new S3Error('PreconditionFailed', undefined, { Condition: 'If-Match' });
    throw err;
  }
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html: at most 1000 keys.
const MAX_KEYS = 1000;
const LEAF = { names: [] };
const DELETE_SCHEMA: XmlLimits = {
  root: 'Delete',
  maxElements: 2 + MAX_KEYS * 6,
  schema: {
    Delete: { names: ['Object', 'Quiet'], max: MAX_KEYS + 1 },
    Object: { names: ['Key', 'VersionId', 'ETag', 'LastModifiedTime', 'Size'], max: 5, required: ['Key'] },
    Key: LEAF,
    VersionId: LEAF,
    ETag: LEAF,
    LastModifiedTime: LEAF,
    Size: LEAF,
    Quiet: LEAF,
  },
};

export async function deleteObjects(ctx: Ctx, e: B, { bucket }: Grants['bucket']): Promise<void> {
  // Bucket WRITE by ACL, checked before the body is read; with a bucket policy, each key is
  // decided on its own (keyRefused), so a policy can grant or deny keys one by one.
  const aclWrite = aclAllows(effectiveAcl(bucket, bucket.acl), ctx.principal, 'WRITE');
  if (!aclWrite && !bucket.policy) throw new S3Error('AccessDenied');
  // AWS requires an integrity header on this request: Content-MD5 or any x-amz-checksum-*.
  const hasIntegrity =
    ctx.header('content-md5') !== undefined ||
    Object.keys(ctx.req.headers).some((h) => h.startsWith('x-amz-checksum-') && h !== 'x-amz-checksum-type') ||
    ctx.header('x-amz-sdk-checksum-algorithm') !== undefined;
  if (!hasIntegrity) throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5');

  const root = await readXmlBody(ctx, 2 * 1024 * 1024, 'MalformedXML', DELETE_SCHEMA);
  if (!root) throw new S3Error('MissingRequestBodyError');
  if (root.name !== 'Delete') throw new S3Error('MalformedXML');
  const objects = children(root, 'Object');
  if (objects.length === 0 || objects.length > MAX_KEYS) throw new S3Error('MalformedXML');
  const quiet = childText(root, 'Quiet')?.trim().toLowerCase() === 'true';

  const deleted: XmlNode[] = [];
  const errors: XmlNode[] = [];
  const toDelete: string[] = [];
  const conditional = objects.some((o) => ['ETag', 'LastModifiedTime', 'Size'].some((n) => child(o, n)));
  if (bucket.versioning || conditional) return deleteEach(ctx, bucket, objects, quiet, aclWrite);
  for (const obj of objects) {
    const key = childText(obj, 'Key');
    if (key === undefined || key === '') throw new S3Error('MalformedXML');
    const versionId = child(obj, 'VersionId')?.text;
    if (Buffer.byteLength(key) > 1024) {
      errors.push({ Key: key, Code: 'KeyTooLongError', Message: 'Your key is too long' });
    } else if (keyRefused(ctx, bucket, key, versionId ?? null, aclWrite)) {
      errors.push({ Key: key, Code: 'AccessDenied', Message: 'Access Denied' });
    } else if (versionId !== undefined && versionId !== 'null') {
      errors.push({
        Key: key,
        VersionId: versionId,
        Code: 'NoSuchVersion',
        Message: 'The specified version does not exist.',
      });
    } else {
      toDelete.push(key);
      if (!quiet) deleted.push({ Key: key, VersionId: versionId ?? null });
    }
  }
  const { metadata } = ctx.svc;
  await afterCommit(
    metadata.submit({
      type: 'objects.delete',
      bucket: e.bucket,
      keys: toDelete,
      at: new Date().toISOString(),
      event: eventStamp(ctx),
    }),
    (fileIds) => ctx.svc.collect(fileIds),
  );
  sendDocument(ctx.res, 'DeleteResult', { Deleted: deleted, Error: errors });
}

/** Each key of DeleteObjects is one s3:DeleteObject / s3:DeleteObjectVersion
 *  (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html): the bucket policy
 *  decides it when it speaks, else the bucket ACL's WRITE. */
function keyRefused(ctx: Ctx, bucket: BucketRow, key: string, versionId: string | null, aclWrite: boolean): boolean {
  const v = policyVerdict(ctx, bucket, versionId === null ? 's3:DeleteObject' : 's3:DeleteObjectVersion', key);
  return v === 'deny' || (v === 'none' && !aclWrite);
}

/**
 * DeleteObjects on a versioned bucket, or with conditions: each entry as its own DeleteObject,
 * committed together (one group commit).
 */
async function deleteEach(
  ctx: Ctx,
  bucket: BucketRow,
  objects: XmlElement[],
  quiet: boolean,
  aclWrite: boolean,
): Promise<void> {
  const entries = objects.map((obj) => {
    const key = childText(obj, 'Key');
    if (key === undefined || key === '') throw new S3Error('MalformedXML');
    const cond = deleteCondition(childText(obj, 'ETag'), childText(obj, 'LastModifiedTime'), childText(obj, 'Size'));
    return { key, versionId: child(obj, 'VersionId')?.text ?? null, cond };
  });
  const outcomes = await Promise.allSettled(
    entries.map(({ key, versionId, cond }) =>
      Buffer.byteLength(key) > 1024
        ? Promise.reject(new S3Error('KeyTooLongError', 'Your key is too long'))
        : keyRefused(ctx, bucket, key, versionId, aclWrite)
          ? Promise.reject(new S3Error('AccessDenied'))
          : deleteOne(ctx, bucket, key, versionId, cond),
    ),
  );
  const deleted: XmlNode[] = [];
  const errors: XmlNode[] = [];
  outcomes.forEach((o, i) => {
    const { key, versionId } = entries[i]!;
    if (o.status === 'fulfilled') {
      if (quiet) return;
      const marker = o.value.deleteMarker;
      deleted.push({
        Key: key,
        VersionId: versionId,
        DeleteMarker: marker ? true : null,
        DeleteMarkerVersionId: marker ? o.value.versionId : null,
      });
      return;
    }
    const err = o.reason instanceof S3Error ? o.reason : new S3Error('InternalError');
    if (!(o.reason instanceof S3Error))
      ctx.svc.log.error('delete failed', { request_id: ctx.requestId, error: o.reason });
    errors.push({ Key: key, VersionId: versionId, Code: err.code, Message: err.message });
  });
  sendDocument(ctx.res, 'DeleteResult', { Deleted: deleted, Error: errors });
}
