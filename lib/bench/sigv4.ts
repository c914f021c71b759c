// A lean SigV4 header signer for the benchmark client, standalone so the bench can be pointed
// at any S3 server. It signs exactly host, x-amz-content-sha256 and x-amz-date, caches the
// signing key per day and the x-amz-date string per second.
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
import { createHmac, createSecretKey, hash, type KeyObject } from 'node:crypto';

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const SIGNED_HEADERS = 'host;x-amz-content-sha256;x-amz-date';

export interface SigningCredentials {
  accessKey: string;
  secretKey: string;
  region: string;
}

export interface SignedHeaders {
  authorization: string;
  'x-amz-date': string;
  'x-amz-content-sha256': string;
}

export const sha256hex = (data: Buffer | string): string => hash('sha256', data, 'hex');

const SAFE = /^[A-Za-z0-9\-._~]*$/;
const SAFE_PATH = /^[A-Za-z0-9\-._~/]*$/;

/** RFC 3986 percent-encoding as SigV4 wants it; `/` kept when encoding a path. */
export function uriEncode(s: string, keepSlash = false): string {
  if ((keepSlash ? SAFE_PATH : SAFE).test(s)) return s;
  const out = encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  return keepSlash ? out.replace(/%2F/g, '/') : out;
}

/** The canonical (sorted, encoded) query string; the same string goes on the wire. */
export function canonicalQuery(params: Record<string, string | number>): string {
  return Object.keys(params)
    .map((k) => [uriEncode(k), uriEncode(String(params[k]))] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

export class Signer {
  readonly #creds: SigningCredentials;
  #day = '';
  #key: KeyObject | undefined;
  #scope = '';
  #second = -1;
  #amzDate = '';

  constructor(creds: SigningCredentials) {
    this.#creds = creds;
  }

  #refresh(now: number): void {
    const second = Math.floor(now / 1000);
    if (second === this.#second) return;
    this.#second = second;
    const iso = new Date(second * 1000).toISOString(); // 2013-05-24T00:00:00.000Z
    this.#amzDate = iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 13) + iso.slice(14, 16) + iso.slice(17, 19) + 'Z';
    const day = this.#amzDate.slice(0, 8);
    if (day === this.#day) return;
    const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
    this.#day = day;
    // A KeyObject, not a Buffer: HMAC with a Buffer key costs ~5x more per call on Node 24.
    this.#key = createSecretKey(
      hmac(hmac(hmac(hmac('AWS4' + this.#creds.secretKey, day), this.#creds.region), 's3'), 'aws4_request'),
    );
    this.#scope = `${day}/${this.#creds.region}/s3/aws4_request`;
  }

  /** `path` and `query` must already be in canonical form (see uriEncode, canonicalQuery). */
  sign(
    method: string,
    path: string,
    query: string,
    host: string,
    payloadHash: string,
    now = Date.now(),
  ): SignedHeaders {
    this.#refresh(now);
    const amzDate = this.#amzDate;
    const canonical = `${method}\n${path}\n${query}\nhost:${host}\nx-amz-content-sha256:${payloadHash}\nx-amz-date:${amzDate}\n\n${SIGNED_HEADERS}\n${payloadHash}`;
    const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${this.#scope}\n${sha256hex(canonical)}`;
    const signature = createHmac('sha256', this.#key!).update(toSign).digest('hex');
    return {
      authorization: `AWS4-HMAC-SHA256 Credential=${this.#creds.accessKey}/${this.#scope},SignedHeaders=${SIGNED_HEADERS},Signature=${signature}`,
      'x-amz-date': amzDate,
      'x-amz-content-sha256': payloadHash,
    };
  }
}
