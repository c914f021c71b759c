// What x-amz-content-sha256 says about the body, and the PayloadMode it leads to.
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
import { S3Error } from '../../s3/errors.ts';
import type { PayloadMode } from '../types.ts';

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';

export type ContentSha256Kind =
  | 'sha256'
  | 'unsigned'
  | 'streaming-signed'
  | 'streaming-signed-trailer'
  | 'streaming-unsigned-trailer';

const HEX64_RE = /^[0-9a-fA-F]{64}$/;

/** Classifies an x-amz-content-sha256 value; anything unknown is InvalidArgument. */
export function classifyContentSha256(value: string): ContentSha256Kind {
  switch (value) {
    case UNSIGNED_PAYLOAD:
      return 'unsigned';
    case STREAMING_SIGNED:
      return 'streaming-signed';
    case STREAMING_SIGNED_TRAILER:
      return 'streaming-signed-trailer';
    case STREAMING_UNSIGNED_TRAILER:
      return 'streaming-unsigned-trailer';
  }
  if (HEX64_RE.test(value)) return 'sha256';
  throw new S3Error(
    'InvalidArgument',
    `x-amz-content-sha256 must be UNSIGNED-PAYLOAD, ${STREAMING_SIGNED}, ${STREAMING_SIGNED_TRAILER}, ` +
      `${STREAMING_UNSIGNED_TRAILER} or a hex SHA-256 value; got "${value}".`,
    { ArgumentName: 'x-amz-content-sha256', ArgumentValue: value },
  );
}

/** The PayloadMode for kinds that need no signing context (everything but streaming-signed). */
export function simplePayloadMode(kind: ContentSha256Kind, value: string): PayloadMode {
  switch (kind) {
    case 'sha256':
      return { kind: 'sha256', hex: value.toLowerCase() };
    case 'unsigned':
      return { kind: 'unsigned' };
    case 'streaming-unsigned-trailer':
      return { kind: 'streaming-unsigned-trailer' };
    case 'streaming-signed':
    case 'streaming-signed-trailer':
      throw new S3Error(
        'InvalidRequest',
        `x-amz-content-sha256 ${value} requires a request signed with the Authorization header.`,
      );
  }
}
