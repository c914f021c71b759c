// DeleteObject and DeleteObjects. The rows go in one transaction (with the files' removal
// recorded in gc_files), then the files are removed; a crash in between is finished on start.
import { S3Error } from './errors.ts';
import type { Ctx } from './context.ts';
import type { BucketEndpoint as B, ObjectEndpoint as O } from './endpoint.ts';
import { readXmlBody } from './body.ts';
import { child, children, childText, type XmlLimits, type XmlNode } from './xml.ts';
import { sendDocument } from './respond.ts';
import { eventStamp } from './event-stamp.ts';
import { afterCommit } from '../events/unconfirmed.ts';

export async function deleteObject(ctx: Ctx, e: O): Promise<void> {
  const { metadata } = ctx.svc;
  await afterCommit(
    metadata.submit({
      type: 'object.delete',
      bucket: e.bucket,
      key: e.key,
      at: new Date().toISOString(),
      event: eventStamp(ctx),
    }),
    (fileId) => fileId && ctx.svc.collect([fileId]),
  );
  ctx.res.writeHead(204);
  ctx.res.end();
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

export async function deleteObjects(ctx: Ctx, e: B): Promise<void> {
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
  for (const obj of objects) {
    const key = childText(obj, 'Key');
    if (key === undefined || key === '') throw new S3Error('MalformedXML');
    const versionId = child(obj, 'VersionId')?.text;
    if (Buffer.byteLength(key) > 1024) {
      errors.push({ Key: key, Code: 'KeyTooLongError', Message: 'Your key is too long' });
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
