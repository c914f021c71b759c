// The canonical request and the string to sign.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
import type { AuthRequest } from '../types.ts';
import { hmacHex, sha256Hex, signaturesEqual } from './crypto.ts';
import { canonicalUri } from './encode.ts';

export const ALGORITHM = 'AWS4-HMAC-SHA256';

/** Trims a header value and collapses each run of spaces or tabs into one space. */
export function normalizeHeaderValue(value: string): string {
  return value.replace(/[ \t]+/g, ' ').replace(/^ | $/g, '');
}

/**
 * Every value the request carried for `name` (lower case), in order. Node's `headers` joins
 * repeats with ', ' (and drops repeats of a few headers), while SigV4 joins them with ',',
 * so the raw header list is preferred when the caller supplies it.
 */
export function headerValues(req: AuthRequest, name: string): string[] {
  const raw = req.rawHeaders;
  if (raw) {
    const values: string[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      if (raw[i]!.length === name.length && raw[i]!.toLowerCase() === name) values.push(raw[i + 1]!);
    }
    return values;
  }
  const v = req.headers[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** The first value of a header, or undefined. */
export function firstHeader(req: AuthRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `name:value\n` for each signed header, in the order the client listed them. */
export function canonicalHeaders(req: AuthRequest, signedHeaders: readonly string[]): string {
  let out = '';
  for (const name of signedHeaders) {
    out += name + ':' + headerValues(req, name).map(normalizeHeaderValue).join(',') + '\n';
  }
  return out;
}

export interface CanonicalParts {
  method: string;
  uri: string;
  query: string;
  headers: string;
  signedHeaders: string;
  payloadHash: string;
}

export function canonicalRequest(p: CanonicalParts): string {
  return `${p.method}\n${p.uri}\n${p.query}\n${p.headers}\n${p.signedHeaders}\n${p.payloadHash}`;
}

export function stringToSign(timestamp: string, scope: string, canonical: string): string {
  return `${ALGORITHM}\n${timestamp}\n${scope}\n${sha256Hex(canonical)}`;
}

export interface SignatureCheck {
  ok: boolean;
  /** The signature the request should carry (of the first candidate path when none matched). */
  expected: string;
  canonical: string;
  toSign: string;
}

/**
 * Checks `provided` against the canonical request built with the normalized path (each
 * segment decoded and re-encoded, what the AWS SDKs sign) and, failing that, with the raw
 * path exactly as sent (what hand-made clients such as curl sign). Both decode to the same
 * key, so accepting either lets no request reach another resource.
 */
export function checkSignature(
  parts: Omit<CanonicalParts, 'uri'>,
  rawPath: string,
  timestamp: string,
  scope: string,
  key: Buffer,
  provided: string,
): SignatureCheck {
  const normalized = canonicalUri(rawPath);
  let first: SignatureCheck | undefined;
  for (const uri of normalized === rawPath || rawPath === '' ? [normalized] : [normalized, rawPath]) {
    const canonical = canonicalRequest({ ...parts, uri });
    const toSign = stringToSign(timestamp, scope, canonical);
    const expected = hmacHex(key, toSign);
    const check = { ok: signaturesEqual(expected, provided), expected, canonical, toSign };
    if (check.ok) return check;
    first ??= check;
  }
  return first!;
}

/**
 * Headers that were sent but not signed and must have been: `host` and every `x-amz-*`
 * header. AWS answers AccessDenied with a HeadersNotSigned element listing them.
 */
export function unsignedRequiredHeaders(req: AuthRequest, signed: ReadonlySet<string>): string[] {
  const missing: string[] = [];
  if (!signed.has('host')) missing.push('host');
  for (const name of Object.keys(req.headers)) {
    if (name.startsWith('x-amz-') && !signed.has(name) && req.headers[name] !== undefined) missing.push(name);
  }
  return missing;
}
