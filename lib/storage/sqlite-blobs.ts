// Blobs inside the metadata database, in 1 MiB chunks, so one file holds the whole store
// and large objects still stream (a read fetches one chunk at a time). Chunks of a blob
// being written are committed as they arrive under its id; until an object or part row
// names that id the blob is unreferenced, and the next start's recover() removes it.
import { Readable } from 'node:stream';
import type { MetadataStore } from '../metadata/sqlite.ts';
import {
  FileMissingError, concatByCopy, newBlobId,
  type ByteRange, type ConcatSource, type StagedBlob, type StorageBackend, type StorageRecovery,
} from './backend.ts';

const CHUNK = 1024 * 1024;

export class SqliteBlobStorage implements StorageBackend {
  readonly kind = 'sqlite';
  private readonly m: MetadataStore;

  constructor(metadata: MetadataStore) {
    this.m = metadata;
  }

  async init(): Promise<void> {
    this.m.db.exec(`CREATE TABLE IF NOT EXISTS blob_chunks (
      file_id TEXT NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (file_id, seq)) WITHOUT ROWID`);
  }

  async probe(): Promise<void> {
    this.m.q('SELECT 1 FROM blob_chunks LIMIT 1').get();
  }

  async stage(): Promise<StagedBlob> {
    const id = newBlobId();
    const insert = this.m.q('INSERT INTO blob_chunks (file_id, seq, data) VALUES (?, ?, ?)');
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let seq = 0;
    let wrote = false;
    const flush = (all: boolean) => {
      while (pendingBytes >= CHUNK || (all && pendingBytes > 0)) {
        const joined = Buffer.concat(pending, pendingBytes);
        const chunk = joined.subarray(0, Math.min(CHUNK, joined.length));
        insert.run(id, seq++, chunk);
        wrote = true;
        const rest = joined.subarray(chunk.length);
        pending = rest.length ? [rest] : [];
        pendingBytes = rest.length;
      }
    };
    return {
      push: (buf) => {
        pending.push(buf);
        pendingBytes += buf.length;
        if (pendingBytes >= CHUNK) flush(false);
      },
      backpressure: () => undefined,
      finish: async () => {
        flush(true);
        // An empty blob still needs a row to exist.
        if (!wrote) insert.run(id, 0, Buffer.alloc(0));
      },
      discard: async () => {
        pending = [];
        this.m.q('DELETE FROM blob_chunks WHERE file_id = ?').run(id);
      },
      commit: async () => id,
    };
  }

  async openRead(fileId: string, range?: ByteRange): Promise<Readable> {
    if (!(await this.exists(fileId))) throw new FileMissingError(fileId);
    const get = this.m.q('SELECT data FROM blob_chunks WHERE file_id = ? AND seq = ?');
    const start = range?.start ?? 0;
    const end = range?.end ?? Infinity;
    let seq = Math.floor(start / CHUNK);
    let offset = seq * CHUNK;
    return new Readable({
      read() {
        if (offset > end) return void this.push(null);
        const row = get.get(fileId, seq) as { data: Uint8Array } | undefined;
        if (!row) return void this.push(null);
        const data = Buffer.from(row.data.buffer, row.data.byteOffset, row.data.byteLength);
        const from = Math.max(start - offset, 0);
        const to = Math.min(end - offset + 1, data.length);
        offset += data.length;
        seq++;
        if (data.length === 0) return void this.push(null);
        this.push(data.subarray(from, to));
      },
    });
  }

  async exists(fileId: string): Promise<boolean> {
    return Boolean(this.m.q('SELECT 1 FROM blob_chunks WHERE file_id = ? LIMIT 1').get(fileId));
  }

  async remove(fileId: string): Promise<void> {
    this.m.q('DELETE FROM blob_chunks WHERE file_id = ?').run(fileId);
  }

  concat(sources: readonly ConcatSource[], observe?: (chunk: Buffer) => void): Promise<string> {
    return concatByCopy(this, sources, observe);
  }

  async recover(isReferenced: (fileId: string) => boolean): Promise<StorageRecovery> {
    let orphanFilesRemoved = 0;
    const ids = (this.m.db.prepare('SELECT DISTINCT file_id FROM blob_chunks').all() as Array<{ file_id: string }>).map((r) => r.file_id);
    for (const id of ids) {
      if (isReferenced(id)) continue;
      await this.remove(id);
      orphanFilesRemoved++;
    }
    return { tempFilesRemoved: 0, orphanFilesRemoved };
  }
}
