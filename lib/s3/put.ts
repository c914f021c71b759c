// PutObject: stream the body to a temp file while hashing, make it durable, commit the
// row (with If-None-Match / If-Match decided inside the transaction), then answer.
// Order per DESIGN.md: temp → fsync → rename → fsync dir → SQLite commit → respond.
import { S3Error } from './errors.ts';
import type { Ctx } from './context.ts';
import type { ObjectEndpoint as O } from './endpoint.ts';
import { ownerOf, type Grants } from './access.ts';
import { ANONYMOUS_ID } from '../auth/authorize.ts';
import { aclFromHeaders, cannedAcl, type Owner } from './acl.ts';
import { contentHeadersFrom, storageClassFrom, userMetadataFrom } from './object-meta.ts';
import { receiveObject } from './body.ts';
import { etagMatches } from './conditional.ts';
import { PreconditionError } from '../metadata/sqlite.ts';
import type { ObjectRow, WriteCondition } from '../metadata/types.ts';

// The canonical id AWS uses for objects written anonymously.
export const ANONYMOUS_OWNER: Owner = { id: ANONYMOUS_ID, display_name: 'anonymous' };

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
  const current = ctx.svc.metadata.getObject(bucket, key);
  if (cond.ifNoneMatchStar && current) throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-None-Match' });
  if (cond.ifMatch !== undefined) {
    if (!current) throw new S3Error('NoSuchKey', undefined, { Key: key });
    if (cond.ifMatch !== '*' && !etagMatches(cond.ifMatch, current.etag)) throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-Match' });
  }
}

/**
 * Commits a durable file as the object's current version and schedules the replaced file
 * for removal. A condition that held at the start but not at commit means another write
 * won the race: 409 ConditionalRequestConflict, as AWS answers.
 */
export async function commitObject(ctx: Ctx, row: ObjectRow, cond: WriteCondition | undefined): Promise<void> {
  const { metadata, storage } = ctx.svc;
  let replaced: string | null;
  try {
    replaced = (await metadata.batch(() => metadata.putObject(row, cond))).replacedFileId;
  } catch (err) {
    if (row.fileId) await storage.remove(row.fileId);
    if (err instanceof PreconditionError) {
      if (err.reason === 'missing') throw new S3Error('NoSuchKey', undefined, { Key: row.key });
      throw new S3Error('ConditionalRequestConflict', 'A conflicting operation occurred. If using PutObject you can retry the request.');
    }
    throw err;
  }
  if (replaced) ctx.svc.collect([replaced]);
}

export async function putObject(ctx: Ctx, e: O, { bucket }: Grants['bucket']): Promise<void> {
  const owner = ctx.principal ? ownerOf(ctx.principal) : ANONYMOUS_OWNER;
  const bucketOwner = { id: bucket.ownerId, display_name: bucket.ownerDisplay };
  const content = contentHeadersFrom(ctx.header);
  const userMetadata = userMetadataFrom(ctx.req.headers);
  const storageClass = storageClassFrom(ctx.header);
  const acl = aclFromHeaders(ctx.header, owner, bucketOwner) ?? cannedAcl('private', owner);
  const cond = writeCondition(ctx);
  precheck(ctx, e.bucket, e.key, cond);

  const body = await receiveObject(ctx, undefined, undefined, true);
  const fileId = body.fileId;
  const row: ObjectRow = {
    bucket: e.bucket, key: e.key, fileId, size: body.size, etag: `"${body.md5Hex}"`, ...content, storageClass, acl,
    userMetadata, lastModified: new Date().toISOString(),
    checksum: body.checksum ? { algorithm: body.checksum.algorithm, value: body.checksum.base64, type: 'FULL_OBJECT' } : null,
    partsCount: null, inline: body.inline, ownerId: owner.id, ownerDisplay: owner.display_name,
  };
  await commitObject(ctx, row, cond);

  const headers: Record<string, string> = { ETag: row.etag };
  if (row.checksum) {
    headers[`x-amz-checksum-${row.checksum.algorithm.toLowerCase()}`] = row.checksum.value;
    headers['x-amz-checksum-type'] = 'FULL_OBJECT';
  }
  ctx.res.writeHead(200, { ...headers, 'Content-Length': '0' });
  ctx.res.end();
}
