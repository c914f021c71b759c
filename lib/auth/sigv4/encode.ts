// URI encoding for the canonical request: RFC 3986 with only the unreserved characters
// (A-Z a-z 0-9 - _ . ~) left alone, and upper-case hex for everything else.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#create-canonical-request
//
// S3 signs the path as the client sent it, without normalization and without a second round
// of encoding (the AWS SDKs sign S3 with `uriEscapePath: false`). Clients differ in which
// characters they bother to escape, so we decode each segment to bytes and re-encode it; for
// a client that encodes canonically (all AWS SDKs) this is the identity.

const UNRESERVED_RE = /^[A-Za-z0-9\-_.~]*$/;
const UNRESERVED_PATH_RE = /^[A-Za-z0-9\-_.~/]*$/;

const ENCODED: string[] = [];
for (let b = 0; b < 256; b++) {
  const c = String.fromCharCode(b);
  ENCODED.push(UNRESERVED_RE.test(c) ? c : '%' + b.toString(16).toUpperCase().padStart(2, '0'));
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 70) return code - 55;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

/**
 * Percent-decodes `s` into raw bytes. Invalid escapes (`%zz`, a trailing `%`) are kept as
 * literal characters rather than rejected, so they re-encode as `%25...`. With `plusAsSpace`
 * a literal '+' means a space, as in application/x-www-form-urlencoded query strings.
 */
export function percentDecode(s: string, plusAsSpace = false): Buffer {
  if (!s.includes('%') && !(plusAsSpace && s.includes('+'))) return Buffer.from(s, 'utf8');
  const out: number[] = [];
  let literalStart = 0;
  const flushLiteral = (end: number) => {
    if (end > literalStart) for (const b of Buffer.from(s.slice(literalStart, end), 'utf8')) out.push(b);
  };
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 /* % */ && i + 2 < s.length) {
      const hi = hexValue(s.charCodeAt(i + 1));
      const lo = hexValue(s.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        flushLiteral(i);
        out.push(hi * 16 + lo);
        i += 2;
        literalStart = i + 1;
      }
    } else if (c === 43 /* + */ && plusAsSpace) {
      flushLiteral(i);
      out.push(0x20);
      literalStart = i + 1;
    }
  }
  flushLiteral(s.length);
  return Buffer.from(out);
}

/** Encodes bytes (or a string as UTF-8) leaving only unreserved characters as they are. */
export function uriEncode(input: string | Uint8Array): string {
  if (typeof input === 'string') {
    if (UNRESERVED_RE.test(input)) return input;
    input = Buffer.from(input, 'utf8');
  }
  let out = '';
  for (let i = 0; i < input.length; i++) out += ENCODED[input[i]!];
  return out;
}

/** The canonical URI of a raw (still encoded) request path; '/' separators stay as they are. */
export function canonicalUri(rawPath: string): string {
  if (rawPath === '') return '/';
  if (UNRESERVED_PATH_RE.test(rawPath)) return rawPath;
  return rawPath
    .split('/')
    .map((segment) => uriEncode(percentDecode(segment)))
    .join('/');
}

/** One decoded query parameter, as the server understands it. */
export interface QueryParam {
  name: string;
  value: string;
}

function splitQuery(rawQuery: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    pairs.push(eq < 0 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)]);
  }
  return pairs;
}

/** Decodes a raw query string ('+' is a space), keeping repeated names and their order. */
export function parseQuery(rawQuery: string): QueryParam[] {
  return splitQuery(rawQuery).map(([n, v]) => ({
    name: percentDecode(n, true).toString('utf8'),
    value: percentDecode(v, true).toString('utf8'),
  }));
}

/**
 * The canonical query string: every name and value decoded and re-encoded, sorted by
 * encoded name and then encoded value (code-point order), `name=` for valueless
 * parameters. `exclude` drops a parameter by its decoded name (X-Amz-Signature).
 */
export function canonicalQuery(rawQuery: string, exclude?: string): string {
  if (rawQuery === '') return '';
  const encoded: Array<[string, string]> = [];
  for (const [n, v] of splitQuery(rawQuery)) {
    const nameBytes = percentDecode(n, true);
    if (exclude !== undefined && nameBytes.toString('latin1') === exclude) continue;
    encoded.push([uriEncode(nameBytes), uriEncode(percentDecode(v, true))]);
  }
  encoded.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  let out = '';
  for (let i = 0; i < encoded.length; i++) out += (i ? '&' : '') + encoded[i]![0] + '=' + encoded[i]![1];
  return out;
}
