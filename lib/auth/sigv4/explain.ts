// What an operator needs to see why a signature did not match, at debug level: the key id,
// the headers the client signed, the hash of our canonical request (the client's SDK can log
// its own to compare) and the string-to-sign's scope. Nothing here is, or derives from, a
// secret: the string to sign is public input to the HMAC
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html).
import { createHash } from 'node:crypto';
import type { S3Error } from '../../s3/errors.ts';

export function explainSignatureMismatch(err: S3Error): Record<string, unknown> {
  const canonical = err.extra.CanonicalRequest ?? '';
  const toSign = (err.extra.StringToSign ?? '').split('\n');
  const lines = canonical.split('\n');
  return {
    access_key_id: err.extra.AWSAccessKeyId,
    signed_headers: lines.length >= 2 ? lines[lines.length - 2] : undefined,
    canonical_request_sha256: canonical ? createHash('sha256').update(canonical).digest('hex') : undefined,
    string_to_sign_scope: toSign[2],
    request_timestamp: toSign[1],
    method: lines[0],
    canonical_uri: lines[1],
    payload_hash: lines[lines.length - 1],
  };
}
