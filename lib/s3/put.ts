// PutObject: stream the body to a temp file while hashing, make it durable, commit the
// row (with If-None-Match / If-Match decided inside the transaction), then answer.
// Order per DESIGN.md: temp → fsync → rename → fsync dir → SQLite commit → respond.
import type { Ctx } from './context.ts';
import type { ObjectEndpoint as O } from './endpoint.ts';
import { ownerOf, type Grants } from './access.ts';
import { ANONYMOUS_ID } from '../auth/authorize.ts';
import type { Owner } from './acl.ts';
import { newObjectAcl } from './ownership.ts';
import { contentHeadersFrom, storageClassFrom, userMetadataFrom } from './object-meta.ts';
import { receiveObject } from './body.ts';
import { tagsFromHeader } from './tagging.ts';
import { lockFromHeaders, requireIntegrity } from './object-lock.ts';
import { checksumHeaders, commitObject, objectRowOf, precheck, writeCondition } from './object-write.ts';

// The canonical id AWS uses for objects written anonymously.
export const ANONYMOUS_OWNER: Owner = { id: ANONYMOUS_ID, display_name: 'anonymous' };

export async function putObject(ctx: Ctx, e: O, { bucket }: Grants['bucket']): Promise<void> {
  const { owner, acl } = newObjectAcl(bucket, ctx.principal ? ownerOf(ctx.principal) : ANONYMOUS_OWNER, ctx.header);
  const content = contentHeadersFrom(ctx.header);
  const userMetadata = userMetadataFrom(ctx.req.headers);
  const storageClass = storageClassFrom(ctx.header);
  const cond = writeCondition(ctx);
  const controls = { tags: tagsFromHeader(ctx) ?? null, ...lockFromHeaders(ctx.header, bucket) };
  requireIntegrity(ctx.header, controls);
  precheck(ctx, e.bucket, e.key, cond);

  const body = await receiveObject(ctx, undefined, undefined, true);
  const fileId = body.fileId;
  const row = objectRowOf({
    bucket: e.bucket,
    key: e.key,
    fileId,
    size: body.size,
    etag: `"${body.md5Hex}"`,
    ...content,
    storageClass,
    acl,
    userMetadata,
    checksum: body.checksum
      ? { algorithm: body.checksum.algorithm, value: body.checksum.base64, type: 'FULL_OBJECT' }
      : null,
    partsCount: null,
    inline: body.inline,
    ownerId: owner.id,
    ownerDisplay: owner.display_name,
    ...controls,
  });
  await commitObject(ctx, row, cond);
  ctx.res.writeHead(200, { ETag: row.etag, ...checksumHeaders(row.checksum), 'Content-Length': '0' });
  ctx.res.end();
}
