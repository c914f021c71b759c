// Verifies Signature Version 2 requests: `Authorization: AWS AKID:signature`, and presigned
// URLs with AWSAccessKeyId, Expires and Signature.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html
import { S3Error } from '../../s3/errors.ts';
import type { AuthOptions, AuthRequest, AuthResult, CredentialLookup, PayloadMode } from '../types.ts';
import { firstHeader } from '../sigv4/canonical.ts';
import { signaturesEqual } from '../sigv4/crypto.ts';
import { DEFAULT_MAX_SKEW_MS } from '../sigv4/header.ts';
import { classifyContentSha256, simplePayloadMode } from '../sigv4/payload.ts';
import { isoSeconds } from '../sigv4/scope.ts';
import type { QueryParam } from '../sigv4/encode.ts';
import { canonicalAmzHeaders, canonicalResource, sigv2Sign, stringToSign } from './sign.ts';

function payloadOf(req: AuthRequest): PayloadMode {
  const v = firstHeader(req, 'x-amz-content-sha256');
  return v === undefined ? { kind: 'unsigned' } : simplePayloadMode(classifyContentSha256(v), v);
}

function check(
  req: AuthRequest,
  lookup: CredentialLookup,
  accessKeyId: string,
  signature: string,
  date: string,
): AuthResult {
  const cred = lookup(accessKeyId);
  if (!cred) throw new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: accessKeyId });
  const toSign = stringToSign({
    method: req.method,
    contentMd5: firstHeader(req, 'content-md5') ?? '',
    contentType: firstHeader(req, 'content-type') ?? '',
    date,
    amzHeaders: canonicalAmzHeaders(req.headers),
    resource: canonicalResource(req.rawPath, req.rawQuery, req.virtualBucket),
  });
  if (!signaturesEqual(sigv2Sign(cred.secretKey, toSign), signature)) {
    throw new S3Error('SignatureDoesNotMatch', undefined, {
      AWSAccessKeyId: accessKeyId,
      StringToSign: toSign,
      SignatureProvided: signature,
    });
  }
  return {
    principal: { accessKeyId: cred.accessKeyId, ownerId: cred.ownerId, displayName: cred.displayName },
    payload: payloadOf(req),
  };
}

export function verifySigV2Header(
  req: AuthRequest,
  authorization: string,
  lookup: CredentialLookup,
  opts: AuthOptions,
): AuthResult {
  const m = /^AWS\s+([^:\s]+):(\S+)\s*$/.exec(authorization);
  if (!m)
    throw new S3Error('InvalidArgument', 'AWS authorization header is invalid.  Expected AwsAccessKeyId:signature', {
      ArgumentName: 'Authorization',
      ArgumentValue: authorization,
    });
  // With x-amz-date, the Date line of the string to sign is empty and x-amz-date (an
  // x-amz-* header) is signed instead.
  const amzDate = firstHeader(req, 'x-amz-date');
  const dateHeader = firstHeader(req, 'date');
  const when = Date.parse(amzDate ?? dateHeader ?? '');
  if (Number.isNaN(when))
    throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  const maxSkew = opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  if (Math.abs(opts.now - when) > maxSkew) {
    throw new S3Error('RequestTimeTooSkewed', undefined, {
      RequestTime: amzDate ?? dateHeader ?? '',
      ServerTime: isoSeconds(opts.now),
      MaxAllowedSkewMilliseconds: String(maxSkew),
    });
  }
  return check(req, lookup, m[1]!, m[2]!, amzDate !== undefined ? '' : (dateHeader ?? ''));
}

export function verifySigV2Query(
  req: AuthRequest,
  query: readonly QueryParam[],
  lookup: CredentialLookup,
  opts: AuthOptions,
): AuthResult {
  const get = (n: string) => query.find((p) => p.name === n)?.value;
  const accessKeyId = get('AWSAccessKeyId') ?? '';
  const signature = get('Signature') ?? '';
  const expires = get('Expires') ?? '';
  if (!/^\d{1,12}$/.test(expires)) {
    throw new S3Error(
      'AccessDenied',
      'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters',
    );
  }
  if (Number(expires) * 1000 < opts.now) {
    throw new S3Error('AccessDenied', 'Request has expired', {
      Expires: isoSeconds(Number(expires) * 1000),
      ServerTime: isoSeconds(opts.now),
    });
  }
  return check(req, lookup, accessKeyId, signature, expires);
}
