// The aws gateway's CloudBucket: one backing bucket on AWS S3 or any S3-compatible endpoint,
// through @aws-sdk/client-s3 (loaded only when storage.backend is "aws", see create.ts).
// Bytes stream both ways: uploads read the verified staging file, reads hand back the
// response stream. Concatenation (multipart Complete) is a server-side UploadPartCopy.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { ConfigError, type Config } from '../config.ts';
import type { ByteRange } from './backend.ts';
import type { CloudBucket } from './gateway.ts';

type AwsConfig = Config['storage']['aws'];

const MiB = 1024 * 1024;
/** Files above this go up as native multipart uploads, each part streamed from a file range. */
export const MULTIPART_THRESHOLD = 64 * MiB;
const PART_SIZE = 64 * MiB;
// Limits from https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html
const MAX_PARTS = 10_000;
const MIN_PART = 5 * MiB;
const MAX_COPY = 5 * 1024 * MiB;
const CONCURRENCY = 4;
const UPLOAD_ATTEMPTS = 3;

export interface CopyPart {
  key: string;
  size: number;
  range?: ByteRange;
}

/**
 * The UploadPartCopy parts that concatenate `sources`, or false when S3 cannot do it: a part
 * other than the last below 5 MiB, more than 10,000 parts, or nothing to copy. Empty sources
 * add nothing and are left out; sources above 5 GiB are copied in ranges.
 */
export function planCopyParts(sources: readonly { key: string; size: number }[]): CopyPart[] | false {
  const parts: CopyPart[] = [];
  for (const { key, size } of sources) {
    if (size === 0) continue;
    if (size <= MAX_COPY) {
      parts.push({ key, size });
      continue;
    }
    const n = Math.ceil(size / MAX_COPY);
    const step = Math.ceil(size / n);
    for (let start = 0; start < size; start += step) {
      const end = Math.min(start + step, size) - 1;
      parts.push({ key, size: end - start + 1, range: { start, end } });
    }
  }
  if (!parts.length || parts.length > MAX_PARTS) return false;
  return parts.slice(0, -1).every((p) => p.size >= MIN_PART) ? parts : false;
}

interface SdkError {
  name?: string;
  code?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}
const statusOf = (err: unknown): number => (err as SdkError).$metadata?.httpStatusCode ?? 0;

/** Runs fn(0..n-1) with at most `limit` in flight; stops taking new work after a failure. */
async function mapLimit<T>(n: number, limit: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < n) {
      const i = next++;
      try {
        out[i] = await fn(i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
  return out;
}

function isTransient(err: unknown): boolean {
  const e = err as SdkError;
  const status = statusOf(err);
  return (
    Boolean(e.$retryable) ||
    status >= 500 ||
    status === 429 ||
    e.name === 'TimeoutError' ||
    ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT'].includes(e.code ?? '')
  );
}

/**
 * The SDK never retries a request whose body is a stream (it cannot replay it), so uploads
 * retry here, each attempt with a fresh stream over the same file range.
 */
async function withFreshBody<T>(send: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (err) {
      if (attempt >= UPLOAD_ATTEMPTS || !isTransient(err)) throw err;
      await sleep(100 * 2 ** attempt);
    }
  }
}

/**
 * The SDK's warnings (e.g. all sockets busy) go to stderr, except the one withFreshBody makes
 * untrue by retrying. Its error lines would repeat every failed call, a normal 404 included:
 * failures reach BleepStore as errors instead.
 */
const sdkLogger = {
  debug: () => {},
  info: () => {},
  warn: (msg: unknown) => {
    if (!String(msg).includes('non-retryable streaming request')) console.warn(msg);
  },
  error: () => {},
};

/** One sentence for start-up and the health log: what failed, where, and why. */
function probeFailure(err: unknown, bucket: string, where: string): Error {
  const e = err as SdkError & { message?: string };
  const status = statusOf(err);
  const code = e.code ?? (e.name === 'TimeoutError' ? 'ETIMEDOUT' : undefined);
  let msg: string;
  if (code) msg = `cannot reach bucket "${bucket}" at ${where} (${code}).`;
  else if (e.name === 'CredentialsProviderError')
    msg = `no credentials for bucket "${bucket}" at ${where}: set storage.aws.access_key_id and storage.aws.secret_access_key, or the AWS_* environment.`;
  else if (status === 404) msg = `bucket "${bucket}" does not exist at ${where}.`;
  else if (status === 403) msg = `access to bucket "${bucket}" at ${where} was denied; check the credentials.`;
  else msg = `bucket "${bucket}" at ${where} answered ${status ? `HTTP ${status}` : (e.message ?? String(err))}.`;
  // code and $metadata stay visible to GatewayStorage, which maps an unreachable upstream to 503.
  return Object.assign(new Error(msg, { cause: err }), { code, $metadata: e.$metadata });
}

/** x-amz-copy-source: URL-encoded, "/" kept (https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html). */
function copySource(bucket: string, key: string): string {
  return `${bucket}/${encodeURIComponent(key).replaceAll('%2F', '/')}`;
}

export function createAwsBucket(c: AwsConfig): CloudBucket {
  if (Boolean(c.access_key_id) !== Boolean(c.secret_access_key)) {
    throw new ConfigError(
      'Config keys "storage.aws.access_key_id" and "storage.aws.secret_access_key" must be set together.',
    );
  }
  const Bucket = c.bucket;
  const region = c.region || 'us-east-1';
  const where = c.endpoint_url || `AWS region ${region}`;
  const client = new S3Client({
    region,
    ...(c.endpoint_url ? { endpoint: c.endpoint_url } : {}),
    forcePathStyle: c.use_path_style,
    followRegionRedirects: true,
    // Otherwise the SDK sends every upload as an aws-chunked body with a CRC32 trailer, which
    // not every S3-compatible store accepts, and checks every download; BleepStore has
    // verified each body before it uploads it.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Unset credentials leave the SDK's default chain: AWS_* env, ~/.aws, container or instance role.
    ...(c.access_key_id ? { credentials: { accessKeyId: c.access_key_id, secretAccessKey: c.secret_access_key } } : {}),
    requestHandler: { connectionTimeout: 5_000 },
    logger: sdkLogger,
  });

  const head = async (Key: string): Promise<number> =>
    (await client.send(new HeadObjectCommand({ Bucket, Key }))).ContentLength ?? 0;

  async function putMultipart(Key: string, filePath: string, size: number): Promise<void> {
    const partSize = Math.max(PART_SIZE, Math.ceil(size / MAX_PARTS / MiB) * MiB);
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    try {
      const parts = await mapLimit(Math.ceil(size / partSize), CONCURRENCY, async (i): Promise<CompletedPart> => {
        const start = i * partSize;
        const length = Math.min(partSize, size - start);
        const out = await withFreshBody(() =>
          client.send(
            new UploadPartCommand({
              Bucket,
              Key,
              UploadId,
              PartNumber: i + 1,
              ContentLength: length,
              Body: createReadStream(filePath, { start, end: start + length - 1 }),
            }),
          ),
        );
        return { PartNumber: i + 1, ETag: out.ETag };
      });
      await client.send(
        new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts } }),
      );
    } catch (err) {
      await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => {});
      throw err;
    }
  }

  async function copyParts(Key: string, parts: readonly CopyPart[]): Promise<void> {
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    try {
      const done = await mapLimit(parts.length, CONCURRENCY, async (i): Promise<CompletedPart> => {
        const p = parts[i]!;
        const out = await client.send(
          new UploadPartCopyCommand({
            Bucket,
            Key,
            UploadId,
            PartNumber: i + 1,
            CopySource: copySource(Bucket, p.key),
            ...(p.range ? { CopySourceRange: `bytes=${p.range.start}-${p.range.end}` } : {}),
          }),
        );
        return { PartNumber: i + 1, ETag: out.CopyPartResult?.ETag };
      });
      await client.send(
        new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: done } }),
      );
    } catch (err) {
      await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => {});
      throw err;
    }
  }

  return {
    async probe() {
      try {
        await client.send(new HeadBucketCommand({ Bucket }));
      } catch (err) {
        throw probeFailure(err, Bucket, where);
      }
    },

    async putFile(Key, filePath, size) {
      if (size > MULTIPART_THRESHOLD) return putMultipart(Key, filePath, size);
      // An empty file goes as an empty string: the SDK would leave an empty stream unread (and open).
      const body = () => (size ? createReadStream(filePath) : '');
      await withFreshBody(() => client.send(new PutObjectCommand({ Bucket, Key, ContentLength: size, Body: body() })));
    },

    async get(Key, range?: ByteRange) {
      const out = await client.send(
        new GetObjectCommand({ Bucket, Key, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }),
      );
      // In Node the body is the http.IncomingMessage itself: nothing is buffered.
      return out.Body as Readable;
    },

    async exists(Key) {
      try {
        await head(Key);
        return true;
      } catch (err) {
        if (this.isNotFound(err)) return false;
        throw err;
      }
    },

    async delete(Key) {
      try {
        await client.send(new DeleteObjectCommand({ Bucket, Key }));
      } catch (err) {
        if (!this.isNotFound(err)) throw err;
      }
    },

    async *list(Prefix) {
      let ContinuationToken: string | undefined;
      do {
        const out = await client.send(new ListObjectsV2Command({ Bucket, Prefix, ContinuationToken }));
        for (const o of out.Contents ?? [])
          if (o.Key !== undefined) yield { key: o.Key, modifiedMs: o.LastModified?.getTime() };
        ContinuationToken = out.IsTruncated ? out.NextContinuationToken : undefined;
      } while (ContinuationToken);
    },

    async compose(target, sources) {
      const sizes = await mapLimit(sources.length, 8, (i) => head(sources[i]!));
      const parts = planCopyParts(sources.map((key, i) => ({ key, size: sizes[i]! })));
      // Parts below S3's 5 MiB minimum (or nothing to copy): the caller copies through instead.
      if (!parts) return false;
      try {
        if (parts.length === 1 && !parts[0]!.range) {
          await client.send(
            new CopyObjectCommand({ Bucket, Key: target, CopySource: copySource(Bucket, parts[0]!.key) }),
          );
        } else {
          await copyParts(target, parts);
        }
      } catch (err) {
        // An S3-compatible upstream without server-side copy: copy through instead.
        if (statusOf(err) === 501) return false;
        throw err;
      }
    },

    isNotFound(err) {
      const e = err as SdkError;
      if (e.name === 'NoSuchKey' || e.name === 'NotFound') return true;
      // NoSuchBucket is a broken configuration, not a missing object.
      return statusOf(err) === 404 && e.name !== 'NoSuchBucket' && e.name !== 'NoSuchUpload';
    },
  };
}
