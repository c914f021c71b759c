// What the request headers promise about the body, validated before a byte is read:
// lengths, Content-MD5, one x-amz-checksum-* value or one promised trailer, and which
// checksum to compute.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
import type { PayloadMode } from '../auth/types.ts';
import { S3Error } from '../s3/errors.ts';
import {
  CHECKSUM_ALGORITHMS,
  algorithmFromHeaderName,
  assertValidChecksumValue,
  checksumHeaderName,
  parseChecksumAlgorithm,
  type ChecksumAlgorithm,
} from './checksums.ts';

export type Headers = Record<string, string | string[] | undefined>;

export interface BodySpec {
  /** Content-Length: bytes on the wire (framing included for aws-chunked). */
  contentLength?: number;
  /** Whether the body is aws-chunked (any STREAMING-* payload). */
  chunked: boolean;
  /** x-amz-decoded-content-length (required when chunked). */
  decodedContentLength?: number;
  /** The decoded Content-MD5 (16 bytes). */
  contentMd5?: Buffer;
  /** An x-amz-checksum-<algorithm> header sent up front. */
  headerChecksum?: { algorithm: ChecksumAlgorithm; base64: string };
  /** The checksum promised by x-amz-trailer, to be found in the trailer. */
  trailerChecksum?: ChecksumAlgorithm;
  /** The checksum to compute and store (from the header, the trailer, or x-amz-sdk-checksum-algorithm). */
  algorithm?: ChecksumAlgorithm;
}

function first(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function nonNegativeInteger(headers: Headers, name: string): number | undefined {
  const raw = first(headers, name);
  if (raw === undefined) return undefined;
  if (!/^\d{1,16}$/.test(raw.trim())) {
    throw new S3Error('InvalidArgument', `${name} must be a non-negative integer; got "${raw}".`, {
      ArgumentName: name,
      ArgumentValue: raw,
    });
  }
  return Number(raw.trim());
}

function multipleChecksums(): S3Error {
  return new S3Error(
    'InvalidRequest',
    'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
  );
}

function parseContentMd5(value: string): Buffer {
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length !== 16 || bytes.toString('base64') !== value.trim()) {
    throw new S3Error('InvalidDigest', 'The Content-MD5 you specified is not valid.');
  }
  return bytes;
}

function headerChecksum(headers: Headers): BodySpec['headerChecksum'] {
  let found: BodySpec['headerChecksum'];
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const value = first(headers, checksumHeaderName(algorithm));
    if (value === undefined) continue;
    if (found) throw multipleChecksums();
    assertValidChecksumValue(algorithm, value);
    found = { algorithm, base64: value };
  }
  return found;
}

function trailerChecksum(headers: Headers, payload: PayloadMode): ChecksumAlgorithm | undefined {
  const raw = first(headers, 'x-amz-trailer');
  if (raw === undefined || raw.trim() === '') return undefined;
  const withTrailer =
    payload.kind === 'streaming-unsigned-trailer' || (payload.kind === 'streaming-signed' && payload.trailer);
  if (!withTrailer) {
    throw new S3Error(
      'InvalidRequest',
      'x-amz-trailer requires x-amz-content-sha256 STREAMING-UNSIGNED-PAYLOAD-TRAILER or STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER.',
    );
  }
  let found: ChecksumAlgorithm | undefined;
  for (const name of raw.split(',')) {
    const algorithm = algorithmFromHeaderName(name);
    if (!algorithm)
      throw new S3Error('InvalidRequest', `The trailing header "${name.trim()}" in x-amz-trailer is not supported.`);
    if (found) throw multipleChecksums();
    found = algorithm;
  }
  return found;
}

/** Reads and validates the body-related headers; throws S3Error before any body is read. */
export function bodySpec(headers: Headers, payload: PayloadMode): BodySpec {
  // The framing follows x-amz-content-sha256 alone: a Content-Encoding naming aws-chunked on
  // a plain body (some SDKs keep the coding list when they fall back to a plain upload) is
  // read as plain bytes, and aws-chunked is dropped from what is stored, as AWS does.
  const chunked = payload.kind === 'streaming-signed' || payload.kind === 'streaming-unsigned-trailer';
  const spec: BodySpec = { chunked, contentLength: nonNegativeInteger(headers, 'content-length') };
  if (chunked) {
    spec.decodedContentLength = nonNegativeInteger(headers, 'x-amz-decoded-content-length');
    if (spec.decodedContentLength === undefined) {
      throw new S3Error('MissingContentLength', 'You must provide the x-amz-decoded-content-length HTTP header.');
    }
  }
  const md5 = first(headers, 'content-md5');
  if (md5 !== undefined) spec.contentMd5 = parseContentMd5(md5);

  spec.headerChecksum = headerChecksum(headers);
  spec.trailerChecksum = trailerChecksum(headers, payload);
  if (spec.headerChecksum && spec.trailerChecksum) throw multipleChecksums();

  const sdkRaw = first(headers, 'x-amz-sdk-checksum-algorithm');
  const sdk = sdkRaw === undefined ? undefined : parseChecksumAlgorithm(sdkRaw);
  const declared = spec.headerChecksum?.algorithm ?? spec.trailerChecksum;
  if (sdkRaw !== undefined && (!sdk || (declared && declared !== sdk))) {
    throw new S3Error('InvalidRequest', 'Value for x-amz-sdk-checksum-algorithm header is invalid.');
  }
  spec.algorithm = declared ?? sdk;
  return spec;
}
