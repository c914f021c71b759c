// A push decoder for `Content-Encoding: aws-chunked` bodies:
//
//   hex-size[;chunk-signature=sig]\r\n  data  \r\n      (repeated)
//   0[;chunk-signature=sig]\r\n
//   name:value\r\n ...  [x-amz-trailer-signature:sig\r\n]      (trailer, optional)
//   \r\n
//
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
//
// Data is handed on as sub-arrays of the input (no copies, any chunk size, never buffered);
// only one framing line at a time is held, bounded by maxLineLength. Chunk signatures are
// checked as soon as each chunk's closing CRLF arrives.
import { createHash, type Hash } from 'node:crypto';
import { S3Error } from '../s3/errors.ts';
import { chunkSignature, trailerSignature, type ChunkSigningContext } from '../auth/sigv4/chunk.ts';
import { EMPTY_SHA256, signaturesEqual } from '../auth/sigv4/crypto.ts';

export interface ChunkSigning extends ChunkSigningContext {
  /** The request's own signature: the "previous signature" of the first chunk. */
  seedSignature: string;
  /** STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER: the trailer carries its own signature. */
  trailer: boolean;
}

export interface AwsChunkedOptions {
  /** Present for STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]; absent for unsigned chunks. */
  signing?: ChunkSigning;
  /** x-amz-decoded-content-length, checked as data arrives and at the end. */
  decodedLength?: number;
  /** Longest framing line accepted (chunk header or trailer), CRLF included. */
  maxLineLength?: number;
}

// Decoder states.
const HEADER = 0;
const DATA = 1;
const DATA_END = 2;
const TRAILER = 3;
const DONE = 4;
type State = typeof HEADER | typeof DATA | typeof DATA_END | typeof TRAILER | typeof DONE;

const MAX_TRAILERS = 16;
const SIZE_RE = /^[0-9a-fA-F]{1,13}$/;
const SIG_RE = /^[0-9a-f]{64}$/;

function malformed(message: string): S3Error {
  return new S3Error('IncompleteBody', message);
}

export class AwsChunkedDecoder {
  /** Trailing headers received (lower-case name, trimmed value), without the signature. */
  readonly trailers: Array<[string, string]> = [];
  /** Payload bytes announced by the chunk headers read so far. */
  decodedBytes = 0;

  private state: State = HEADER;
  private readonly line: Buffer;
  private lineLength = 0;
  private remaining = 0;
  private chunkHash: Hash | undefined;
  private chunkSig = '';
  private previousSig: string;
  private trailerSig: string | undefined;
  private readonly signing: ChunkSigning | undefined;
  private readonly decodedLength: number | undefined;
  private readonly onData: (data: Buffer) => void;

  constructor(opts: AwsChunkedOptions, onData: (data: Buffer) => void) {
    this.signing = opts.signing;
    this.previousSig = opts.signing?.seedSignature ?? '';
    this.decodedLength = opts.decodedLength;
    this.line = Buffer.allocUnsafe(opts.maxLineLength ?? 4096);
    this.onData = onData;
  }

  /** Feeds the next piece of the encoded body; throws S3Error on the first problem. */
  write(buf: Buffer): void {
    let pos = 0;
    const len = buf.length;
    while (pos < len) {
      if (this.state === DATA) {
        const n = Math.min(this.remaining, len - pos);
        const data = buf.subarray(pos, pos + n);
        this.chunkHash?.update(data);
        this.remaining -= n;
        pos += n;
        if (this.remaining === 0) this.state = DATA_END;
        this.onData(data);
        continue;
      }
      if (this.state === DONE) throw new S3Error('InvalidRequest', 'The aws-chunked body continues after its end.');
      const nl = buf.indexOf(10, pos);
      const end = nl < 0 ? len : nl + 1;
      if (this.lineLength + (end - pos) > this.line.length) {
        throw malformed(`An aws-chunked framing line is longer than ${this.line.length} bytes.`);
      }
      buf.copy(this.line, this.lineLength, pos, end);
      this.lineLength += end - pos;
      pos = end;
      if (nl >= 0) this.takeLine();
    }
  }

  /** Call at the end of the input; throws unless the body was complete and consistent. */
  end(): void {
    if (
      this.state === TRAILER &&
      this.lineLength === 0 &&
      this.trailers.length === 0 &&
      this.trailerSig === undefined
    ) {
      // The AWS SDK for JavaScript ends a body without trailer right after the final chunk,
      // without the closing empty line. (A promised trailer that never came is caught by
      // the caller, which knows what x-amz-trailer promised.)
      this.finish();
    }
    if (this.state !== DONE) throw malformed('The aws-chunked body ended before it was complete.');
    if (this.decodedLength !== undefined && this.decodedBytes !== this.decodedLength) {
      throw malformed(
        `The decoded body has ${this.decodedBytes} bytes but x-amz-decoded-content-length is ${this.decodedLength}.`,
      );
    }
  }

  private takeLine(): void {
    let n = this.lineLength - 1; // drop '\n'
    if (n > 0 && this.line[n - 1] === 13) n--; // and '\r'
    const text = this.line.toString('latin1', 0, n);
    this.lineLength = 0;
    switch (this.state) {
      case HEADER:
        return this.chunkHeader(text);
      case DATA_END:
        if (text !== '') throw malformed('Chunk data is longer than its declared size.');
        if (this.chunkHash) this.verifyChunk(this.chunkHash.digest('hex'));
        this.chunkHash = undefined;
        this.state = HEADER;
        return;
      case TRAILER:
        return text === '' ? this.finish() : this.trailerLine(text);
    }
  }

  private chunkHeader(text: string): void {
    const parts = text.split(';');
    const sizeText = parts[0]!.trim();
    if (!SIZE_RE.test(sizeText)) throw malformed(`Invalid aws-chunked chunk header "${text.slice(0, 100)}".`);
    const size = parseInt(sizeText, 16);
    let sig: string | undefined;
    for (let i = 1; i < parts.length; i++) {
      const ext = parts[i]!;
      const eq = ext.indexOf('=');
      if (eq >= 0 && ext.slice(0, eq).trim() === 'chunk-signature') sig = ext.slice(eq + 1).trim();
    }
    if (this.signing) {
      if (sig === undefined || !SIG_RE.test(sig)) {
        throw new S3Error('SignatureDoesNotMatch', 'A chunk of the aws-chunked body has no valid chunk-signature.');
      }
      this.chunkSig = sig;
    }
    if (this.decodedLength !== undefined && this.decodedBytes + size > this.decodedLength) {
      throw malformed(`The decoded body is longer than x-amz-decoded-content-length (${this.decodedLength}).`);
    }
    this.decodedBytes += size;
    if (size === 0) {
      this.verifyChunk(EMPTY_SHA256);
      this.state = TRAILER;
      return;
    }
    this.remaining = size;
    if (this.signing) this.chunkHash = createHash('sha256');
    this.state = DATA;
  }

  private verifyChunk(sha256Hex: string): void {
    if (!this.signing) return;
    const expected = chunkSignature(this.signing, this.previousSig, sha256Hex);
    if (!signaturesEqual(expected, this.chunkSig)) {
      throw new S3Error('SignatureDoesNotMatch', 'The signature of a chunk of the aws-chunked body does not match.');
    }
    this.previousSig = expected;
  }

  private trailerLine(text: string): void {
    const colon = text.indexOf(':');
    if (colon <= 0) throw malformed(`Invalid trailing header "${text.slice(0, 100)}".`);
    const name = text.slice(0, colon).trim().toLowerCase();
    const value = text.slice(colon + 1).trim();
    if (name === 'x-amz-trailer-signature') {
      if (this.trailerSig !== undefined) throw malformed('The trailer carries two signatures.');
      this.trailerSig = value;
      return;
    }
    if (this.trailers.length >= MAX_TRAILERS) throw malformed('Too many trailing headers.');
    this.trailers.push([name, value]);
  }

  private finish(): void {
    this.state = DONE;
    const s = this.signing;
    if (!s) return;
    if (!s.trailer) {
      if (this.trailers.length > 0 || this.trailerSig !== undefined) {
        throw new S3Error(
          'InvalidRequest',
          'Trailing headers need x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER.',
        );
      }
      return;
    }
    if (this.trailerSig === undefined) {
      if (this.trailers.length === 0) return;
      throw new S3Error('SignatureDoesNotMatch', 'The trailer of the aws-chunked body is not signed.');
    }
    const expected = trailerSignature(s, this.previousSig, this.trailers);
    if (!signaturesEqual(expected, this.trailerSig)) {
      throw new S3Error(
        'SignatureDoesNotMatch',
        'The signature of the trailer of the aws-chunked body does not match.',
      );
    }
  }
}

/** True when a Content-Encoding header lists aws-chunked. */
export function isAwsChunked(contentEncoding: string | undefined): boolean {
  return !!contentEncoding?.split(',').some((t) => t.trim().toLowerCase() === 'aws-chunked');
}

/**
 * The Content-Encoding to store with the object: the header without aws-chunked (which
 * describes the transfer, not the object), or undefined when nothing is left.
 */
export function storedContentEncoding(contentEncoding: string | undefined): string | undefined {
  if (contentEncoding === undefined) return undefined;
  const rest = contentEncoding
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '' && t.toLowerCase() !== 'aws-chunked');
  return rest.length > 0 ? rest.join(', ') : undefined;
}
