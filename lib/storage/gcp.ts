// The Google Cloud Storage gateway adapter: one object per BleepStore blob, named
// `<prefix><id>` in one bucket. Loaded only when storage.backend is "gcp" (see
// lib/storage/create.ts), so the SDK, an optional dependency, is imported statically here.
import type { Readable } from 'node:stream';
import { Storage, type StorageOptions } from '@google-cloud/storage';
import type { Config } from '../config.ts';
import { newBlobId, type ByteRange } from './backend.ts';
import type { CloudBucket } from './gateway.ts';

type GcpConfig = Config['storage']['gcp'];

/** One compose call takes 1 to 32 source objects. */
export const MAX_COMPOSE_SOURCES = 32;
/** Smaller files go up in one request; larger ones as a resumable upload. */
const RESUMABLE_FROM = 8 * 1024 * 1024;

export interface ComposeStep {
  target: string;
  sources: string[];
}

/**
 * The compose calls that build `target` from `sources`, in the order to run them: rounds that
 * compose runs of up to `max` sources into temporaries named by `temp()`, each round only until
 * what is left fits one call, then one call into `target`. Every step's target except the
 * last is a temporary.
 */
export function planCompose(
  target: string,
  sources: readonly string[],
  temp: () => string,
  max = MAX_COMPOSE_SOURCES,
): ComposeStep[] {
  if (sources.length === 0) return [];
  const steps: ComposeStep[] = [];
  let level = [...sources];
  while (level.length > max) {
    const next: string[] = [];
    let i = 0;
    // A run of n sources into one temporary leaves n - 1 fewer objects to compose.
    while (i < level.length && next.length + level.length - i > max) {
      const run = level.slice(i, i + Math.min(max, next.length + level.length - i - max + 1));
      i += run.length;
      if (run.length === 1) {
        next.push(run[0]!);
        continue;
      }
      const t = temp();
      steps.push({ target: t, sources: run });
      next.push(t);
    }
    level = next.concat(level.slice(i));
  }
  steps.push({ target, sources: level });
  return steps;
}

export function storageOptions(c: GcpConfig): StorageOptions {
  return {
    ...(c.project ? { projectId: c.project } : {}),
    // Without a file, the SDK finds Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, ...).
    ...(c.credentials_file ? { keyFilename: c.credentials_file } : {}),
    // A custom endpoint (an emulator) is used without authentication unless asked otherwise.
    ...(c.endpoint_url ? { apiEndpoint: c.endpoint_url } : {}),
    // The default retries back off for up to 10 minutes; an unreachable upstream must turn into
    // a 503 within seconds, and S3 clients retry those themselves.
    retryOptions: { maxRetries: 1, maxRetryDelay: 2, totalTimeout: 30 },
  };
}

/** Resolves once the read has a successful response, so a missing object rejects here. */
function opened(stream: Readable): Promise<Readable> {
  return new Promise((resolve, reject) => {
    stream.once('error', reject);
    stream.once('response', (res: { statusCode?: number; status?: number }) => {
      if ((res.statusCode ?? res.status ?? 0) >= 300) return; // the error event follows
      stream.off('error', reject);
      resolve(stream);
    });
    stream.read(0); // the SDK sends the request on the first read
  });
}

export function createGcsBucket(c: GcpConfig): CloudBucket {
  const bucket = new Storage(storageOptions(c)).bucket(c.bucket);
  // Reads never retry inside the SDK: a retried streaming read whose first answer is an error
  // status throws ERR_STREAM_UNABLE_TO_PIPE where nothing can catch it, and the process dies
  // (googleapis/google-cloud-node#8670, teeny-request 9/10). S3 clients retry the 503 instead.
  const reader = new Storage({ ...storageOptions(c), retryOptions: { autoRetry: false } }).bucket(c.bucket);

  return {
    async probe() {
      // Listing needs only object permissions (a bucket GET needs storage.buckets.get).
      try {
        await bucket.getFiles({ prefix: c.prefix, maxResults: 1, autoPaginate: false });
      } catch (err) {
        if ((err as { code?: unknown }).code === 404) throw new Error(`the bucket "${c.bucket}" does not exist`);
        throw err;
      }
    },
    async putFile(key, filePath, size) {
      await bucket.upload(filePath, {
        destination: key,
        resumable: size > RESUMABLE_FROM,
        contentType: 'application/octet-stream',
      });
    },
    get(key: string, range?: ByteRange) {
      return opened(reader.file(key).createReadStream(range ? { start: range.start, end: range.end } : {}));
    },
    async exists(key) {
      const [found] = await bucket.file(key).exists();
      return found;
    },
    async delete(key) {
      await bucket.file(key).delete({ ignoreNotFound: true });
    },
    async *list(prefix) {
      let query: { pageToken?: string } | null = {};
      while (query) {
        const [files, next]: [
          Array<{ name: string; metadata?: { updated?: string } }>,
          { pageToken?: string } | null,
          unknown,
        ] = await bucket.getFiles({
          ...query,
          prefix,
          maxResults: 1000,
          autoPaginate: false,
        });
        for (const f of files) {
          const updated = f.metadata?.updated ? Date.parse(f.metadata.updated) : Number.NaN;
          yield { key: f.name, modifiedMs: Number.isNaN(updated) ? undefined : updated };
        }
        query = next?.pageToken ? next : null;
      }
    },
    // Multipart Complete: compose in rounds of 32 through temporaries named like blobs under
    // the prefix, so any a crash leaves behind are removed by the next start's recovery.
    async compose(target, sources) {
      if (sources.length === 0) {
        await bucket.file(target).save(Buffer.alloc(0), { resumable: false });
        return;
      }
      const steps = planCompose(target, sources, () => c.prefix + newBlobId());
      try {
        for (const step of steps) await bucket.combine(step.sources, step.target);
      } finally {
        await Promise.allSettled(steps.slice(0, -1).map((s) => bucket.file(s.target).delete({ ignoreNotFound: true })));
      }
    },
    isNotFound: (err) => (err as { code?: unknown }).code === 404,
  };
}
