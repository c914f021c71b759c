// Signatures of aws-chunked bodies: each chunk is signed over the previous signature, so
// chunks cannot be dropped, reordered or altered; the trailer (if any) is signed last.
// Chunks:  https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
// Trailer: https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
import { EMPTY_SHA256, hmacHex, sha256Hex } from './crypto.ts';

export interface ChunkSigningContext {
  signingKey: Buffer;
  /** The request's x-amz-date, `yyyyMMddTHHmmssZ`. */
  timestamp: string;
  /** `yyyyMMdd/region/s3/aws4_request`. */
  scope: string;
}

export function chunkStringToSign(ctx: ChunkSigningContext, previousSignature: string, chunkSha256Hex: string): string {
  return `AWS4-HMAC-SHA256-PAYLOAD\n${ctx.timestamp}\n${ctx.scope}\n${previousSignature}\n${EMPTY_SHA256}\n${chunkSha256Hex}`;
}

export function chunkSignature(ctx: ChunkSigningContext, previousSignature: string, chunkSha256Hex: string): string {
  return hmacHex(ctx.signingKey, chunkStringToSign(ctx, previousSignature, chunkSha256Hex));
}

/**
 * The canonical form of trailing headers that the trailer signature covers: lower-case
 * names, trimmed values, sorted by name, each `name:value\n` (as the AWS SDKs for Java and
 * .NET build it). x-amz-trailer-signature itself is not part of it.
 */
export function canonicalTrailers(trailers: ReadonlyArray<readonly [string, string]>): string {
  return trailers
    .map(([name, value]) => [name.trim().toLowerCase(), value.trim()] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([name, value]) => `${name}:${value}\n`)
    .join('');
}

export function trailerStringToSign(ctx: ChunkSigningContext, previousSignature: string, canonical: string): string {
  return `AWS4-HMAC-SHA256-TRAILER\n${ctx.timestamp}\n${ctx.scope}\n${previousSignature}\n${sha256Hex(canonical)}`;
}

/** previousSignature is the signature of the final, zero-length chunk. */
export function trailerSignature(
  ctx: ChunkSigningContext,
  previousSignature: string,
  trailers: ReadonlyArray<readonly [string, string]>,
): string {
  return hmacHex(ctx.signingKey, trailerStringToSign(ctx, previousSignature, canonicalTrailers(trailers)));
}
