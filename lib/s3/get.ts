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
import type { ObjectRow } from '../metadata/types.ts';

const OVERRIDES: ReadonlyArray<[string, string]> = [
  ['response-content-type', 'Content-Type'], ['response-content-language', 'Content-Language'],
  ['response-expires', 'Expires'], ['response-cache-control', 'Cache-Control'],
  ['response-content-disposition', 'Content-Disposition'], ['response-content-encoding', 'Content-Encoding'],
];

/** `grant` holds the object as dispatch loaded it after checking object READ. */
export async function getObject(ctx: Ctx, e: O, grant: Grants['object'], withBody: boolean): Promise<void> {
  const q = e.query;
  const overrides = OVERRIDES.filter(([p]) => q.has(p));
  // https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html — response-* needs a signed request.
  if (overrides.length && !ctx.principal) throw new S3Error('InvalidRequest', 'Request specific response headers cannot be used for anonymous GET requests.');

  // A concurrent overwrite may remove the file between lookup and open: look again once.
  let o!: ObjectRow;
  let range: ByteRange | undefined;
  let stream: Readable | undefined;
  for (let attempt = 0; ; attempt++) {
    o = attempt === 0 ? grant.object : loadObjectFor(ctx, grant.bucket, e.key, 'READ', withBody);
    const conditions = requestConditions(ctx.header);
    const outcome = evaluate(conditions, o.etag, o.lastModified);
    if (outcome === 'precondition-failed') throw new S3Error('PreconditionFailed', undefined, { Condition: failedCondition(conditions) });
    if (outcome === 'not-modified') {
      const h = objectHeaders(o);
      ctx.res.writeHead(304, { ETag: h.ETag!, 'Last-Modified': h['Last-Modified']! });
      ctx.res.end();
      return;
    }
    range = parseRange(ctx.header('range'), o.size);
    if (!withBody || o.inline) break;
    try {
      // The whole object is read as its full range, so the backend knows the length.
      stream = await ctx.svc.storage.openRead(o.fileId, range ?? (o.size > 0 ? { start: 0, end: o.size - 1 } : undefined));
      break;
    } catch (err) {
      if (!(err instanceof FileMissingError) || attempt > 0) throw err;
    }
  }

  const headers = objectHeaders(o);
  for (const [param, header] of overrides) headers[header] = q.get(param)!;
  // Checksums describe the whole object, so a ranged response never carries them.
  if (!range && ctx.header('x-amz-checksum-mode')?.toUpperCase() === 'ENABLED') Object.assign(headers, checksumHeaders(o));
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
    await pipeline(stream, ctx.res);
  } catch (err) {
    // The client went away mid-body; nothing to answer, but make sure the file closes.
    stream.destroy();
    if ((err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw err;
  }
}
