// PUT, GET and HEAD of small objects over the raw client. GET and HEAD requests are signed once
// per key and replayed (a SigV4 signature stays valid for 15 minutes); PUT requests carry the
// real body SHA-256, computed once, and are signed per key, which costs the client a few µs.
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
import { Histogram } from './histogram.ts';
import { targetOf } from './http.ts';
import type { Payload } from './payload.ts';
import type { RawClient, RawResponse } from './raw.ts';
import { S3Failure, xmlField } from './s3.ts';
import { EMPTY_SHA256, type Signer } from './sigv4.ts';

export class RawS3 {
  readonly #client: RawClient;
  readonly #signer: Signer;
  readonly #host: string;
  readonly #pathStyle: boolean;
  readonly #presigned = new Map<string, string>();
  /** Time to first byte of every successful operation since the last reset. */
  ttfb = new Histogram();

  constructor(client: RawClient, signer: Signer, endpoint: URL, pathStyle: boolean) {
    this.#client = client;
    this.#signer = signer;
    this.#host = endpoint.host;
    this.#pathStyle = pathStyle;
  }

  /** The request head, signed now. */
  requestHead(method: string, bucket: string, key: string, payloadHash: string, contentLength?: number): string {
    const { host, path } = targetOf(this.#host, this.#pathStyle, bucket, key);
    const h = this.#signer.sign(method, path, '', host, payloadHash);
    return (
      `${method} ${path} HTTP/1.1\r\nhost: ${host}\r\nauthorization: ${h.authorization}\r\n` +
      `x-amz-date: ${h['x-amz-date']}\r\nx-amz-content-sha256: ${payloadHash}\r\n` +
      (contentLength !== undefined ? `content-length: ${contentLength}\r\n` : '') +
      '\r\n'
    );
  }

  /** Signs the GET and HEAD of these keys now, outside any timing. */
  presign(bucket: string, keys: readonly string[]): void {
    for (const k of keys)
      for (const m of ['GET', 'HEAD'])
        this.#presigned.set(`${m} ${bucket}/${k}`, this.requestHead(m, bucket, k, EMPTY_SHA256));
  }

  #check(res: RawResponse, what: string): RawResponse {
    if (res.status >= 200 && res.status < 300) {
      this.ttfb.recordMs(res.ttfbMs);
      return res;
    }
    const code = (res.body && xmlField(res.body.toString('utf8'), 'Code')) ?? (res.status === 404 ? 'NotFound' : '');
    throw new S3Failure(what, res.status, code);
  }

  async put(bucket: string, key: string, payload: Payload & { readonly buf?: Buffer }): Promise<number> {
    const head = this.requestHead('PUT', bucket, key, payload.sha256(), payload.size);
    this.#check(await this.#client.send(head, payload.buf, false), 'PutObject');
    return payload.size;
  }

  async get(bucket: string, key: string, expectSize: number): Promise<number> {
    const head = this.#presigned.get(`GET ${bucket}/${key}`) ?? this.requestHead('GET', bucket, key, EMPTY_SHA256);
    const res = this.#check(await this.#client.send(head, undefined, false), 'GetObject');
    if (res.bytes !== expectSize)
      throw new S3Failure('GetObject', res.status, 'ShortBody', `${res.bytes} of ${expectSize} bytes`);
    return res.bytes;
  }

  async head(bucket: string, key: string): Promise<number> {
    const head = this.#presigned.get(`HEAD ${bucket}/${key}`) ?? this.requestHead('HEAD', bucket, key, EMPTY_SHA256);
    this.#check(await this.#client.send(head, undefined, true), 'HeadObject');
    return 0;
  }

  close(): void {
    this.#client.close();
  }
}
