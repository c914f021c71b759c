// The additional checksums S3 accepts (x-amz-checksum-<algorithm>), computed incrementally
// and rendered as S3 renders them: base64 of the big-endian digest bytes.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { S3Error } from '../s3/errors.ts';
import { crc32c, crc64nvmeDigest, crc64nvmeInit, crc64nvmeUpdate } from './crc.ts';

export const CHECKSUM_ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

const DIGEST_LENGTH: Record<ChecksumAlgorithm, number> = { CRC32: 4, CRC32C: 4, CRC64NVME: 8, SHA1: 20, SHA256: 32 };

export interface Checksummer {
  readonly algorithm: ChecksumAlgorithm;
  update(data: Uint8Array): void;
  /** The digest bytes; call once, after the last update. */
  digest(): Buffer;
}

function u32be(value: number): Buffer {
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(value >>> 0, 0);
  return out;
}

export function createChecksummer(algorithm: ChecksumAlgorithm): Checksummer {
  switch (algorithm) {
    case 'CRC32': {
      let value = 0;
      return { algorithm, update: (d) => void (value = crc32(d, value)), digest: () => u32be(value) };
    }
    case 'CRC32C': {
      let value = 0;
      return { algorithm, update: (d) => void (value = crc32c(d, value)), digest: () => u32be(value) };
    }
    case 'CRC64NVME': {
      const state = crc64nvmeInit();
      return { algorithm, update: (d) => crc64nvmeUpdate(state, d), digest: () => crc64nvmeDigest(state) };
    }
    case 'SHA1':
    case 'SHA256': {
      const hash = createHash(algorithm === 'SHA1' ? 'sha1' : 'sha256');
      return { algorithm, update: (d) => void hash.update(d), digest: () => hash.digest() };
    }
  }
}

/** The base64 checksum of a whole buffer. */
export function checksumOf(algorithm: ChecksumAlgorithm, data: Uint8Array): string {
  const c = createChecksummer(algorithm);
  c.update(data);
  return c.digest().toString('base64');
}

/** 'crc32' / 'CRC32' → 'CRC32'; undefined for anything S3 does not know. */
export function parseChecksumAlgorithm(value: string): ChecksumAlgorithm | undefined {
  const upper = value.trim().toUpperCase();
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(upper) ? (upper as ChecksumAlgorithm) : undefined;
}

/** 'CRC32' → 'x-amz-checksum-crc32'. */
export function checksumHeaderName(algorithm: ChecksumAlgorithm): string {
  return 'x-amz-checksum-' + algorithm.toLowerCase();
}

/** 'x-amz-checksum-crc32' (any case) → 'CRC32'; undefined for other names. */
export function algorithmFromHeaderName(name: string): ChecksumAlgorithm | undefined {
  const lower = name.trim().toLowerCase();
  if (!lower.startsWith('x-amz-checksum-')) return undefined;
  const alg = parseChecksumAlgorithm(lower.slice('x-amz-checksum-'.length));
  return alg && checksumHeaderName(alg) === lower ? alg : undefined;
}

export function digestLength(algorithm: ChecksumAlgorithm): number {
  return DIGEST_LENGTH[algorithm];
}

/** True when `value` is canonical base64 of exactly the digest length of `algorithm`. */
export function isValidChecksumValue(algorithm: ChecksumAlgorithm, value: string): boolean {
  const len = DIGEST_LENGTH[algorithm];
  if (value.length !== Math.ceil(len / 3) * 4) return false;
  const bytes = Buffer.from(value, 'base64');
  return bytes.length === len && bytes.toString('base64') === value;
}

/** Throws InvalidRequest (AWS's code and wording) unless the header value is valid. */
export function assertValidChecksumValue(
  algorithm: ChecksumAlgorithm,
  value: string,
  where: 'header' | 'trailing header' = 'header',
): void {
  if (!isValidChecksumValue(algorithm, value)) {
    throw new S3Error('InvalidRequest', `Value for ${checksumHeaderName(algorithm)} ${where} is invalid.`);
  }
}

/** BadDigest as AWS words it for an x-amz-checksum-* mismatch. */
export function checksumMismatch(algorithm: ChecksumAlgorithm): S3Error {
  return new S3Error('BadDigest', `The ${algorithm} you specified did not match the calculated checksum.`);
}
