// GetObject and HeadObject: conditionals, one byte range, response-* overrides, checksums
// on request, and the bytes streamed from an already-open file.
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { S3Error } from './errors.ts';
import type { Ctx } from './context.ts';
import type { ObjectEndpoint as O } from './endpoint.ts';
import { loadObjectFor, type Grants } from './access.ts';
import { evaluate, failedCondition, requestConditions } from './conditional.ts';
import { parseRange, type ByteRange } from './range.ts';
import { checksumHeaders, objectHeaders } from './object-meta.ts';
import { FileMissingError } from '../storage/local.ts';
import { isSendable } from '../storage/file-send.ts';
import type { ObjectRow } from '../metadata/types.ts';
import { versionHeader } from './versioning.ts';
import { tagCountHeader } from './tagging.ts';
import { lockHeaders } from './object-lock.ts';

const OVERRIDES: ReadonlyArray<[string, string]> = [
  ['response-content-type', 'Content-Type'],
  ['response-content-language', 'Content-Language'],
  ['response-expires', 'Expires'],
  ['response-cache-control', 'Cache-Control'],
  ['response-content-disposition', 'Content-Disposition'],
  ['response-content-encoding', 'Content-Encoding'],
];

/**
 * ?partNumber=N: a ranged read of part N. It cannot be combined with Range.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html (partNumber)
 */
function requestedPart(q: URLSearchParams, rangeHeader: string | undefined): number | undefined {
  const raw = q.get('partNumber');
  if (raw === null) return undefined;
  const n = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= 10000)) {
    throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', {
      ArgumentName: 'partNumber',
      ArgumentValue: raw,
    });
  }
  if (rangeHeader !== undefined)
    throw new S3Error('InvalidRequest', 'Cannot specify both Range header and partNumber query parameter');
  return n;
}

/**
 * The bytes of part n. An object not uploaded in parts is one part: partNumber=1 reads all
 * of it, still as a 206 with Content-Range, as AWS answers (an empty object has no range).
 */
function partRange(o: ObjectRow, n: number): ByteRange | undefined {
  const sizes = o.partSizes ?? (o.partsCount === null ? [o.size] : null);
  // A multipart object committed before part sizes were kept: only its count is known.
  if (sizes === null)
    throw new S3Error(
      'NotImplemented',
      'This object was completed before part boundaries were recorded; read it with Range.',
    );
  if (n > sizes.length)
    throw new S3Error('InvalidPartNumber', undefined, {
      PartNumberRequested: String(n),
      ActualPartCount: String(sizes.length),
    });
  let start = 0;
  for (let i = 0; i < n - 1; i++) start += sizes[i]!;
  const len = sizes[n - 1]!;
  return len === 0 ? undefined : { start, end: start + len - 1 };
}

/** `grant` holds the object as dispatch loaded it after checking object READ. */
export async function getObject(ctx: Ctx, e: O, grant: Grants['object'], withBody: boolean): Promise<void> {
  const q = e.query;
  const overrides = OVERRIDES.filter(([p]) => q.has(p));
  // https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html — response-* needs a signed request.
  if (overrides.length && !ctx.principal)
    throw new S3Error('InvalidRequest', 'Request specific response headers cannot be used for anonymous GET requests.');
  for (const [param] of overrides) {
    // A header carries Latin-1 only (RFC 9110 §5.5); AWS refuses other characters with 400.
    const value = q.get(param)!;
    if (/[^\t\x20-\x7e\x80-\xff]/.test(value))
      throw new S3Error('InvalidArgument', `Header value for ${param} contains invalid characters.`, {
        ArgumentName: param,
        ArgumentValue: value,
      });
  }

  const partNumber = requestedPart(q, ctx.header('range'));

  // A concurrent overwrite may remove the file between lookup and open: look again once.
  let o!: ObjectRow;
  let range: ByteRange | undefined;
  let stream: Readable | undefined;
  for (let attempt = 0; ; attempt++) {
    o = attempt === 0 ? grant.object : loadObjectFor(ctx, grant.bucket, e.key, 'READ', withBody, e.versionId);
    const conditions = requestConditions(ctx.header);
    const outcome = evaluate(conditions, o.etag, o.lastModified);
    if (outcome === 'precondition-failed')
      throw new S3Error('PreconditionFailed', undefined, { Condition: failedCondition(conditions) });
    if (outcome === 'not-modified') {
      const h = objectHeaders(o);
      ctx.res.writeHead(304, { ETag: h.ETag!, 'Last-Modified': h['Last-Modified']! });
      ctx.res.end();
      return;
    }
    range = partNumber === undefined ? parseRange(ctx.header('range'), o.size) : partRange(o, partNumber);
    if (!withBody || o.inline) break;
    try {
      // The whole object is read as its full range, so the backend knows the length.
      stream = await ctx.svc.storage.openRead(
        o.fileId,
        range ?? (o.size > 0 ? { start: 0, end: o.size - 1 } : undefined),
      );
      break;
    } catch (err) {
      if (!(err instanceof FileMissingError) || attempt > 0) throw err;
    }
  }

  const headers = {
    ...objectHeaders(o),
    ...versionHeader(grant.bucket, o),
    ...tagCountHeader(o.tags),
    ...lockHeaders(o),
  };
  for (const [param, header] of overrides) headers[header] = q.get(param)!;
  // Checksums describe the whole object, so a ranged response never carries them.
  if (!range && partNumber === undefined && ctx.header('x-amz-checksum-mode')?.toUpperCase() === 'ENABLED')
    Object.assign(headers, checksumHeaders(o));
  if (o.partsCount !== null) headers['x-amz-mp-parts-count'] = String(o.partsCount);
  let status = 200;
  if (range) {
    status = 206;
    headers['Content-Range'] = `bytes ${range.start}-${range.end}/${o.size}`;
    headers['Content-Length'] = String(range.end - range.start + 1);
  } else {
    headers['Content-Length'] = String(o.size);
  }
  try {
    ctx.res.writeHead(status, headers);
  } catch (err) {
    stream?.destroy(); // e.g. a header value Node refuses: never leak the open file
    throw err;
  }
  if (withBody && o.inline) {
    ctx.res.end(range ? o.inline.subarray(range.start, range.end + 1) : o.inline);
    return;
  }
  if (!stream) {
    ctx.res.end();
    return;
  }
  try {
    if (isSendable(stream)) await stream.sendTo(ctx.res);
    else await pipeline(stream, ctx.res);
  } catch (err) {
    // The client went away mid-body; nothing to answer, but make sure the file closes.
    stream.destroy();
    if ((err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw err;
  }
}
