// A small, independent SigV4 signer for tests (it shares no code with lib/auth, so the two
// check each other; test/unit/sigv4.test.ts checks this one against @smithy/signature-v4).
// It signs the URL's path as written (already encoded), like the AWS SDKs do for S3.
import { createHash, createHmac } from 'node:crypto';

export type ChunkedMode = 'signed' | 'signed-trailer' | 'unsigned-trailer';

export interface SignOptions {
  method: string;
  /** Absolute URL; its path and query are used as written. */
  url: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** x-amz-content-sha256; default: the hex SHA-256 of the body. */
  payloadHash?: string;
  accessKey: string;
  secretKey: string;
  region: string;
  date?: Date;
  /** Header names to sign; default: every header (host, x-amz-date, x-amz-content-sha256 included). */
  signedHeaders?: string[];
}

export interface SigningDetails {
  signature: string;
  signingKey: Buffer;
  timestamp: string;
  scope: string;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding of a string's UTF-8 bytes, unreserved characters kept. */
export function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function amzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

export function signingKeyFor(secretKey: string, day: string, region: string): Buffer {
  return hmac(hmac(hmac(hmac('AWS4' + secretKey, day), region), 's3'), 'aws4_request');
}

function canonicalQueryOf(search: string, skip?: string): string {
  const pairs = search
    .replace(/^\?/, '')
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      const [n, v] = eq < 0 ? [p, ''] : [p.slice(0, eq), p.slice(eq + 1)];
      const dec = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
      return [rfc3986(dec(n)), rfc3986(dec(v))] as const;
    })
    .filter(([n]) => n !== skip);
  pairs.sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) : a[0] < b[0] ? -1 : 1));
  return pairs.map(([n, v]) => `${n}=${v}`).join('&');
}

/** Host, path and query of an absolute URL exactly as written (no dot-segment removal). */
function splitUrl(url: string): { host: string; path: string; search: string } {
  const m = /^[a-z]+:\/\/([^/?#]*)([^?#]*)(\?[^#]*)?/i.exec(url);
  if (!m) throw new Error(`not an absolute URL: ${url}`);
  return { host: m[1]!, path: m[2] || '/', search: m[3] ?? '' };
}

function sign(
  method: string,
  url: { path: string; search: string },
  headers: Record<string, string>,
  signed: string[],
  payloadHash: string,
  o: { secretKey: string; region: string },
  timestamp: string,
  skipQuery?: string,
) {
  const scope = `${timestamp.slice(0, 8)}/${o.region}/s3/aws4_request`;
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const names = signed.map((h) => h.toLowerCase()).sort();
  const canonicalHeaders = names.map((n) => `${n}:${(lower[n] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonical = [
    method,
    url.path,
    canonicalQueryOf(url.search, skipQuery),
    canonicalHeaders,
    names.join(';'),
    payloadHash,
  ].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', timestamp, scope, sha256(canonical)].join('\n');
  const signingKey = signingKeyFor(o.secretKey, timestamp.slice(0, 8), o.region);
  return { signature: createHmac('sha256', signingKey).update(toSign).digest('hex'), signingKey, scope, names };
}

/** Returns the headers to send: the given ones plus host, x-amz-date, x-amz-content-sha256, authorization. */
export function signRequest(o: SignOptions): Record<string, string> {
  return signRequestDetailed(o).headers;
}

export function signRequestDetailed(o: SignOptions): { headers: Record<string, string>; details: SigningDetails } {
  const url = splitUrl(o.url);
  const timestamp = amzDate(o.date ?? new Date());
  const payloadHash = o.payloadHash ?? sha256(o.body ?? '');
  const headers: Record<string, string> = {
    host: url.host,
    ...o.headers,
    'x-amz-date': timestamp,
    'x-amz-content-sha256': payloadHash,
  };
  const { signature, signingKey, scope, names } = sign(
    o.method,
    url,
    headers,
    o.signedHeaders ?? Object.keys(headers),
    payloadHash,
    o,
    timestamp,
  );
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${o.accessKey}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
  return { headers, details: { signature, signingKey, timestamp, scope } };
}

export interface PresignOptions {
  method: string;
  url: string;
  accessKey: string;
  secretKey: string;
  region: string;
  date?: Date;
  expires?: number;
  /** Headers the client will send and that are signed (host is always signed). */
  headers?: Record<string, string>;
}

/** Returns the presigned URL. */
export function presignUrl(o: PresignOptions): string {
  const url = splitUrl(o.url);
  const timestamp = amzDate(o.date ?? new Date());
  const headers: Record<string, string> = { host: url.host, ...o.headers };
  const names = Object.keys(headers)
    .map((h) => h.toLowerCase())
    .sort();
  const extra = [
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', `${o.accessKey}/${timestamp.slice(0, 8)}/${o.region}/s3/aws4_request`],
    ['X-Amz-Date', timestamp],
    ['X-Amz-Expires', String(o.expires ?? 3600)],
    ['X-Amz-SignedHeaders', names.join(';')],
  ];
  url.search = (url.search ? url.search + '&' : '?') + extra.map(([n, v]) => `${n}=${rfc3986(v!)}`).join('&');
  // As smithy does: a hash given as X-Amz-Content-Sha256 is the payload hash signed.
  const payloadHash = new URLSearchParams(url.search).get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD';
  const { signature } = sign(o.method, url, headers, names, payloadHash, o, timestamp, 'X-Amz-Signature');
  return o.url.replace(/[?#].*$/, '') + `${url.search}&X-Amz-Signature=${signature}`;
}

export interface ChunkedBodyOptions {
  mode: ChunkedMode;
  data: Buffer;
  /** Payload bytes per chunk (the last one may be shorter). */
  chunkSize: number;
  /** Needed for the signed modes. */
  signing?: SigningDetails;
  /** A trailing header, e.g. ['x-amz-checksum-crc32', 'base64']. */
  trailer?: [string, string];
  /** Break things: flip a character of chunk i's signature, of the trailer signature, or replace the trailer value. */
  corrupt?: { chunkSignature?: number; trailerSignature?: boolean; trailerValue?: string };
}

function flip(sig: string): string {
  return (sig[0] === '0' ? '1' : '0') + sig.slice(1);
}

/** Encodes `data` as an aws-chunked body in the given mode. */
export function buildChunkedBody(o: ChunkedBodyOptions): Buffer {
  const parts: Buffer[] = [];
  const s = o.signing;
  const signed = o.mode !== 'unsigned-trailer';
  if (signed && !s) throw new Error('signed modes need signing details');
  let previous = s?.signature ?? '';
  const chunks: Buffer[] = [];
  for (let off = 0; off < o.data.length; off += o.chunkSize) chunks.push(o.data.subarray(off, off + o.chunkSize));
  chunks.push(Buffer.alloc(0));
  chunks.forEach((chunk, i) => {
    let header = chunk.length.toString(16);
    if (signed) {
      const toSign = ['AWS4-HMAC-SHA256-PAYLOAD', s!.timestamp, s!.scope, previous, sha256(''), sha256(chunk)].join(
        '\n',
      );
      previous = createHmac('sha256', s!.signingKey).update(toSign).digest('hex');
      header += ';chunk-signature=' + (o.corrupt?.chunkSignature === i ? flip(previous) : previous);
    }
    parts.push(Buffer.from(header + '\r\n'), chunk);
    if (chunk.length > 0) parts.push(Buffer.from('\r\n'));
  });
  if (o.trailer) {
    const [name, value] = o.trailer;
    parts.push(Buffer.from(`${name}:${o.corrupt?.trailerValue ?? value}\r\n`));
    if (o.mode === 'signed-trailer') {
      const toSign = ['AWS4-HMAC-SHA256-TRAILER', s!.timestamp, s!.scope, previous, sha256(`${name}:${value}\n`)].join(
        '\n',
      );
      const sig = createHmac('sha256', s!.signingKey).update(toSign).digest('hex');
      parts.push(Buffer.from(`x-amz-trailer-signature:${o.corrupt?.trailerSignature ? flip(sig) : sig}\r\n`));
    }
  }
  parts.push(Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

const STREAMING_HASH: Record<ChunkedMode, string> = {
  signed: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'signed-trailer': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
  'unsigned-trailer': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
};

/** A complete aws-chunked upload: signed headers and the encoded body. */
export function signChunkedUpload(o: Omit<SignOptions, 'body' | 'payloadHash'> & Omit<ChunkedBodyOptions, 'signing'>): {
  headers: Record<string, string>;
  body: Buffer;
} {
  const headers: Record<string, string> = {
    ...o.headers,
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': String(o.data.length),
  };
  if (o.trailer) headers['x-amz-trailer'] = o.trailer[0];
  // The body length depends only on the chunk sizes, so it can be signed before the body exists.
  const probe = buildChunkedBody({
    ...o,
    signing: { signature: '0'.repeat(64), signingKey: Buffer.alloc(32), timestamp: '', scope: '' },
  });
  headers['content-length'] = String(probe.length);
  const signedReq = signRequestDetailed({ ...o, headers, payloadHash: STREAMING_HASH[o.mode] });
  return { headers: signedReq.headers, body: buildChunkedBody({ ...o, signing: signedReq.details }) };
}
