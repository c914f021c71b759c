// CompleteMultipartUpload: validate the part list, stream the parts into one new file
// (never the whole object in memory), make it durable, and commit the object, the removal
// of the parts and the completion record in one transaction. While a large object is
// assembled the response is already 200 and whitespace keeps the connection alive; a
// failure then arrives as an <Error> document in that 200 body, as S3 does.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html
import { createHash } from 'node:crypto';
import { S3Error } from './errors.ts';
import type { Ctx } from './context.ts';
import type { UploadEndpoint as U } from './endpoint.ts';
import type { Grants } from './access.ts';
import { readXmlBody } from './body.ts';
import { children, childText, xmlDocument, type XmlElement, type XmlLimits, type XmlNode } from './xml.ts';
import { errorXml, sendDocument } from './respond.ts';
import { commitObject, objectRowOf, precheck, writeCondition } from './object-write.ts';
import { createChecksummer, checksumHeaderName } from '../body/checksums.ts';
import type { StoredChecksum, WriteCondition } from '../metadata/types.ts';
import type { PartRow, UploadRow } from '../metadata/uploads.ts';

// https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html
const MIN_PART_SIZE = 5 * 1024 * 1024;
const MAX_PARTS = 10000;
/** Objects larger than this get the early 200 and keep-alive whitespace. */
const STREAMED_RESPONSE_BYTES = 16 * 1024 * 1024;
const KEEPALIVE_MS = 5000;

interface RequestedPart {
  partNumber: number;
  etag: string;
  checksums: Record<string, string>;
}

const PART_FIELDS = [
  'PartNumber',
  'ETag',
  'ChecksumCRC32',
  'ChecksumCRC32C',
  'ChecksumCRC64NVME',
  'ChecksumSHA1',
  'ChecksumSHA256',
];
const COMPLETE_SCHEMA: XmlLimits = {
  root: 'CompleteMultipartUpload',
  maxElements: 1 + MAX_PARTS * (1 + PART_FIELDS.length),
  schema: {
    CompleteMultipartUpload: { names: ['Part'], max: MAX_PARTS },
    Part: { names: PART_FIELDS, max: PART_FIELDS.length, required: ['PartNumber', 'ETag'] },
    ...Object.fromEntries(PART_FIELDS.map((f) => [f, { names: [] }])),
  },
};

function parsePartList(root: XmlElement | undefined): RequestedPart[] {
  if (root?.name !== 'CompleteMultipartUpload') throw new S3Error('MalformedXML');
  const parts = children(root, 'Part').map((p) => {
    const num = childText(p, 'PartNumber')?.trim() ?? '';
    const etag = childText(p, 'ETag')?.trim();
    if (!/^\d+$/.test(num) || etag === undefined) throw new S3Error('MalformedXML');
    const checksums: Record<string, string> = {};
    for (const c of p.children)
      if (c.name.startsWith('Checksum')) checksums[c.name.slice('Checksum'.length).toUpperCase()] = c.text.trim();
    return { partNumber: Number(num), etag, checksums };
  });
  if (parts.length === 0 || parts.length > MAX_PARTS)
    throw new S3Error(
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema',
    );
  return parts;
}

const bareEtag = (e: string) => e.replace(/^"|"$/g, '');

/** Matches the requested list against the stored parts; throws the S3 error AWS would. */
function selectParts(requested: RequestedPart[], stored: Map<number, PartRow>, upload: UploadRow): PartRow[] {
  const chosen: PartRow[] = [];
  let previous = 0;
  for (const r of requested) {
    if (r.partNumber <= previous) throw new S3Error('InvalidPartOrder');
    previous = r.partNumber;
    const p = stored.get(r.partNumber);
    if (!p || bareEtag(p.etag) !== bareEtag(r.etag))
      throw new S3Error('InvalidPart', undefined, {
        UploadId: upload.uploadId,
        PartNumber: String(r.partNumber),
        ETag: r.etag,
      });
    const given = upload.checksumAlgorithm ? r.checksums[upload.checksumAlgorithm] : undefined;
    if (given !== undefined && p.checksumValue !== null && given !== p.checksumValue) {
      throw new S3Error(
        'InvalidPart',
        `The checksum of part ${r.partNumber} does not match the checksum of the uploaded part.`,
        { PartNumber: String(r.partNumber) },
      );
    }
    chosen.push(p);
  }
  chosen.forEach((p, i) => {
    if (i < chosen.length - 1 && p.size < MIN_PART_SIZE) {
      throw new S3Error('EntityTooSmall', undefined, {
        ProposedSize: String(p.size),
        MinSizeAllowed: String(MIN_PART_SIZE),
        PartNumber: String(p.partNumber),
        ETag: p.etag,
      });
    }
  });
  return chosen;
}

/** "-N" ETag: MD5 of the concatenated binary part MD5s. */
function multipartEtag(parts: PartRow[]): string {
  const h = createHash('md5');
  for (const p of parts) h.update(Buffer.from(bareEtag(p.etag), 'hex'));
  return `"${h.digest('hex')}-${parts.length}"`;
}

function compositeChecksum(upload: UploadRow, parts: PartRow[]): StoredChecksum | null {
  if (!upload.checksumAlgorithm || upload.checksumType !== 'COMPOSITE') return null;
  if (parts.some((p) => p.checksumValue === null)) return null;
  const sum = createChecksummer(upload.checksumAlgorithm);
  for (const p of parts) sum.update(Buffer.from(p.checksumValue!, 'base64'));
  return {
    algorithm: upload.checksumAlgorithm,
    value: `${sum.digest().toString('base64')}-${parts.length}`,
    type: 'COMPOSITE',
  };
}

function resultDocument(ctx: Ctx, e: U, etag: string, checksum: StoredChecksum | null): XmlNode {
  const host = ctx.header('host') ?? 'localhost';
  const doc: XmlNode = {
    Location: `http://${host}/${e.bucket}/${encodeURIComponent(e.key).replace(/%2F/g, '/')}`,
    Bucket: e.bucket,
    Key: e.key,
    ETag: etag,
  };
  if (checksum) {
    doc[`Checksum${checksum.algorithm}`] = checksum.value;
    doc.ChecksumType = checksum.type;
  }
  return doc;
}

/** Dispatch has checked the caller may complete this upload before any body byte is read. */
export async function completeMultipartUpload(ctx: Ctx, e: U, grant: Grants['completion']): Promise<void> {
  const { uploads } = ctx.svc;
  // A retried Complete answers as the first did whatever its body, so a malformed list is
  // reported only once the upload is known to be still open.
  let root: XmlElement | undefined;
  let malformed: S3Error | undefined;
  try {
    root = await readXmlBody(ctx, 4 * 1024 * 1024, 'MalformedXML', COMPLETE_SCHEMA);
  } catch (err) {
    if (!(err instanceof S3Error) || err.code !== 'MalformedXML') throw err;
    malformed = err;
  }
  // A client retry while the first Complete still assembles waits for it, then answers from
  // the completion record: the parts are assembled once.
  const running = assembling(ctx);
  let waited = false;
  for (let busy = running.get(e.uploadId); busy; busy = running.get(e.uploadId)) {
    waited = true;
    await busy;
  }
  const done = grant.upload === null ? grant.completed : waited ? uploads.completed(e.uploadId) : undefined;
  if (done && done.bucket === e.bucket && done.key === e.key) {
    // A retried Complete of an upload that already completed answers as the first did.
    sendDocument(ctx.res, 'CompleteMultipartUploadResult', resultDocument(ctx, e, done.etag, null));
    return;
  }
  if (grant.upload === null) throw new S3Error('NoSuchUpload', undefined, { UploadId: e.uploadId });
  const up = grant.upload;
  if (malformed) throw malformed;
  const requested = parsePartList(root);
  const parts = selectParts(requested, new Map(uploads.parts(e.uploadId).map((p) => [p.partNumber, p])), up);
  const cond = writeCondition(ctx);
  precheck(ctx, e.bucket, e.key, cond);
  const totalSize = parts.reduce((n, p) => n + p.size, 0);
  const etag = multipartEtag(parts);

  let finished!: () => void;
  running.set(e.uploadId, new Promise<void>((resolve) => (finished = resolve)));
  try {
    await assemble(ctx, e, up, parts, cond, totalSize, etag);
  } finally {
    running.delete(e.uploadId);
    finished();
  }
}

/** Completes in flight, per store, by upload id. */
const inFlight = new WeakMap<object, Map<string, Promise<void>>>();
function assembling(ctx: Ctx): Map<string, Promise<void>> {
  let m = inFlight.get(ctx.svc.uploads);
  if (!m) inFlight.set(ctx.svc.uploads, (m = new Map()));
  return m;
}

async function assemble(
  ctx: Ctx,
  e: U,
  up: UploadRow,
  parts: PartRow[],
  cond: WriteCondition | undefined,
  totalSize: number,
  etag: string,
): Promise<void> {
  const { storage } = ctx.svc;
  await ctx.svc.disk.admit(totalSize);
  const res = ctx.res;
  const streamed = totalSize > STREAMED_RESPONSE_BYTES;
  let keepAlive: NodeJS.Timeout | undefined;
  if (streamed) {
    res.writeHead(200, { 'Content-Type': 'application/xml' });
    res.write('<?xml version="1.0" encoding="UTF-8"?>\n');
    keepAlive = setInterval(() => res.write(' '), KEEPALIVE_MS);
  }
  try {
    const full =
      up.checksumAlgorithm && up.checksumType === 'FULL_OBJECT' ? createChecksummer(up.checksumAlgorithm) : undefined;
    const fileId = await storage.concat(
      parts.map((p) => ({ fileId: p.fileId })),
      full ? (chunk) => full.update(chunk) : undefined,
    );
    let checksum: StoredChecksum | null = full
      ? { algorithm: up.checksumAlgorithm!, value: full.digest().toString('base64'), type: 'FULL_OBJECT' }
      : compositeChecksum(up, parts);
    const claimed = up.checksumAlgorithm ? ctx.header(checksumHeaderName(up.checksumAlgorithm)) : undefined;
    if (
      claimed !== undefined &&
      checksum &&
      claimed !== checksum.value &&
      `${claimed}` !== checksum.value.replace(/-\d+$/, '')
    ) {
      await storage.remove(fileId);
      throw new S3Error(
        'BadDigest',
        `The ${up.checksumAlgorithm!.toLowerCase()} you specified did not match the calculated checksum.`,
      );
    }
    if (!up.checksumAlgorithm) checksum = null;
    const row = objectRowOf({
      bucket: e.bucket,
      key: e.key,
      fileId,
      size: totalSize,
      etag,
      contentType: up.contentType,
      contentEncoding: up.contentEncoding,
      contentLanguage: up.contentLanguage,
      contentDisposition: up.contentDisposition,
      cacheControl: up.cacheControl,
      expires: up.expires,
      storageClass: up.storageClass,
      acl: up.acl,
      userMetadata: up.userMetadata,
      checksum,
      partsCount: parts.length,
      partSizes: parts.map((p) => p.size),
      inline: null,
      ownerId: up.ownerId,
      ownerDisplay: up.ownerDisplay,
      tags: up.tags ?? null,
      retention: up.retention ?? null,
      legalHold: up.legalHold ?? false,
    });
    await commitObject(ctx, row, cond, e.uploadId);
    const doc = resultDocument(ctx, e, etag, checksum);
    if (streamed) {
      clearInterval(keepAlive);
      res.end(xmlDocument('CompleteMultipartUploadResult', doc).replace(/^<\?xml[^>]*>\n/, ''));
    } else {
      sendDocument(res, 'CompleteMultipartUploadResult', doc);
    }
  } catch (err) {
    clearInterval(keepAlive);
    if (!streamed) throw err;
    const s3err = err instanceof S3Error ? err : new S3Error('InternalError');
    if (!(err instanceof S3Error))
      ctx.svc.log.error('multipart complete failed', { request_id: ctx.requestId, error: err });
    res.end(errorXml(s3err, `/${e.bucket}/${e.key}`, ctx.requestId, '').replace(/^<\?xml[^>]*>\n/, ''));
  }
}
