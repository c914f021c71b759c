// CopyObject: a server-side copy into a new file (hashed on the way), committed like a PUT.
// Metadata follows x-amz-metadata-directive (COPY by default, or REPLACE).
import { createHash } from 'node:crypto';
import { S3Error } from './errors.ts';
import type { Ctx } from './context.ts';
import type { ObjectEndpoint as O } from './endpoint.ts';
import { loadBucket, loadObjectFor, ownerOf, type Grants } from './access.ts';
import { newObjectAcl } from './ownership.ts';
import { checkCopySource } from './conditional.ts';
import { copySourceVersionHeader, parseCopySource, retryOnSourceOverwrite } from './copy-source.ts';
import { contentHeadersFrom, storageClassFrom, userMetadataFrom } from './object-meta.ts';
import { ANONYMOUS_OWNER } from './put.ts';
import { checksumElements, commitObject, objectRowOf, precheck, writeCondition } from './object-write.ts';
import { sendDocument } from './respond.ts';
import { tagsFromHeader } from './tagging.ts';
import { lockFromHeaders } from './object-lock.ts';
import { MAX_PUT_SIZE } from './body.ts';
import { createChecksummer, parseChecksumAlgorithm } from '../body/checksums.ts';
import type { ChecksumAlgorithm, StoredChecksum } from '../metadata/types.ts';

export function copyObject(ctx: Ctx, e: O, grants: Grants['bucket']): Promise<void> {
  return retryOnSourceOverwrite(() => copyOnce(ctx, e, grants));
}

async function copyOnce(ctx: Ctx, e: O, { bucket: dstBucket }: Grants['bucket']): Promise<void> {
  const src = parseCopySource(ctx.header('x-amz-copy-source')!);
  const srcBucket = loadBucket(ctx, src.bucket, 'exists');
  const source = loadObjectFor(ctx, srcBucket, src.key, 'READ', true, src.versionId);
  checkCopySource(ctx.header, source.etag, source.lastModified);
  if (source.size > MAX_PUT_SIZE) {
    throw new S3Error(
      'InvalidRequest',
      'The specified copy source is larger than the maximum allowable size for a copy source: 5368709120',
    );
  }

  const directive = (ctx.header('x-amz-metadata-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw new S3Error('InvalidArgument', 'Unknown metadata directive.', {
      ArgumentName: 'x-amz-metadata-directive',
      ArgumentValue: directive,
    });
  }
  const replace = directive === 'REPLACE';
  const storageClass =
    ctx.header('x-amz-storage-class') !== undefined ? storageClassFrom(ctx.header) : source.storageClass;
  const requestedRaw = ctx.header('x-amz-checksum-algorithm');
  const requested = requestedRaw === undefined ? undefined : parseChecksumAlgorithm(requestedRaw);
  if (requestedRaw !== undefined && requested === undefined) {
    throw new S3Error('InvalidRequest', 'Checksum algorithm provided is unsupported.');
  }
  const sameObject = src.bucket === e.bucket && src.key === e.key;
  if (sameObject && !replace && storageClass === source.storageClass && requested === undefined) {
    throw new S3Error(
      'InvalidRequest',
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  const cond = writeCondition(ctx);
  const tagDirective = (ctx.header('x-amz-tagging-directive') ?? 'COPY').toUpperCase();
  if (tagDirective !== 'COPY' && tagDirective !== 'REPLACE')
    throw new S3Error('InvalidArgument', 'Unknown tagging directive.', {
      ArgumentName: 'x-amz-tagging-directive',
      ArgumentValue: tagDirective,
    });
  const controls = {
    tags: tagDirective === 'REPLACE' ? (tagsFromHeader(ctx) ?? null) : (source.tags ?? null),
    ...lockFromHeaders(ctx.header, dstBucket),
  };
  precheck(ctx, e.bucket, e.key, cond);

  const { owner, acl } = newObjectAcl(dstBucket, ctx.principal ? ownerOf(ctx.principal) : ANONYMOUS_OWNER, ctx.header);
  // Keep the source's full-object checksum algorithm unless another one is asked for.
  const algorithm: ChecksumAlgorithm | undefined = requested ?? source.checksum?.algorithm;
  // The source's own digests carry over when its ETag is a plain MD5 and the checksum does
  // not change: then the copy needs no byte read here (a gateway copies server-side).
  const reuse =
    !source.etag.includes('-') &&
    (!algorithm || (source.checksum?.type === 'FULL_OBJECT' && source.checksum.algorithm === algorithm));
  const md5 = reuse ? undefined : createHash('md5');
  const sum = !reuse && algorithm ? createChecksummer(algorithm) : undefined;
  const { storage } = ctx.svc;
  const observe = reuse
    ? undefined
    : (chunk: Buffer) => {
        md5!.update(chunk);
        sum?.update(chunk);
      };
  await ctx.svc.disk.admit(source.size);
  let fileId = '';
  if (source.inline) observe?.(source.inline);
  else fileId = await storage.concat([{ fileId: source.fileId }], observe);
  const etag = md5 ? `"${md5.digest('hex')}"` : source.etag;
  const checksum: StoredChecksum | null = !algorithm
    ? null
    : sum
      ? { algorithm, value: sum.digest().toString('base64'), type: 'FULL_OBJECT' }
      : source.checksum;
  const row = objectRowOf({
    ...(replace
      ? contentHeadersFrom(ctx.header)
      : {
          contentType: source.contentType,
          contentEncoding: source.contentEncoding,
          contentLanguage: source.contentLanguage,
          contentDisposition: source.contentDisposition,
          cacheControl: source.cacheControl,
          expires: source.expires,
        }),
    bucket: e.bucket,
    key: e.key,
    fileId,
    size: source.size,
    etag,
    storageClass,
    acl,
    userMetadata: replace ? userMetadataFrom(ctx.req.headers) : { ...source.userMetadata },
    checksum,
    partsCount: null,
    inline: source.inline,
    ownerId: owner.id,
    ownerDisplay: owner.display_name,
    ...controls,
  });
  await commitObject(ctx, row, cond);
  sendDocument(
    ctx.res,
    'CopyObjectResult',
    { ETag: row.etag, LastModified: row.lastModified, ...checksumElements(row.checksum) },
    copySourceVersionHeader(srcBucket, source),
  );
}
