// Request bodies in: object data streamed to a fsynced temp file, or a small document read
// into memory. Either way every promise the request made (x-amz-content-sha256, chunk and
// trailer signatures, Content-MD5, x-amz-checksum-*, lengths) is checked before the caller
// sees a result, and a failed object upload leaves no file behind.
import type { Readable } from 'node:stream';
import type { PayloadMode } from '../auth/types.ts';
import { S3Error } from '../s3/errors.ts';
import { FileSink } from './file-sink.ts';
import type { BlobSink } from '../storage/backend.ts';
import { bodySpec, type BodySpec, type Headers } from './spec.ts';
import { BodyVerifier, type VerifiedBody } from './verifier.ts';

/** The request (or any stream of buffers it will not reuse: slices are written lazily). */
export type BodySource = Readable | AsyncIterable<Buffer | Uint8Array | string>;

export interface IngestOptions {
  /** Where the verified bytes go: a storage backend's staged blob (discarded on failure)... */
  sink?: BlobSink;
  /** ...or a new file at this path (created with O_EXCL, removed again on any failure). */
  tmpPath?: string;
  payload: PayloadMode;
  /** The request headers (Node's IncomingMessage.headers). */
  headers: Headers;
  /** Largest payload accepted, in bytes (EntityTooLarge beyond). */
  maxSize?: number;
}

/** size, md5Hex and the checksum the client sent or asked for, computed over the payload. */
export type IngestResult = VerifiedBody;

export interface SmallBodyOptions {
  payload: PayloadMode;
  headers: Headers;
  /** Largest payload accepted (MaxMessageLengthExceeded beyond); default 1 MiB. */
  limit?: number;
  /** Sees each piece as it arrives (before the whole body is verified); may throw to stop reading. */
  onData?: (data: Buffer) => void;
}

export const DEFAULT_SMALL_BODY_LIMIT = 1024 * 1024;
/** Bodies at least this long are hashed on a hashing thread (hash-offload.ts); below it the
 *  copy and the thread hop cost more than they save. */
export const OFFLOAD_HASH_BYTES = 256 * 1024;

function isReadable(source: BodySource): source is Readable {
  return typeof (source as Readable).iterator === 'function' && typeof (source as Readable).on === 'function';
}

function toBuffer(chunk: Buffer | Uint8Array | string): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk);
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/**
 * Feeds the source to `verifier`, awaiting `wait()` between pieces. A source that fails
 * (client gone, connection reset) becomes IncompleteBody. A Readable is never destroyed
 * here: the caller still owns the connection and may want to answer on it.
 */
async function pump(source: BodySource, verifier: BodyVerifier, wait: () => Promise<void> | undefined): Promise<void> {
  const readable = isReadable(source) ? source : undefined;
  const iterable = readable ? readable.iterator({ destroyOnReturn: false }) : source;
  const it = iterable[Symbol.asyncIterator]();
  let done = false;
  try {
    for (;;) {
      let next: IteratorResult<Buffer | Uint8Array | string>;
      try {
        next = await it.next();
      } catch {
        throw new S3Error('IncompleteBody', 'The request body ended before it was complete.');
      }
      if (next.done) {
        done = true;
        return;
      }
      verifier.write(toBuffer(next.value));
      const w = wait();
      if (w) await w;
    }
  } finally {
    if (!done) await it.return?.().catch(() => {});
    // A late 'error' (client reset) on a stream nobody reads any more must not crash us.
    readable?.on('error', () => {});
  }
}

function declaredPayloadLength(spec: BodySpec): number | undefined {
  return spec.chunked ? spec.decodedContentLength : spec.contentLength;
}

function missingDestination(): never {
  throw new Error('ingest needs a sink or a tmpPath');
}

/**
 * Streams an object body into the sink (finished, i.e. durable, on success) while
 * verifying it. On any failure the sink is discarded and the error thrown: an S3Error for
 * anything the client got wrong, the underlying error for storage failures.
 */
export async function ingest(source: BodySource, opts: IngestOptions): Promise<IngestResult> {
  const spec = bodySpec(opts.headers, opts.payload);
  const tooLarge = () =>
    new S3Error(
      'EntityTooLarge',
      undefined,
      opts.maxSize === undefined ? {} : { MaxSizeAllowed: String(opts.maxSize) },
    );
  const declared = declaredPayloadLength(spec);
  if (opts.maxSize !== undefined && declared !== undefined && declared > opts.maxSize) throw tooLarge();

  const sink: BlobSink = opts.sink ?? (await FileSink.create(opts.tmpPath ?? missingDestination()));
  let verifier: BodyVerifier | undefined;
  try {
    verifier = new BodyVerifier(spec, opts.payload, (data) => sink.push(data), {
      alwaysMd5: true,
      maxSize: opts.maxSize,
      tooLarge,
      offload: declared !== undefined && declared >= OFFLOAD_HASH_BYTES,
    });
    const v = verifier;
    await pump(source, v, () => sink.backpressure() ?? v.backpressure());
    const result = await v.finish();
    await sink.finish();
    return result;
  } catch (err) {
    verifier?.drop();
    await sink.discard();
    throw err;
  }
}

/**
 * Reads a small body (an XML document) into memory, verified exactly like an object body.
 * Bodies over `limit` are refused with MaxMessageLengthExceeded, up front when the headers
 * already say so.
 */
export async function readSmallBody(source: BodySource, opts: SmallBodyOptions): Promise<Buffer> {
  const limit = opts.limit ?? DEFAULT_SMALL_BODY_LIMIT;
  const spec = bodySpec(opts.headers, opts.payload);
  const tooLarge = () => new S3Error('MaxMessageLengthExceeded', 'Your request was too big.');
  const declared = declaredPayloadLength(spec);
  if (declared !== undefined && declared > limit) throw tooLarge();

  const parts: Buffer[] = [];
  const keep = (data: Buffer): void => {
    opts.onData?.(data);
    parts.push(data);
  };
  const verifier = new BodyVerifier(spec, opts.payload, keep, { alwaysMd5: false, maxSize: limit, tooLarge });
  await pump(source, verifier, () => undefined);
  const { size } = await verifier.finish();
  return Buffer.concat(parts, size);
}
