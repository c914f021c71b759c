// Gateway backends keep BleepStore's metadata in SQLite and the bytes in a cloud bucket or
// container, one cloud object per blob: `<prefix><blob id>`. A body is verified into a
// local staging file first (nothing unverified ever reaches the cloud), then uploaded, and
// only then does a metadata row name it. Start-up empties the staging dir and deletes
// cloud objects under the prefix that no row references.
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { ReadPins } from './read-pins.ts';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { S3Error } from '../s3/errors.ts';
import {
  BLOB_ID_RE,
  FileMissingError,
  concatByCopy,
  newBlobId,
  type ByteRange,
  type ConcatSource,
  type StagedBlob,
  type StorageBackend,
} from './backend.ts';
import { fileStagedBlob } from './staged-file.ts';

/** What a cloud SDK adapter provides; keys are full cloud object names. */
export interface CloudBucket {
  /**
   * Throws when the bucket/container cannot be reached or does not exist; start-up shows the
   * error's message as is, so it should be one sentence naming the bucket and the cause.
   */
  probe(): Promise<void>;
  /** Uploads a local file of `size` bytes, streaming it. */
  putFile(key: string, filePath: string, size: number): Promise<void>;
  /** Streams an object or an inclusive range of it. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  exists(key: string): Promise<boolean>;
  /** Deletes; a missing object is not an error. */
  delete(key: string): Promise<void>;
  /** Every object under the prefix: its name and, where the listing says, when it was last written (ms). */
  list(prefix: string): AsyncIterable<{ key: string; modifiedMs?: number | undefined }>;
  /**
   * Server-side concatenation of whole objects into `target` (native multipart, block lists,
   * compose). Resolves false, having written nothing, when it cannot do these sources (e.g.
   * S3 parts under 5 MiB); the bytes are then copied through BleepStore instead.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: false means "cannot compose these"; a plain return means done
  compose?(target: string, sources: readonly string[]): Promise<void | false>;
  /** True when the error means "no such object". */
  isNotFound(err: unknown): boolean;
}

/** Network-level failures reaching the upstream: S3 clients should retry (503). */
function isUnreachable(err: unknown): boolean {
  const e = err as {
    code?: string | number;
    name?: string;
    cause?: { code?: string };
    $metadata?: { httpStatusCode?: number };
    statusCode?: number;
    status?: number;
  };
  // Google's SDK: ApiError carries the HTTP status as a numeric `code`, GaxiosError as `status`.
  const code = typeof e.code === 'string' ? e.code : (e.cause?.code ?? '');
  const status = e.$metadata?.httpStatusCode ?? e.statusCode ?? e.status ?? (typeof e.code === 'number' ? e.code : 0);
  return (
    [
      'ECONNREFUSED',
      'ECONNRESET',
      'ETIMEDOUT',
      'ENOTFOUND',
      'EAI_AGAIN',
      'EPIPE',
      'UND_ERR_SOCKET',
      'UND_ERR_CONNECT_TIMEOUT',
    ].includes(code) ||
    e.name === 'TimeoutError' ||
    status >= 500
  );
}

export class GatewayStorage implements StorageBackend {
  readonly kind: string;
  private readonly cloud: CloudBucket;
  private readonly prefix: string;
  private readonly stagingDir: string;
  private readonly pins = new ReadPins();

  constructor(kind: string, cloud: CloudBucket, opts: { prefix: string; stagingDir: string }) {
    this.kind = kind;
    this.cloud = cloud;
    this.prefix = opts.prefix;
    this.stagingDir = path.resolve(opts.stagingDir);
  }

  keyOf(fileId: string): string {
    return this.prefix + fileId;
  }

  /** Runs a cloud call, turning an unreachable upstream into 503 ServiceUnavailable. */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof S3Error || err instanceof FileMissingError) throw err;
      if (isUnreachable(err)) {
        throw Object.assign(
          new S3Error('ServiceUnavailable', `The ${this.kind} storage backend is not reachable (${what}).`),
          { cause: err },
        );
      }
      throw err;
    }
  }

  async init(): Promise<void> {
    await mkdir(this.stagingDir, { recursive: true });
    // Not through call(): at start-up the adapter's own sentence says more than a 503 would.
    await this.cloud.probe();
  }

  probe(): Promise<void> {
    return this.call('probe', () => this.cloud.probe());
  }

  async stage(): Promise<StagedBlob> {
    const tmp = path.join(this.stagingDir, randomUUID());
    return fileStagedBlob(tmp, async () => {
      const id = newBlobId();
      try {
        const { size } = await stat(tmp);
        await this.call('upload', () => this.cloud.putFile(this.keyOf(id), tmp, size));
      } finally {
        await rm(tmp, { force: true });
      }
      return id;
    });
  }

  async openRead(fileId: string, range?: ByteRange): Promise<Readable> {
    const release = this.pins.pin(fileId);
    try {
      const stream = await this.call('read', async () => {
        try {
          return await this.cloud.get(this.keyOf(fileId), range);
        } catch (err) {
          if (this.cloud.isNotFound(err)) throw new FileMissingError(fileId);
          throw err;
        }
      });
      stream.once('close', release);
      return stream;
    } catch (err) {
      release();
      throw err;
    }
  }

  exists(fileId: string): Promise<boolean> {
    return this.call('exists', () => this.cloud.exists(this.keyOf(fileId)));
  }

  remove(fileId: string): Promise<void> {
    return this.pins.remove(fileId, () => this.call('delete', () => this.cloud.delete(this.keyOf(fileId))));
  }

  async concat(sources: readonly ConcatSource[], observe?: (chunk: Buffer) => void): Promise<string> {
    const releases = sources.map((s) => this.pins.pin(s.fileId));
    try {
      return await this.concatPinned(sources, observe);
    } finally {
      for (const release of releases) release();
    }
  }

  private async concatPinned(sources: readonly ConcatSource[], observe?: (chunk: Buffer) => void): Promise<string> {
    const compose = this.cloud.compose?.bind(this.cloud);
    if (!observe && compose && sources.every((s) => !s.range)) {
      const id = newBlobId();
      // A source removed meanwhile (an overwrite committed) is a missing file, as for reads,
      // so CopyObject and UploadPartCopy retry with the newer version.
      const done = await this.call('compose', () =>
        compose(
          this.keyOf(id),
          sources.map((s) => this.keyOf(s.fileId)),
        ),
      ).catch((err: unknown) => {
        if (!(err instanceof FileMissingError) && this.cloud.isNotFound(err))
          throw new FileMissingError(sources[0]!.fileId);
        throw err;
      });
      if (done !== false) return id;
    }
    return concatByCopy(this, sources, observe);
  }

  async cleanStaging(): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.stagingDir)) {
      await rm(path.join(this.stagingDir, name), { force: true, recursive: true });
      removed++;
    }
    return removed;
  }

  async sweepOrphans(keep: (fileId: string, modifiedMs?: number) => boolean): Promise<number> {
    let removed = 0;
    await this.call('list', async () => {
      for await (const { key, modifiedMs } of this.cloud.list(this.prefix)) {
        const id = key.slice(this.prefix.length);
        // Only names that look like ours are ours to remove; anything else under the prefix stays.
        if (!BLOB_ID_RE.test(id) || keep(id, modifiedMs)) continue;
        await this.cloud.delete(key);
        removed++;
      }
    });
    return removed;
  }
}
