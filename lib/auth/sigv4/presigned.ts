// Authentication with query parameters (presigned URLs).
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
import { S3Error } from '../../s3/errors.ts';
import type { AuthOptions, AuthRequest, AuthResult, CredentialLookup, PayloadMode } from '../types.ts';
import { ALGORITHM, canonicalHeaders, checkSignature, firstHeader, unsignedRequiredHeaders } from './canonical.ts';
import { canonicalQuery, type QueryParam } from './encode.ts';
import { DEFAULT_MAX_SKEW_MS } from './header.ts';
import { UNSIGNED_PAYLOAD, classifyContentSha256, simplePayloadMode } from './payload.ts';
import { checkScope, isoSeconds, parseAmzDate, parseCredential } from './scope.ts';
import { signingKey } from './signing-key.ts';

export const MAX_EXPIRES_SECONDS = 7 * 24 * 60 * 60;

function queryError(message: string, extra: Record<string, string> = {}): S3Error {
  return new S3Error('AuthorizationQueryParametersError', message, extra);
}

function credentialError(detail: string, extra: Record<string, string> = {}): S3Error {
  return queryError(`Error parsing the X-Amz-Credential parameter; ${detail}`, extra);
}

const REQUIRED = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Signature',
  'X-Amz-Date',
  'X-Amz-SignedHeaders',
  'X-Amz-Expires',
];

function parseExpires(value: string): number {
  if (/^-\d+$/.test(value)) throw queryError('X-Amz-Expires must be non-negative');
  if (!/^\d+$/.test(value)) throw queryError('X-Amz-Expires should be a number');
  const seconds = Number(value);
  if (seconds > MAX_EXPIRES_SECONDS) {
    throw queryError(
      'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds',
    );
  }
  if (seconds < 1) throw queryError('X-Amz-Expires must be at least 1 second');
  return seconds;
}

/** The body's PayloadMode: X-Amz-Content-Sha256 in the query wins, else a (signed) header. */
function presignedPayload(params: Map<string, string>, req: AuthRequest): { hash: string; payload: PayloadMode } {
  const fromQuery = params.get('X-Amz-Content-Sha256');
  if (fromQuery !== undefined)
    return { hash: fromQuery, payload: simplePayloadMode(classifyContentSha256(fromQuery), fromQuery) };
  const fromHeader = firstHeader(req, 'x-amz-content-sha256');
  if (fromHeader !== undefined) {
    return { hash: UNSIGNED_PAYLOAD, payload: simplePayloadMode(classifyContentSha256(fromHeader), fromHeader) };
  }
  return { hash: UNSIGNED_PAYLOAD, payload: { kind: 'unsigned' } };
}

export function verifyPresigned(
  req: AuthRequest,
  query: readonly QueryParam[],
  lookup: CredentialLookup,
  opts: AuthOptions,
): AuthResult {
  const params = new Map<string, string>();
  for (const { name, value } of query) if (!params.has(name)) params.set(name, value);

  if (params.get('X-Amz-Algorithm') !== ALGORITHM) throw queryError(`X-Amz-Algorithm only supports "${ALGORITHM}"`);
  if (REQUIRED.some((name) => !params.get(name))) {
    throw queryError(
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, ' +
        'X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    );
  }
  const credential = parseCredential(params.get('X-Amz-Credential')!);
  if (!credential) {
    throw credentialError(
      'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
    );
  }
  const problem = checkScope(credential, opts.region);
  if (problem?.kind === 'date') {
    throw credentialError(
      `incorrect date format "${problem.value}". This date in the credential must be in the format "yyyyMMdd".`,
    );
  }
  if (problem?.kind === 'region') {
    throw credentialError(`the region '${problem.value}' is wrong; expecting '${opts.region}'`, {
      Region: opts.region,
    });
  }
  if (problem?.kind === 'service')
    throw credentialError(`incorrect service "${problem.value}". This endpoint belongs to "s3".`);
  if (problem?.kind === 'terminal')
    throw credentialError(`incorrect terminal "${problem.value}". This endpoint uses "aws4_request".`);

  const timestamp = params.get('X-Amz-Date')!;
  const signedAt = parseAmzDate(timestamp);
  if (signedAt === undefined) throw queryError(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`);
  if (credential.date !== timestamp.slice(0, 8)) {
    throw queryError(
      `Invalid credential date "${credential.date}". This date is not the same as X-Amz-Date: "${timestamp.slice(0, 8)}".`,
    );
  }
  const expires = parseExpires(params.get('X-Amz-Expires')!);

  const signedHeadersRaw = params.get('X-Amz-SignedHeaders')!;
  const signedHeaders = signedHeadersRaw.split(';').map((h) => h.toLowerCase());
  if (signedHeaders.some((h) => h === '')) throw queryError(`X-Amz-SignedHeaders "${signedHeadersRaw}" is malformed.`);
  const notSigned = unsignedRequiredHeaders(req, new Set(signedHeaders));
  if (notSigned.length > 0) {
    throw new S3Error('AccessDenied', 'There were headers present in the request which were not signed', {
      HeadersNotSigned: notSigned.join(', '),
    });
  }

  const cred = lookup(credential.accessKeyId);
  if (!cred) throw new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: credential.accessKeyId });

  const expiresAt = signedAt + expires * 1000;
  if (opts.now > expiresAt) {
    throw new S3Error('AccessDenied', 'Request has expired', {
      'X-Amz-Expires': String(expires),
      Expires: isoSeconds(expiresAt),
      ServerTime: isoSeconds(opts.now),
    });
  }
  if (signedAt - opts.now > (opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS)) {
    throw new S3Error('AccessDenied', 'Request is not valid yet');
  }

  const { hash, payload } = presignedPayload(params, req);
  const parts = {
    method: req.method,
    query: canonicalQuery(req.rawQuery, 'X-Amz-Signature'),
    headers: canonicalHeaders(req, signedHeaders),
    signedHeaders: signedHeadersRaw,
    payloadHash: hash,
  };
  const key = signingKey(cred.accessKeyId, cred.secretKey, credential.date, credential.region);
  const provided = params.get('X-Amz-Signature')!;
  const check = checkSignature(parts, req.rawPath, timestamp, credential.scope, key, provided);
  if (!check.ok) {
    throw new S3Error('SignatureDoesNotMatch', undefined, {
      AWSAccessKeyId: credential.accessKeyId,
      StringToSign: check.toSign,
      SignatureProvided: provided,
      CanonicalRequest: check.canonical,
    });
  }
  return {
    principal: { accessKeyId: cred.accessKeyId, ownerId: cred.ownerId, displayName: cred.displayName },
    payload,
  };
}
