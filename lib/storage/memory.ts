// Blobs in process memory, for embedding and tests: they vanish with the process, so the
// metadata should too (config: a memory store without data_dir uses SQLite ':memory:').
// An optional cap answers EntityTooLarge once the store would hold more than it allows.
import { Readable } from 'node:stream';
import { S3Error } from '../s3/errors.ts';
import {
  FileMissingError,
  concatByCopy,
  newBlobId,
  type ByteRange,
  type ConcatSource,
  type StagedBlob,
  type StorageBackend,
} from './backend.ts';

export class MemoryStorage implements StorageBackend {
  readonly kind = 'memory';
  private readonly blobs = new Map<string, Buffer[]>();
  private used = 0;
  private readonly maxBytes: number;

  constructor(opts: { maxSizeBytes?: number } = {}) {
    this.maxBytes = opts.maxSizeBytes ?? 0;
  }

  async init(): Promise<void> {}
  async probe(): Promise<void> {}

  /** Bytes held by committed and staged blobs. */
  get bytesUsed(): number {
    return this.used;
  }

  async stage(): Promise<StagedBlob> {
    const chunks: Buffer[] = [];
    let size = 0;
    let failure: S3Error | undefined;
    let done = false;
    const release = () => {
      this.used -= size;
      size = 0;
      chunks.length = 0;
    };
    return {
      push: (buf) => {
        if (failure || buf.length === 0) return;
        if (this.maxBytes > 0 && this.used + buf.length > this.maxBytes) {
          failure = new S3Error(
            'EntityTooLarge',
            `The in-memory store is full: it holds at most ${this.maxBytes} bytes (storage.memory.max_size_bytes).`,
            { MaxSizeAllowed: String(this.maxBytes) },
          );
          return;
        }
        chunks.push(buf);
        size += buf.length;
        this.used += buf.length;
      },
      backpressure: () => (failure ? Promise.reject(failure) : undefined),
      finish: async () => {
        if (failure) throw failure;
      },
      discard: async () => {
        if (!done) release();
        done = true;
      },
      commit: async () => {
        if (failure) throw failure;
        if (done) throw new Error('blob already committed or discarded');
        done = true;
        const id = newBlobId();
        this.blobs.set(id, chunks.slice());
        return id;
      },
    };
  }

  async openRead(fileId: string, range?: ByteRange): Promise<Readable> {
    const chunks = this.blobs.get(fileId);
    if (!chunks) throw new FileMissingError(fileId);
    const start = range?.start ?? 0;
    const end = range?.end ?? Infinity;
    return Readable.from(
      (function* () {
        let offset = 0;
        for (const c of chunks) {
          const from = Math.max(start - offset, 0);
          const to = Math.min(end - offset + 1, c.length);
          if (from < to) yield c.subarray(from, to);
          offset += c.length;
          if (offset > end) return;
        }
      })(),
      { objectMode: false },
    );
  }

  async exists(fileId: string): Promise<boolean> {
    return this.blobs.has(fileId);
  }

  async remove(fileId: string): Promise<void> {
    const chunks = this.blobs.get(fileId);
    if (!chunks) return;
    for (const c of chunks) this.used -= c.length;
    this.blobs.delete(fileId);
  }

  concat(sources: readonly ConcatSource[], observe?: (chunk: Buffer) => void): Promise<string> {
    return concatByCopy(this, sources, observe);
  }

  async cleanStaging(): Promise<number> {
    return 0;
  }

  async sweepOrphans(keep: (fileId: string, modifiedMs?: number) => boolean): Promise<number> {
    let removed = 0;
    for (const id of [...this.blobs.keys()]) {
      if (!keep(id)) {
        await this.remove(id);
        removed++;
      }
    }
    return removed;
  }
}
