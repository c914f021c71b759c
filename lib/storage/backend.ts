// The one storage interface every backend implements. The metadata (SQLite) maps keys to
// blob ids; a backend only stores, reads and removes immutable blobs by id. A new blob is
// written through a sink and becomes visible under a fresh id only on commit(), after it
// is durable, so a crash at any point leaves at worst an unreferenced blob that the next
// start's recover() removes.
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';

export interface ByteRange {
  start: number;
  end: number;
}

/** Where a request body goes while it is verified (see lib/body/ingest.ts). */
export interface BlobSink {
  /** Queues bytes; the buffer must not be modified afterwards. */
  push(buf: Buffer): void;
  /** A promise to await before pushing more, or undefined when there is room. */
  backpressure(): Promise<void> | undefined;
  /** Writes everything queued and makes it durable; errors (fsync's included) are thrown. */
  finish(): Promise<void>;
  /** Drops the staged bytes; never throws. */
  discard(): Promise<void>;
}

export interface StagedBlob extends BlobSink {
  /** After finish(): publishes the blob under a new id and returns it. */
  commit(): Promise<string>;
}

export interface ConcatSource {
  fileId: string;
  range?: ByteRange | undefined;
}

export interface StorageBackend {
  readonly kind: string;
  /** Prepares the store (directories, connections); fails with one clear sentence. */
  init(): Promise<void>;
  /** Throws when the store cannot take writes right now (for /readyz and /health). */
  probe(): Promise<void>;
  /** Starts a new blob. */
  stage(): Promise<StagedBlob>;
  /** Reads a blob or an inclusive byte range of it; FileMissingError when it is gone. */
  openRead(fileId: string, range?: ByteRange): Promise<Readable>;
  /** True if the blob exists. */
  exists(fileId: string): Promise<boolean>;
  /** Removes a blob; a missing one is not an error. */
  remove(fileId: string): Promise<void>;
  /**
   * Writes blobs (or ranges of them) one after another into a new committed blob, showing
   * every byte to `observe` when given. Gateways may compose server-side when not observed.
   */
  concat(sources: readonly ConcatSource[], observe?: (chunk: Buffer) => void): Promise<string>;
  /** Start-up: drops what interrupted writes left staged; returns how many. Never lists blobs. */
  cleanStaging(): Promise<number>;
  /**
   * Removes every blob of ours that `keep` does not want; returns how many. Runs in the
   * background while serving, so `keep` must spare blobs born meanwhile (watchNewBlobIds).
   * `modifiedMs` is when the blob was last written, where the backend's listing says so.
   */
  sweepOrphans(keep: (fileId: string, modifiedMs?: number) => boolean): Promise<number>;
}

export class FileMissingError extends Error {
  readonly fileId: string;
  constructor(fileId: string) {
    super(`object file ${fileId} is missing`);
    this.fileId = fileId;
  }
}

/**
 * fsync failed. After a failed fsync the kernel may have dropped the dirty pages, so the
 * data is in an unknown state and retrying can report success for lost writes
 * (PostgreSQL's "fsyncgate"). The server treats this as fatal: it stops taking requests.
 */
export class FsyncError extends Error {
  constructor(what: string, cause: unknown) {
    super(`fsync of ${what} failed: ${(cause as Error).message}`, { cause });
    this.name = 'FsyncError';
  }
}

/** fsync that turns any failure into FsyncError. */
export async function fsyncOrDie(fh: { sync(): Promise<void> }, what: string): Promise<void> {
  try {
    await fh.sync();
  } catch (err) {
    throw new FsyncError(what, err);
  }
}

const watchers = new Set<Set<string>>();

/** A fresh blob id; every id is generated before its blob exists, and watchers see it first. */
export function newBlobId(): string {
  const id = randomBytes(16).toString('hex');
  for (const w of watchers) w.add(id);
  return id;
}

/**
 * Remembers every blob id generated from now until release(). A background orphan sweep
 * spares them: such a blob may exist before the row that references it is committed.
 */
export function watchNewBlobIds(): { has(id: string): boolean; release(): void } {
  const ids = new Set<string>();
  watchers.add(ids);
  return {
    has: (id) => ids.has(id),
    release: () => {
      watchers.delete(ids);
      ids.clear();
    },
  };
}

export const BLOB_ID_RE = /^[0-9a-f]{32}$/;

/** concat() for any backend: stage a new blob and stream the sources into it. */
export async function concatByCopy(
  backend: StorageBackend,
  sources: readonly ConcatSource[],
  observe?: (chunk: Buffer) => void,
): Promise<string> {
  const staged = await backend.stage();
  try {
    for (const s of sources) {
      const src = await backend.openRead(s.fileId, s.range);
      try {
        for await (const chunk of src as AsyncIterable<Buffer>) {
          observe?.(chunk);
          staged.push(chunk);
          const wait = staged.backpressure();
          if (wait) await wait;
        }
      } finally {
        src.destroy();
      }
    }
    await staged.finish();
  } catch (err) {
    await staged.discard();
    throw err;
  }
  return staged.commit();
}
