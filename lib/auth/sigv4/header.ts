// Authentication with the Authorization header.
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-auth-using-authorization-header.html
import { S3Error } from '../../s3/errors.ts';
import type { AuthOptions, AuthRequest, AuthResult, CredentialLookup } from '../types.ts';
import { canonicalHeaders, checkSignature, firstHeader, unsignedRequiredHeaders } from './canonical.ts';
import { canonicalQuery } from './encode.ts';
import { classifyContentSha256, simplePayloadMode } from './payload.ts';
import { checkScope, formatAmzDate, isoSeconds, parseAmzDate, parseCredential, type CredentialScope } from './scope.ts';
import { signingKey } from './signing-key.ts';
import { EMPTY_SHA256 } from './crypto.ts';

export const DEFAULT_MAX_SKEW_MS = 15 * 60 * 1000;

export interface ParsedAuthorization {
  credential: CredentialScope;
  /** Lower-case header names, in the order given. */
  signedHeaders: string[];
  /** The SignedHeaders value exactly as sent (it goes into the canonical request verbatim). */
  signedHeadersRaw: string;
  signature: string;
}

function malformed(detail: string, extra: Record<string, string> = {}): S3Error {
  return new S3Error('AuthorizationHeaderMalformed', `The authorization header is malformed; ${detail}`, extra);
}

/** Parses `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`. */
export function parseAuthorization(value: string): ParsedAuthorization {
  const m = /^AWS4-HMAC-SHA256[ \t]+(.*)$/s.exec(value.trim());
  if (!m)
    throw malformed('the authorization header requires three components: Credential, SignedHeaders, and Signature.');
  const fields = new Map<string, string>();
  for (const part of m[1]!.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    const name = eq < 0 ? item : item.slice(0, eq).trim();
    if (eq < 0 || fields.has(name)) throw malformed(`the authorization component "${item}" is malformed.`);
    fields.set(name, item.slice(eq + 1).trim());
  }
  const credentialValue = fields.get('Credential');
  const signedHeadersRaw = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credentialValue === undefined) throw malformed('missing Credential.');
  if (signedHeadersRaw === undefined || signedHeadersRaw === '') throw malformed('missing SignedHeaders.');
  if (signature === undefined || signature === '') throw malformed('missing Signature.');
  const credential = parseCredential(credentialValue);
  if (!credential)
    throw malformed('the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".');
  const signedHeaders = signedHeadersRaw.split(';').map((h) => h.toLowerCase());
  if (signedHeaders.some((h) => h === ''))
    throw malformed(`the SignedHeaders value "${signedHeadersRaw}" is malformed.`);
  return { credential, signedHeaders, signedHeadersRaw, signature };
}

function checkCredentialScope(c: CredentialScope, region: string): void {
  const problem = checkScope(c, region);
  if (!problem) return;
  switch (problem.kind) {
    case 'date':
      throw malformed(
        `incorrect date format "${problem.value}". This date in the credential must be in the format "yyyyMMdd".`,
      );
    case 'region':
      // AWS names the right region in the message and a Region element; SDKs use it to retry.
      throw malformed(`the region '${problem.value}' is wrong; expecting '${region}'`, { Region: region });
    case 'service':
      throw malformed(`incorrect service "${problem.value}". This endpoint belongs to "s3".`);
    case 'terminal':
      throw malformed(`incorrect terminal "${problem.value}". This endpoint uses "aws4_request".`);
  }
}

/** The request time from x-amz-date, or else the Date header, as `yyyyMMddTHHmmssZ`. */
function requestTimestamp(req: AuthRequest): { timestamp: string; ms: number } {
  const amzDate = firstHeader(req, 'x-amz-date');
  if (amzDate !== undefined) {
    const ms = parseAmzDate(amzDate);
    if (ms !== undefined) return { timestamp: amzDate, ms };
  } else {
    const date = firstHeader(req, 'date');
    const ms = date === undefined ? NaN : Date.parse(date);
    if (!Number.isNaN(ms)) return { timestamp: formatAmzDate(ms), ms };
  }
  throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
}

export function verifyHeaderAuth(
  req: AuthRequest,
  authorization: string,
  lookup: CredentialLookup,
  opts: AuthOptions,
): AuthResult {
  const auth = parseAuthorization(authorization);
  const { credential } = auth;
  checkCredentialScope(credential, opts.region);
  const { timestamp, ms } = requestTimestamp(req);
  if (credential.date !== timestamp.slice(0, 8)) {
    throw malformed('Invalid credential date. Date is not the same as X-Amz-Date.');
  }

  // Older SDKs and generic SigV4 signers send no x-amz-content-sha256 but sign the body's
  // SHA-256 all the same: without a body that is the empty hash; with one, the signature is
  // checked when the body has been read, where the operation allows it.
  const sentSha256 = firstHeader(req, 'x-amz-content-sha256');
  const hasBody =
    !/^0?$/.test(firstHeader(req, 'content-length') ?? '') || firstHeader(req, 'transfer-encoding') !== undefined;
  if (sentSha256 === undefined && hasBody && !opts.deferBodySignature) {
    throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  }
  const deferred = sentSha256 === undefined && hasBody;
  const contentSha256 = sentSha256 ?? EMPTY_SHA256;
  const kind = classifyContentSha256(contentSha256);

  const notSigned = unsignedRequiredHeaders(req, new Set(auth.signedHeaders));
  if (notSigned.length > 0) {
    throw new S3Error('AccessDenied', 'There were headers present in the request which were not signed', {
      HeadersNotSigned: notSigned.join(', '),
    });
  }

  const cred = lookup(credential.accessKeyId);
  if (!cred) throw new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: credential.accessKeyId });

  const maxSkew = opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  if (Math.abs(opts.now - ms) > maxSkew) {
    throw new S3Error('RequestTimeTooSkewed', undefined, {
      RequestTime: timestamp,
      ServerTime: isoSeconds(opts.now),
      MaxAllowedSkewMilliseconds: String(maxSkew),
    });
  }

  const key = signingKey(cred.accessKeyId, cred.secretKey, credential.date, credential.region);
  const parts = {
    method: req.method,
    query: canonicalQuery(req.rawQuery),
    headers: canonicalHeaders(req, auth.signedHeaders),
    signedHeaders: auth.signedHeadersRaw,
    payloadHash: contentSha256,
  };
  const verify = (payloadHash: string) => {
    const check = checkSignature(
      { ...parts, payloadHash },
      req.rawPath,
      timestamp,
      credential.scope,
      key,
      auth.signature,
    );
    if (!check.ok) {
      throw new S3Error('SignatureDoesNotMatch', undefined, {
        AWSAccessKeyId: credential.accessKeyId,
        StringToSign: check.toSign,
        SignatureProvided: auth.signature,
        CanonicalRequest: check.canonical,
      });
    }
    return check;
  };
  const principal = { accessKeyId: cred.accessKeyId, ownerId: cred.ownerId, displayName: cred.displayName };
  if (deferred) return { principal, payload: { kind: 'signature-sha256', verify: (hex) => void verify(hex) } };
  const check = verify(contentSha256);

  if (kind === 'streaming-signed' || kind === 'streaming-signed-trailer') {
    return {
      principal,
      payload: {
        kind: 'streaming-signed',
        trailer: kind === 'streaming-signed-trailer',
        seedSignature: check.expected,
        signingKey: key,
        timestamp,
        scope: credential.scope,
      },
    };
  }
  return { principal, payload: simplePayloadMode(kind, contentSha256) };
}
