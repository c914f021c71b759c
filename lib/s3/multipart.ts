// Multipart uploads: Create, UploadPart, UploadPartCopy, Abort, ListParts and
// ListMultipartUploads. (Complete lives in multipart-complete.ts.)
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html
import { createHash, randomBytes } from 'node:crypto';
import { S3Error } from './errors.ts';
import type { Ctx } from './context.ts';
import type { BucketEndpoint as B, ObjectEndpoint as O, PartEndpoint as P, UploadEndpoint as U } from './endpoint.ts';
import { loadBucket, loadObjectFor, ownerOf, type Grants } from './access.ts';
import { newObjectAcl } from './ownership.ts';
import { contentHeadersFrom, storageClassFrom, userMetadataFrom } from './object-meta.ts';
import { ANONYMOUS_OWNER } from './put.ts';
import { receiveObject, MAX_PUT_SIZE } from './body.ts';
import { sendDocument } from './respond.ts';
import { tagsFromHeader } from './tagging.ts';
import { lockFromHeaders, requireIntegrity } from './object-lock.ts';
import { copySourceVersionHeader, parseCopySource, retryOnSourceOverwrite } from './copy-source.ts';
import { checkCopySource } from './conditional.ts';
import { createChecksummer, parseChecksumAlgorithm } from '../body/checksums.ts';
import type { UploadRow } from '../metadata/uploads.ts';
import type { ChecksumAlgorithm } from '../metadata/types.ts';
import type { XmlNode } from './xml.ts';
import { encodingOf, maxOf } from './list.ts';

/**
 * x-amz-checksum-algorithm and x-amz-checksum-type at Create. CRC64NVME is full-object
 * only, SHA-1/SHA-256 composite only; CRC32/CRC32C default to composite.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html#ChecksumTypes
 */
function checksumChoice(ctx: Ctx): Pick<UploadRow, 'checksumAlgorithm' | 'checksumType'> {
  const rawAlg = ctx.header('x-amz-checksum-algorithm');
  const rawType = ctx.header('x-amz-checksum-type')?.toUpperCase();
  if (rawAlg === undefined) {
    if (rawType !== undefined)
      throw new S3Error(
        'InvalidRequest',
        'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.',
      );
    return { checksumAlgorithm: null, checksumType: null };
  }
  const algorithm = parseChecksumAlgorithm(rawAlg);
  if (!algorithm) throw new S3Error('InvalidRequest', 'Checksum algorithm provided is unsupported.');
  if (rawType !== undefined && rawType !== 'COMPOSITE' && rawType !== 'FULL_OBJECT') {
    throw new S3Error('InvalidRequest', 'Value for x-amz-checksum-type header is invalid.');
  }
  const type = (rawType ?? (algorithm === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE')) as 'COMPOSITE' | 'FULL_OBJECT';
  if (
    (type === 'FULL_OBJECT' && (algorithm === 'SHA1' || algorithm === 'SHA256')) ||
    (type === 'COMPOSITE' && algorithm === 'CRC64NVME')
  ) {
    throw new S3Error(
      'InvalidRequest',
      `The ${type} checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`,
    );
  }
  return { checksumAlgorithm: algorithm, checksumType: type };
}

function newUploadId(): string {
  return randomBytes(24).toString('base64url');
}

export async function createMultipartUpload(ctx: Ctx, e: O, { bucket }: Grants['bucket']): Promise<void> {
  const { owner, acl } = newObjectAcl(bucket, ctx.principal ? ownerOf(ctx.principal) : ANONYMOUS_OWNER, ctx.header);
  const checksum = checksumChoice(ctx);
  const upload: UploadRow = {
    uploadId: newUploadId(),
    bucket: e.bucket,
    key: e.key,
    ...contentHeadersFrom(ctx.header),
    storageClass: storageClassFrom(ctx.header),
    acl,
    userMetadata: userMetadataFrom(ctx.req.headers),
    ownerId: owner.id,
    ownerDisplay: owner.display_name,
    initiatedAt: new Date().toISOString(),
    ...checksum,
    tags: tagsFromHeader(ctx) ?? null,
    ...lockFromHeaders(ctx.header, bucket),
  };
  await ctx.svc.metadata.submit({ type: 'upload.create', upload });
  const headers: Record<string, string> = {};
  if (checksum.checksumAlgorithm) {
    headers['x-amz-checksum-algorithm'] = checksum.checksumAlgorithm;
    headers['x-amz-checksum-type'] = checksum.checksumType!;
  }
  sendDocument(
    ctx.res,
    'InitiateMultipartUploadResult',
    { Bucket: e.bucket, Key: e.key, UploadId: upload.uploadId },
    headers,
  );
}

async function storePart(
  ctx: Ctx,
  e: P,
  fileId: string,
  size: number,
  md5Hex: string,
  checksum: string | null,
): Promise<string> {
  const etag = `"${md5Hex}"`;
  const part = {
    partNumber: e.partNumber,
    fileId,
    size,
    etag,
    lastModified: new Date().toISOString(),
    checksumValue: checksum,
  };
  const { stored, remove } = await ctx.svc.metadata.submit({
    type: 'upload.part',
    uploadId: e.uploadId,
    part,
    at: part.lastModified,
  });
  ctx.svc.collect(remove);
  if (!stored) throw new S3Error('NoSuchUpload', undefined, { UploadId: e.uploadId });
  return etag;
}

export async function uploadPart(ctx: Ctx, e: P, { upload }: Grants['upload']): Promise<void> {
  // The object this upload makes will be locked (its own headers or the bucket's default
  // retention, fixed at CreateMultipartUpload): each part needs an integrity header, as a
  // locked PutObject does. Checked before the body is read.
  requireIntegrity(ctx.header, { retention: upload.retention ?? null, legalHold: upload.legalHold ?? false });
  const body = await receiveObject(ctx, MAX_PUT_SIZE, upload.checksumAlgorithm ?? undefined);
  if (upload.checksumAlgorithm && body.checksum && body.checksum.algorithm !== upload.checksumAlgorithm) {
    ctx.svc.collect([body.fileId]);
    throw new S3Error(
      'InvalidRequest',
      `Checksum Type mismatch occurred, expected checksum Type: ${upload.checksumAlgorithm.toLowerCase()}, actual checksum Type: ${body.checksum.algorithm.toLowerCase()}`,
    );
  }
  const checksum = body.checksum?.base64 ?? null;
  const etag = await storePart(ctx, e, body.fileId, body.size, body.md5Hex, checksum);
  const headers: Record<string, string> = { ETag: etag, 'Content-Length': '0' };
  if (body.checksum) headers[`x-amz-checksum-${body.checksum.algorithm.toLowerCase()}`] = body.checksum.base64;
  ctx.res.writeHead(200, headers);
  ctx.res.end();
}

function copyRange(raw: string | undefined, size: number): { start: number; end: number } | undefined {
  if (raw === undefined) return undefined;
  const m = /^bytes=(\d+)-(\d+)$/.exec(raw.trim());
  if (!m || Number(m[1]) > Number(m[2])) {
    throw new S3Error('InvalidArgument', `Range specified is not valid for source object of size: ${size}`, {
      ArgumentName: 'x-amz-copy-source-range',
      ArgumentValue: raw,
    });
  }
  // A well-formed range that reaches past the source is unsatisfiable (416), as for GetObject.
  // https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html
  if (Number(m[2]) >= size) {
    throw new S3Error('InvalidRange', undefined, { RangeRequested: raw.trim(), ActualObjectSize: String(size) });
  }
  return { start: Number(m[1]), end: Number(m[2]) };
}

export function uploadPartCopy(ctx: Ctx, e: P, grant: Grants['upload']): Promise<void> {
  return retryOnSourceOverwrite(() => uploadPartCopyOnce(ctx, e, grant));
}

async function uploadPartCopyOnce(ctx: Ctx, e: P, { upload }: Grants['upload']): Promise<void> {
  const src = parseCopySource(ctx.header('x-amz-copy-source')!);
  const srcBucket = loadBucket(ctx, src.bucket, 'exists');
  const source = loadObjectFor(ctx, srcBucket, src.key, 'READ', true, src.versionId);
  checkCopySource(ctx.header, source.etag, source.lastModified);
  const range = copyRange(ctx.header('x-amz-copy-source-range'), source.size);
  const length = range ? range.end - range.start + 1 : source.size;
  if (length > MAX_PUT_SIZE)
    throw new S3Error(
      'InvalidRequest',
      'The specified copy source is larger than the maximum allowable size for a copy source: 5368709120',
    );
  await ctx.svc.disk.admit(length);
  const md5 = createHash('md5');
  const sum = upload.checksumAlgorithm ? createChecksummer(upload.checksumAlgorithm) : undefined;
  const observe = (chunk: Buffer) => {
    md5.update(chunk);
    sum?.update(chunk);
  };
  const fileId = source.inline
    ? await blobFromBuffer(ctx, range ? source.inline.subarray(range.start, range.end + 1) : source.inline, observe)
    : await ctx.svc.storage.concat([{ fileId: source.fileId, range }], observe);
  const checksum = sum ? sum.digest().toString('base64') : null;
  const etag = await storePart(ctx, e, fileId, length, md5.digest('hex'), checksum);
  const result: XmlNode = { ETag: etag, LastModified: new Date().toISOString() };
  if (checksum && upload.checksumAlgorithm) result[`Checksum${upload.checksumAlgorithm}`] = checksum;
  sendDocument(ctx.res, 'CopyPartResult', result, copySourceVersionHeader(srcBucket, source));
}

/** A new blob holding `data` (an inline object's bytes copied into a part). */
async function blobFromBuffer(ctx: Ctx, data: Buffer, observe: (chunk: Buffer) => void): Promise<string> {
  const staged = await ctx.svc.storage.stage();
  try {
    observe(data);
    staged.push(data);
    await staged.finish();
  } catch (err) {
    await staged.discard();
    throw err;
  }
  return staged.commit();
}

export async function abortMultipartUpload(ctx: Ctx, e: U): Promise<void> {
  const files = await ctx.svc.metadata.submit({
    type: 'upload.abort',
    uploadId: e.uploadId,
    at: new Date().toISOString(),
  });
  if (files === null) throw new S3Error('NoSuchUpload', undefined, { UploadId: e.uploadId });
  ctx.svc.collect(files);
  ctx.res.writeHead(204);
  ctx.res.end();
}

function intParam(q: URLSearchParams, name: string, dflt: number, max: number): number {
  const raw = q.get(name);
  if (raw === null || raw === '') return dflt;
  if (!/^\d+$/.test(raw))
    throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, {
      ArgumentName: name,
      ArgumentValue: raw,
    });
  return Math.min(Number(raw), max);
}

function checksumField(algorithm: ChecksumAlgorithm | null): string | null {
  return algorithm ? `Checksum${algorithm}` : null;
}

export function listParts(ctx: Ctx, e: U, { upload }: Grants['upload']): void {
  const max = intParam(e.query, 'max-parts', 1000, 1000);
  const marker = intParam(e.query, 'part-number-marker', 0, 10000);
  const parts = ctx.svc.uploads.parts(e.uploadId, marker, max + 1);
  const truncated = parts.length > max;
  const page = parts.slice(0, max);
  const field = checksumField(upload.checksumAlgorithm);
  sendDocument(ctx.res, 'ListPartsResult', {
    Bucket: e.bucket,
    Key: e.key,
    UploadId: e.uploadId,
    PartNumberMarker: marker,
    NextPartNumberMarker: page.length ? page[page.length - 1]!.partNumber : marker,
    MaxParts: max,
    IsTruncated: truncated,
    Part: page.map((p) => {
      const node: XmlNode = { PartNumber: p.partNumber, LastModified: p.lastModified, ETag: p.etag, Size: p.size };
      if (field && p.checksumValue) node[field] = p.checksumValue;
      return node;
    }),
    Initiator: { ID: upload.ownerId, DisplayName: upload.ownerDisplay },
    Owner: { ID: upload.ownerId, DisplayName: upload.ownerDisplay },
    StorageClass: upload.storageClass,
    ChecksumAlgorithm: upload.checksumAlgorithm,
    ChecksumType: upload.checksumType,
  });
}

export function listMultipartUploads(ctx: Ctx, e: B): void {
  const q = e.query;
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const max = maxOf(q, 'max-uploads');
  const keyMarker = q.get('key-marker') || null;
  const uploadIdMarker = keyMarker !== null ? q.get('upload-id-marker') || null : null;
  const encode = encodingOf(q);

  const uploads: UploadRow[] = [];
  const prefixes: string[] = [];
  let truncated = false;
  let nextKey: string | null = null;
  let nextUpload: string | null = null;
  let cursorKey = keyMarker;
  let cursorUpload = uploadIdMarker;
  // Resuming from a NextKeyMarker that names a common prefix skips that whole group.
  const resumedGroup = delimiter && keyMarker?.startsWith(prefix) && keyMarker.endsWith(delimiter) ? keyMarker : null;
  outer: for (;;) {
    const batch = ctx.svc.uploads.list(e.bucket, {
      prefix,
      keyMarker: cursorKey,
      uploadIdMarker: cursorUpload,
      limit: 1000,
    });
    if (!batch.length) break;
    for (const u of batch) {
      cursorKey = u.key;
      cursorUpload = u.uploadId;
      const cut = delimiter ? u.key.indexOf(delimiter, prefix.length) : -1;
      const group = cut >= 0 ? u.key.slice(0, cut + delimiter.length) : null;
      if (group !== null && (prefixes[prefixes.length - 1] === group || group === resumedGroup)) continue;
      if (uploads.length + prefixes.length >= max) {
        truncated = true;
        break outer;
      }
      if (group !== null) {
        prefixes.push(group);
        nextKey = group;
        nextUpload = null;
      } else {
        uploads.push(u);
        nextKey = u.key;
        nextUpload = u.uploadId;
      }
    }
    if (batch.length < 1000) break;
  }
  sendDocument(ctx.res, 'ListMultipartUploadsResult', {
    Bucket: e.bucket,
    KeyMarker: encode(keyMarker ?? ''),
    UploadIdMarker: uploadIdMarker ?? '',
    NextKeyMarker: truncated && nextKey !== null ? encode(nextKey) : null,
    NextUploadIdMarker: truncated && nextUpload !== null ? nextUpload : null,
    Prefix: prefix ? encode(prefix) : null,
    Delimiter: delimiter ? encode(delimiter) : null,
    MaxUploads: max,
    EncodingType: q.has('encoding-type') ? 'url' : null,
    IsTruncated: truncated,
    Upload: uploads.map((u) => ({
      Key: encode(u.key),
      UploadId: u.uploadId,
      Initiator: { ID: u.ownerId, DisplayName: u.ownerDisplay },
      Owner: { ID: u.ownerId, DisplayName: u.ownerDisplay },
      StorageClass: u.storageClass,
      Initiated: u.initiatedAt,
      ChecksumAlgorithm: u.checksumAlgorithm,
      ChecksumType: u.checksumType,
    })),
    CommonPrefixes: prefixes.map((p) => ({ Prefix: encode(p) })),
  });
}
