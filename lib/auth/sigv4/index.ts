// Decides how a request authenticates (Authorization header, presigned query, or not at
// all), verifies it, and says how its body must be read.
import { S3Error } from '../../s3/errors.ts';
import type { AuthOptions, AuthRequest, AuthResult, CredentialLookup } from '../types.ts';
import { firstHeader } from './canonical.ts';
import { parseQuery } from './encode.ts';
import { verifyHeaderAuth } from './header.ts';
import { classifyContentSha256, simplePayloadMode } from './payload.ts';
import { verifyPresigned } from './presigned.ts';
import { verifySigV2Header, verifySigV2Query } from '../sigv2/verify.ts';

const UNSUPPORTED_MECHANISM =
  'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.';

/**
 * Authenticates a request without touching its body. Throws S3Error on any failure;
 * returns the principal (null when anonymous) and the PayloadMode the body reader must
 * enforce.
 */
export function authenticate(req: AuthRequest, lookup: CredentialLookup, opts: AuthOptions): AuthResult {
  const authorization = firstHeader(req, 'authorization');
  const query = req.rawQuery === '' ? [] : parseQuery(req.rawQuery);
  const presigned = query.some((p) => p.name === 'X-Amz-Algorithm');
  const sigV2Query = query.some((p) => p.name === 'AWSAccessKeyId') && query.some((p) => p.name === 'Signature');

  if (authorization !== undefined && (presigned || sigV2Query)) {
    // AWS's answer when a request carries both kinds of authentication.
    throw new S3Error(
      'InvalidArgument',
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
      { ArgumentName: 'Authorization' },
    );
  }
  if (authorization !== undefined) {
    if (/^AWS4-HMAC-SHA256(\s|$)/.test(authorization)) return verifyHeaderAuth(req, authorization, lookup, opts);
    if (opts.sigv2 && /^AWS\s/.test(authorization)) return verifySigV2Header(req, authorization, lookup, opts);
    // SigV4A is a real S3 scheme that we do not offer (nor SigV2 when switched off).
    if (/^(AWS|AWS4-ECDSA-P256-SHA256)\s/.test(authorization))
      throw new S3Error('InvalidRequest', UNSUPPORTED_MECHANISM);
    throw new S3Error('InvalidArgument', 'Unsupported Authorization Type', {
      ArgumentName: 'Authorization',
      ArgumentValue: authorization.split(/\s/, 1)[0] ?? '',
    });
  }
  if (presigned) return verifyPresigned(req, query, lookup, opts);
  if (sigV2Query && opts.sigv2) return verifySigV2Query(req, query, lookup, opts);
  if (sigV2Query) throw new S3Error('InvalidRequest', UNSUPPORTED_MECHANISM);

  const contentSha256 = firstHeader(req, 'x-amz-content-sha256');
  if (contentSha256 === undefined) return { principal: null, payload: { kind: 'unsigned' } };
  return { principal: null, payload: simplePayloadMode(classifyContentSha256(contentSha256), contentSha256) };
}
