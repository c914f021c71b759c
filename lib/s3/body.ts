// The one place handlers turn a request body into bytes: small XML bodies into a buffer,
// object bodies into a fsynced temp file. Both verify every signature and checksum the
// request promised (lib/body does the work).
import { ingest, readSmallBody, type IngestResult } from '../body/ingest.ts';
import { S3Error, type S3ErrorCode } from './errors.ts';
import { XmlReader, type XmlElement, type XmlLimits } from './xml.ts';
import type { Ctx } from './context.ts';
import type { BlobSink } from '../storage/backend.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';

// 5 GiB: the largest single PUT S3 accepts.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/upload-objects.html
export const MAX_PUT_SIZE = 5 * 1024 ** 3;

function declaredLength(ctx: Ctx): number | undefined {
  const raw = ctx.header('content-length');
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw))
    throw new S3Error('InvalidArgument', 'Content-Length must be a non-negative integer', {
      ArgumentName: 'Content-Length',
      ArgumentValue: raw,
    });
  return Number(raw);
}

function isChunked(ctx: Ctx): boolean {
  return ctx.payload.kind === 'streaming-signed' || ctx.payload.kind === 'streaming-unsigned-trailer';
}

/** The size of the object the body carries (decoded length for aws-chunked bodies); undefined when not announced. */
export function objectLength(ctx: Ctx): number | undefined {
  const contentLength = declaredLength(ctx);
  if (isChunked(ctx)) {
    const decoded = ctx.header('x-amz-decoded-content-length');
    if (decoded === undefined || !/^\d+$/.test(decoded))
      throw new S3Error(
        'MissingContentLength',
        'You must provide the x-amz-decoded-content-length header for aws-chunked uploads.',
      );
    return Number(decoded);
  }
  if (contentLength === undefined) {
    // HTTP/1.1 chunked transfer coding (Node removes the framing): the length is known only
    // at the end. AWS asks for Content-Length here; clients that stream (curl -T -, generic
    // HTTP libraries) cannot give one, so the body is taken and bounded by the 5 GiB limit.
    return ctx.header('transfer-encoding') !== undefined ? undefined : 0;
  }
  return contentLength;
}

const awaitingContinue = new WeakMap<IncomingMessage, ServerResponse>();

/** A request that sent Expect: 100-continue: the 100 goes out when its body is first read. */
export function holdContinue(req: IncomingMessage, res: ServerResponse): void {
  awaitingContinue.set(req, res);
}

function sendContinue(req: IncomingMessage): void {
  const res = awaitingContinue.get(req);
  if (!res) return;
  awaitingContinue.delete(req);
  res.writeContinue();
}

/**
 * Reads an XML request body, parsing it as it arrives; undefined when the body is empty.
 * A malformed or oversized document is refused at its first excess, before the rest is read.
 */
export async function readXmlBody(
  ctx: Ctx,
  limit: number,
  errorCode: S3ErrorCode = 'MalformedXML',
  limits: XmlLimits = {},
): Promise<XmlElement | undefined> {
  sendContinue(ctx.req);
  const reader = new XmlReader(errorCode, limits);
  await readSmallBody(ctx.req, {
    payload: ctx.payload,
    headers: ctx.req.headers,
    limit,
    onData: (data) => reader.write(data),
  });
  ctx.bytesIn += reader.size;
  return reader.size === 0 ? undefined : reader.end();
}

/** Reads a small request body (XML documents), verified; throws past `limit` bytes. */
export async function readRequestBody(ctx: Ctx, limit: number): Promise<Buffer> {
  sendContinue(ctx.req);
  const body = await readSmallBody(ctx.req, { payload: ctx.payload, headers: ctx.req.headers, limit });
  ctx.bytesIn += body.length;
  return body;
}

/**
 * Streams the object body into a new blob and commits it, returning its id with the
 * verified size and digests. Nothing is left behind on failure.
 * `algorithm` makes sure that checksum is computed even when the request names none
 * (multipart parts of an upload created with x-amz-checksum-algorithm).
 */
export async function receiveObject(
  ctx: Ctx,
  maxSize = MAX_PUT_SIZE,
  algorithm?: string,
  allowInline = false,
): Promise<IngestResult & { fileId: string; inline: Buffer | null }> {
  const size = objectLength(ctx);
  if (size !== undefined && size > maxSize) {
    throw new S3Error('EntityTooLarge', undefined, { ProposedSize: String(size), MaxSizeAllowed: String(maxSize) });
  }
  await ctx.svc.disk.admit(size ?? 0);
  sendContinue(ctx.req);
  const headers =
    algorithm && ctx.header('x-amz-sdk-checksum-algorithm') === undefined
      ? { ...ctx.req.headers, 'x-amz-sdk-checksum-algorithm': algorithm }
      : ctx.req.headers;
  if (allowInline && size !== undefined && size <= ctx.svc.config.storage.inline_max_bytes) {
    // Small enough to live in the metadata row: collect it in memory, verified as usual.
    const chunks: Buffer[] = [];
    const result = await ingest(ctx.req, { sink: memorySink(chunks), payload: ctx.payload, headers, maxSize: size });
    ctx.bytesIn += result.size;
    return { ...result, fileId: '', inline: Buffer.concat(chunks, result.size) };
  }
  const sink = await ctx.svc.storage.stage();
  const result = await ingest(ctx.req, { sink, payload: ctx.payload, headers, maxSize });
  ctx.bytesIn += result.size;
  return { ...result, fileId: await sink.commit(), inline: null };
}

function memorySink(chunks: Buffer[]): BlobSink {
  return {
    push: (b) => void chunks.push(b),
    backpressure: () => undefined,
    finish: async () => {},
    discard: async () => void (chunks.length = 0),
  };
}
