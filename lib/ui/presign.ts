// Presigned GET URLs for the console's share and download buttons, signed here with the
// session key's current secret (the secret never reaches the browser).
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
import { ALGORITHM, canonicalRequest, stringToSign } from '../auth/sigv4/canonical.ts';
import { hmacHex } from '../auth/sigv4/crypto.ts';
import { canonicalQuery, uriEncode } from '../auth/sigv4/encode.ts';
import { UNSIGNED_PAYLOAD } from '../auth/sigv4/payload.ts';
import { formatAmzDate } from '../auth/sigv4/scope.ts';
import { signingKey } from '../auth/sigv4/signing-key.ts';

export interface PresignInput {
  accessKeyId: string;
  secretKey: string;
  region: string;
  /** The Host header the URL will be fetched with (the one this request came with). */
  host: string;
  bucket: string;
  key: string;
  expiresSeconds: number;
  /** Adds response-content-disposition=attachment with this file name. */
  attachmentName?: string;
  now?: number;
}

/**
 * The object's path as the URL carries it. Slashes stay, except in a key with a "." or ".."
 * segment: a browser would resolve those away (WHATWG URL), so then every "/" is %2F.
 */
export function objectPath(bucket: string, key: string): string {
  const segments = key.split('/');
  const dots = segments.some((s) => s === '.' || s === '..');
  return `/${uriEncode(bucket)}/${dots ? uriEncode(key) : segments.map((s) => uriEncode(s)).join('/')}`;
}

/** The path and query of a presigned GET; the caller puts its own origin in front. */
export function presignGet(p: PresignInput): { path: string; query: string } {
  const amzDate = formatAmzDate(p.now ?? Date.now());
  const scope = `${amzDate.slice(0, 8)}/${p.region}/s3/aws4_request`;
  const params: Array<[string, string]> = [
    ['X-Amz-Algorithm', ALGORITHM],
    ['X-Amz-Credential', `${p.accessKeyId}/${scope}`],
    ['X-Amz-Date', amzDate],
    ['X-Amz-Expires', String(p.expiresSeconds)],
    ['X-Amz-SignedHeaders', 'host'],
  ];
  if (p.attachmentName !== undefined) {
    // RFC 6266 with an RFC 8187 UTF-8 name, and a plain ASCII fallback.
    const ascii = p.attachmentName.replace(/[^\x20-\x7e]|["\\]/g, '_');
    params.push([
      'response-content-disposition',
      `attachment; filename="${ascii}"; filename*=UTF-8''${uriEncode(p.attachmentName)}`,
    ]);
  }
  const query = canonicalQuery(params.map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join('&'));
  const path = objectPath(p.bucket, p.key);
  const canonical = canonicalRequest({
    method: 'GET',
    uri: path,
    query,
    headers: `host:${p.host}\n`,
    signedHeaders: 'host',
    payloadHash: UNSIGNED_PAYLOAD,
  });
  const key = signingKey(p.accessKeyId, p.secretKey, amzDate.slice(0, 8), p.region);
  const signature = hmacHex(key, stringToSign(amzDate, scope, canonical));
  return { path, query: `${query}&X-Amz-Signature=${signature}` };
}
