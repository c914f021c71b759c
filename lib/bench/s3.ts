// The S3 operations the workloads use, on top of the bench client. Each returns the bytes it
// moved or throws S3Failure; a failure knows whether it means "this server does not do that".
import { createHash } from 'node:crypto';
import type { BenchClient, S3Response } from './http.ts';
import { bufferPayload, type Payload } from './payload.ts';
import { canonicalQuery, UNSIGNED_PAYLOAD } from './sigv4.ts';

export class S3Failure extends Error {
  readonly status: number;
  readonly code: string;
  constructor(what: string, status: number, code: string, detail = '') {
    super(`${what}: HTTP ${status}${code ? ' ' + code : ''}${detail ? ' (' + detail + ')' : ''}`);
    this.status = status;
    this.code = code;
  }

  /** 501 NotImplemented / 405 MethodNotAllowed: the endpoint does not support the operation. */
  get unsupported(): boolean {
    return (
      this.status === 501 || this.status === 405 || this.code === 'NotImplemented' || this.code === 'MethodNotAllowed'
    );
  }
}

const unescapeXml = (s: string): string =>
  s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) =>
    e === 'lt'
      ? '<'
      : e === 'gt'
        ? '>'
        : e === 'amp'
          ? '&'
          : e === 'quot'
            ? '"'
            : e === 'apos'
              ? "'"
              : String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : Number(e.slice(1))),
  );

export function xmlField(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return m ? unescapeXml(m[1]!) : undefined;
}

function check(res: S3Response, what: string): S3Response {
  if (res.status >= 200 && res.status < 300) return res;
  const code = (res.body && xmlField(res.body.toString('utf8'), 'Code')) ?? (res.status === 404 ? 'NotFound' : '');
  throw new S3Failure(what, res.status, code);
}

export const notSupported = (err: unknown): boolean => err instanceof S3Failure && err.unsupported;

export async function createBucket(c: BenchClient, bucket: string): Promise<void> {
  const res = await c.send({ method: 'PUT', bucket });
  if (res.status === 409 && res.body && xmlField(res.body.toString(), 'Code') === 'BucketAlreadyOwnedByYou') return;
  check(res, 'CreateBucket');
}

export async function deleteBucket(c: BenchClient, bucket: string): Promise<void> {
  check(await c.send({ method: 'DELETE', bucket }), 'DeleteBucket');
}

export async function putObject(
  c: BenchClient,
  bucket: string,
  key: string,
  payload: Payload,
  signed: boolean,
): Promise<number> {
  check(
    await c.send({ method: 'PUT', bucket, key, payload, payloadHash: signed ? payload.sha256() : UNSIGNED_PAYLOAD }),
    'PutObject',
  );
  return payload.size;
}

export async function getObject(c: BenchClient, bucket: string, key: string, expectSize: number): Promise<number> {
  const res = check(await c.send({ method: 'GET', bucket, key }), 'GetObject');
  if (res.bytes !== expectSize)
    throw new S3Failure('GetObject', res.status, 'ShortBody', `${res.bytes} of ${expectSize} bytes`);
  return res.bytes;
}

export async function headObject(c: BenchClient, bucket: string, key: string): Promise<number> {
  check(await c.send({ method: 'HEAD', bucket, key }), 'HeadObject');
  return 0;
}

export async function deleteObject(c: BenchClient, bucket: string, key: string): Promise<void> {
  check(await c.send({ method: 'DELETE', bucket, key }), 'DeleteObject');
}

/** DeleteObjects (quiet) for up to 1000 keys; throws S3Failure when unsupported. */
export async function deleteObjects(c: BenchClient, bucket: string, keys: readonly string[]): Promise<void> {
  const esc = (s: string) => s.replace(/[<>&]/g, (ch) => (ch === '<' ? '&lt;' : ch === '>' ? '&gt;' : '&amp;'));
  const xml = Buffer.from(
    `<Delete><Quiet>true</Quiet>${keys.map((k) => `<Object><Key>${esc(k)}</Key></Object>`).join('')}</Delete>`,
  );
  const md5 = createHash('md5').update(xml).digest('base64');
  const payload = bufferPayload(xml);
  const res = check(
    await c.send({
      method: 'POST',
      bucket,
      query: 'delete=',
      payload,
      payloadHash: payload.sha256(),
      headers: { 'content-md5': md5, 'content-type': 'application/xml' },
      collect: true,
    }),
    'DeleteObjects',
  );
  const text = res.body?.toString('utf8') ?? '';
  if (!text.includes('DeleteResult'))
    throw new S3Failure('DeleteObjects', 501, 'NotImplemented', 'no DeleteResult in the answer');
  if (text.includes('<Error>'))
    throw new S3Failure('DeleteObjects', res.status, xmlField(text, 'Code') ?? 'Error', 'some keys failed');
}

export interface ListPage {
  keys: number;
  next: string | undefined;
}

export async function listPage(
  c: BenchClient,
  bucket: string,
  prefix: string,
  maxKeys: number,
  token?: string,
): Promise<ListPage & { bytes: number }> {
  const q: Record<string, string | number> = { 'list-type': 2, 'max-keys': maxKeys, prefix };
  if (token !== undefined) q['continuation-token'] = token;
  const res = check(await c.send({ method: 'GET', bucket, query: canonicalQuery(q), collect: true }), 'ListObjectsV2');
  const xml = res.body?.toString('utf8') ?? '';
  if (!xml.includes('<ListBucketResult'))
    throw new S3Failure('ListObjectsV2', 501, 'NotImplemented', 'the answer is not a ListBucketResult');
  const keys = xml.split('<Key>').length - 1;
  const next = xmlField(xml, 'IsTruncated') === 'true' ? xmlField(xml, 'NextContinuationToken') : undefined;
  return { keys, next, bytes: res.bytes };
}

export async function createMultipartUpload(c: BenchClient, bucket: string, key: string): Promise<string> {
  const res = check(
    await c.send({ method: 'POST', bucket, key, query: 'uploads=', collect: true }),
    'CreateMultipartUpload',
  );
  const id = xmlField(res.body?.toString('utf8') ?? '', 'UploadId');
  if (!id) throw new S3Failure('CreateMultipartUpload', res.status, 'NotImplemented', 'no UploadId in the answer');
  return id;
}

export async function uploadPart(
  c: BenchClient,
  bucket: string,
  key: string,
  uploadId: string,
  part: number,
  payload: Payload,
): Promise<string> {
  const res = check(
    await c.send({
      method: 'PUT',
      bucket,
      key,
      query: canonicalQuery({ partNumber: part, uploadId }),
      payload,
      payloadHash: UNSIGNED_PAYLOAD,
    }),
    'UploadPart',
  );
  const etag = res.headers.etag;
  if (!etag) throw new S3Failure('UploadPart', res.status, 'NoETag');
  return etag;
}

export async function completeMultipartUpload(
  c: BenchClient,
  bucket: string,
  key: string,
  uploadId: string,
  etags: readonly string[],
): Promise<void> {
  const xml = Buffer.from(
    `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e.replace(/"/g, '&quot;')}</ETag></Part>`).join('')}</CompleteMultipartUpload>`,
  );
  const payload = bufferPayload(xml);
  const res = check(
    await c.send({
      method: 'POST',
      bucket,
      key,
      query: canonicalQuery({ uploadId }),
      payload,
      payloadHash: payload.sha256(),
      headers: { 'content-type': 'application/xml' },
      collect: true,
    }),
    'CompleteMultipartUpload',
  );
  // A 200 answer can still carry an error document (the response starts before the assembly).
  const text = res.body?.toString('utf8') ?? '';
  if (text.includes('<Error>'))
    throw new S3Failure('CompleteMultipartUpload', res.status, xmlField(text, 'Code') ?? 'Error');
}

export async function abortMultipartUpload(
  c: BenchClient,
  bucket: string,
  key: string,
  uploadId: string,
): Promise<void> {
  check(await c.send({ method: 'DELETE', bucket, key, query: canonicalQuery({ uploadId }) }), 'AbortMultipartUpload');
}
