// Blobs inside the metadata database, in 1 MiB chunks, so one file holds the whole store
// and large objects still stream (a read fetches one chunk at a time). Chunks of a blob
// being written are committed as they arrive under its id; until an object or part row
// names that id the blob is unreferenced, and the next start's recover() removes it.
import { Readable } from 'node:stream';
import type { MetadataStore } from '../metadata/sqlite.ts';
import {
  FileMissingError,
  concatByCopy,
  newBlobId,
  type ByteRange,
  type ConcatSource,
  type StagedBlob,
  type StorageBackend,
} from './backend.ts';
import { ReadPins } from './read-pins.ts';

const CHUNK = 1024 * 1024;

export class SqliteBlobStorage implements StorageBackend {
  readonly kind = 'sqlite';
  private readonly m: MetadataStore;
  /** A read fetches one chunk at a time, and the end of the chunks is the end of the blob: a
   *  removal while it reads (an overwrite's clean-up) would end it short. It waits instead. */
  private readonly pins = new ReadPins();

  constructor(metadata: MetadataStore) {
    this.m = metadata;
  }

  /** The blob_chunks table is part of the metadata schema (lib/metadata/schema.ts). */
  async init(): Promise<void> {}

  async probe(): Promise<void> {
    this.m.blobExists('');
  }

  async stage(): Promise<StagedBlob> {
    const id = newBlobId();
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let seq = 0;
    let wrote = false;
    // Chunks are written through the metadata's one door, so they share its group commits;
    // at most one chunk is in flight, which is the sink's backpressure.
    let inFlight: Promise<void> | undefined;
    let failure: unknown;
    const write = (chunk: Buffer): void => {
      const prev = inFlight;
      const cmd = { type: 'blob.chunk', fileId: id, seq: seq++, data: chunk.toString('base64') } as const;
      wrote = true;
      inFlight = (async () => {
        await prev;
        await this.m.submit(cmd);
      })().catch((err: unknown) => {
        failure ??= err;
      });
    };
    const flush = (all: boolean) => {
      while (pendingBytes >= CHUNK || (all && pendingBytes > 0)) {
        const joined = Buffer.concat(pending, pendingBytes);
        const chunk = joined.subarray(0, Math.min(CHUNK, joined.length));
        write(chunk);
        const rest = joined.subarray(chunk.length);
        pending = rest.length ? [rest] : [];
        pendingBytes = rest.length;
      }
    };
    const settled = async (): Promise<void> => {
      await inFlight;
      if (failure) throw failure;
    };
    return {
      push: (buf) => {
        pending.push(buf);
        pendingBytes += buf.length;
        if (pendingBytes >= CHUNK) flush(false);
      },
      backpressure: () => (inFlight ? settled() : undefined),
      finish: async () => {
        flush(true);
        // An empty blob still needs a row to exist.
        if (!wrote) write(Buffer.alloc(0));
        await settled();
      },
      discard: async () => {
        pending = [];
        await inFlight;
        await this.m.submit({ type: 'blob.remove', fileId: id }).catch(() => {});
      },
      commit: async () => id,
    };
  }

  async openRead(fileId: string, range?: ByteRange): Promise<Readable> {
    if (!(await this.exists(fileId))) throw new FileMissingError(fileId);
    const m = this.m;
    const start = range?.start ?? 0;
    const end = range?.end ?? Infinity;
    let seq = Math.floor(start / CHUNK);
    let offset = seq * CHUNK;
    const stream = new Readable({
      read() {
        if (offset > end) return void this.push(null);
        const data = m.blobChunk(fileId, seq);
        if (!data) return void this.push(null);
        const from = Math.max(start - offset, 0);
        const to = Math.min(end - offset + 1, data.length);
        offset += data.length;
        seq++;
        if (data.length === 0) return void this.push(null);
        this.push(data.subarray(from, to));
      },
    });
    stream.once('close', this.pins.pin(fileId));
    return stream;
  }

  async exists(fileId: string): Promise<boolean> {
    return this.m.blobExists(fileId);
  }

  remove(fileId: string): Promise<void> {
    return this.pins.remove(fileId, () => this.m.submit({ type: 'blob.remove', fileId }).then(() => {}));
  }

  concat(sources: readonly ConcatSource[], observe?: (chunk: Buffer) => void): Promise<string> {
    return concatByCopy(this, sources, observe);
  }

  async cleanStaging(): Promise<number> {
    return 0;
  }

  async sweepOrphans(keep: (fileId: string, modifiedMs?: number) => boolean): Promise<number> {
    let removed = 0;
    for (let ids = this.m.blobIds('', 256); ids.length; ids = this.m.blobIds(ids[ids.length - 1]!, 256)) {
      for (const id of ids) {
        if (keep(id)) continue;
        await this.remove(id);
        removed++;
      }
    }
    return removed;
  }
}
