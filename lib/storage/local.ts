// Object bytes on the local disk, one file per blob, named by a random id:
//   <root>/ab/<id>        (256 fan-out directories from the id's first two hex digits,
//                          all made at start, so a PUT never creates a directory)
//   <root>/.tmp/<uuid>    (uploads in progress; emptied on every start)
// A file becomes visible only by rename after fsync, and the directory is fsynced after
// the rename, before any metadata points at it.
import { randomUUID } from 'node:crypto';
import { closeSync, createReadStream, fsyncSync, openSync } from 'node:fs';
import { access, copyFile, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import {
  BLOB_ID_RE,
  FileMissingError,
  FsyncError,
  concatByCopy,
  fsyncOrDie,
  newBlobId,
  type ByteRange,
  type ConcatSource,
  type StagedBlob,
  type StorageBackend,
} from './backend.ts';
import { fileStagedBlob } from './staged-file.ts';
import { sendFileRange, type SendableFile } from './file-send.ts';

export { FileMissingError } from './backend.ts';

export class LocalStorage implements StorageBackend {
  readonly kind = 'local';
  readonly root: string;
  readonly tmpDir: string;

  /** Orphans found by the scrub are moved here (one folder per sweep), not deleted at once. */
  readonly quarantineDir: string;
  private readonly quarantineMaxAgeMs: number;

  constructor(root: string, opts: { quarantineMaxAgeSeconds?: number } = {}) {
    this.root = path.resolve(root);
    this.tmpDir = path.join(this.root, '.tmp');
    this.quarantineDir = path.join(this.root, '.quarantine');
    this.quarantineMaxAgeMs = (opts.quarantineMaxAgeSeconds ?? 7 * 86400) * 1000;
  }

  async init(): Promise<void> {
    await mkdir(this.tmpDir, { recursive: true });
    for (let i = 0; i < 256; i++)
      await mkdir(path.join(this.root, i.toString(16).padStart(2, '0')), { recursive: true });
    await fsyncDir(this.root);
  }

  async probe(): Promise<void> {
    const p = path.join(this.tmpDir, `probe-${randomUUID()}`);
    const fh = await open(p, 'wx');
    try {
      await fh.write('ok');
      await fh.sync();
    } finally {
      await fh.close();
      await unlink(p).catch(() => {});
    }
  }

  pathOf(fileId: string): string {
    if (!BLOB_ID_RE.test(fileId)) throw new Error(`invalid file id ${JSON.stringify(fileId)}`);
    return path.join(this.root, fileId.slice(0, 2), fileId);
  }

  async stage(): Promise<StagedBlob> {
    const tmp = path.join(this.tmpDir, randomUUID());
    return fileStagedBlob(tmp, () => this.place(tmp));
  }

  /** Stages a blob to be published under a given id: a replica of a peer's blob (cluster). */
  async stageAs(fileId: string): Promise<StagedBlob> {
    this.pathOf(fileId); // refuses a malformed id before anything is written
    const tmp = path.join(this.tmpDir, randomUUID());
    return fileStagedBlob(tmp, () => this.place(tmp, fileId));
  }

  /** Gives a fsynced temp file its id and makes the rename durable; removes it on failure. */
  private async place(tmpPath: string, fileId = newBlobId()): Promise<string> {
    try {
      const dest = this.pathOf(fileId);
      const dir = path.dirname(dest);
      await rename(tmpPath, dest);
      await fsyncDir(dir);
    } catch (err) {
      await rm(tmpPath, { force: true });
      throw err;
    }
    return fileId;
  }

  async openRead(fileId: string, range?: ByteRange): Promise<Readable> {
    let fh;
    try {
      fh = await open(this.pathOf(fileId), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new FileMissingError(fileId);
      throw err;
    }
    // Up to 1 MiB per read: fewer thread-pool round trips and larger socket writes for big
    // objects, but never a buffer larger than what is read (a 1 MiB buffer per small GET
    // costs more in allocation and GC than the read itself).
    const length = range ? range.end - range.start + 1 : 64 * 1024;
    const highWaterMark = Math.min(1024 * 1024, Math.max(16 * 1024, length));
    const stream = createReadStream('', { fd: fh, start: range?.start, end: range?.end, highWaterMark });
    if (!range) return stream;
    // A GET sends the range itself through reused buffers (file-send.ts); the stream is never
    // read then, and destroying it closes the file.
    const sendable = stream as typeof stream & SendableFile;
    sendable.sendTo = async (out) => {
      try {
        await sendFileRange(fh, range.start, range.end, out);
      } finally {
        stream.destroy();
      }
    };
    return sendable;
  }

  async exists(fileId: string): Promise<boolean> {
    try {
      await access(this.pathOf(fileId));
      return true;
    } catch {
      return false;
    }
  }

  async remove(fileId: string): Promise<void> {
    try {
      await unlink(this.pathOf(fileId));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  async concat(sources: readonly ConcatSource[], observe?: (chunk: Buffer) => void): Promise<string> {
    const only = sources.length === 1 ? sources[0]! : undefined;
    if (observe || !only || only.range) return concatByCopy(this, sources, observe);
    // A whole-file copy nobody needs to see: let the kernel copy it (copy_file_range, or a
    // reflink where the filesystem can), then make it durable like any other new file.
    const tmp = path.join(this.tmpDir, randomUUID());
    try {
      await copyFile(this.pathOf(only.fileId), tmp);
    } catch (err) {
      await rm(tmp, { force: true });
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new FileMissingError(only.fileId);
      throw err;
    }
    const fh = await open(tmp, 'r+');
    try {
      await fsyncOrDie(fh, tmp);
    } finally {
      await fh.close();
    }
    return this.place(tmp);
  }

  async cleanStaging(): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.tmpDir)) {
      await rm(path.join(this.tmpDir, name), { force: true, recursive: true });
      removed++;
    }
    return removed;
  }

  /** Orphans (files no row references) are moved to a quarantine folder of this sweep. */
  async sweepOrphans(keep: (fileId: string, modifiedMs?: number) => boolean): Promise<number> {
    let removed = 0;
    const runDir = path.join(this.quarantineDir, String(Date.now()));
    for (const a of await readdir(this.root)) {
      if (!/^[0-9a-f]{2}$/.test(a) || !(await stat(path.join(this.root, a))).isDirectory()) continue;
      const dir = path.join(this.root, a);
      for (const name of await readdir(dir)) {
        if (BLOB_ID_RE.test(name) && keep(name)) continue;
        // A file no row references is moved aside rather than deleted: if the database was
        // restored from an older copy, the operator can still bring the bytes back.
        if (this.quarantineMaxAgeMs > 0) {
          await mkdir(runDir, { recursive: true });
          await rename(path.join(dir, name), path.join(runDir, name));
        } else {
          await rm(path.join(dir, name), { force: true, recursive: true });
        }
        removed++;
      }
    }
    await this.pruneQuarantine(Date.now());
    return removed;
  }

  /** Drops quarantine folders (named by the start's time in ms) older than the configured age. */
  private async pruneQuarantine(now: number): Promise<void> {
    let runs: string[];
    try {
      runs = await readdir(this.quarantineDir);
    } catch {
      return;
    }
    for (const run of runs) {
      if (/^\d+$/.test(run) && now - Number(run) >= this.quarantineMaxAgeMs)
        await rm(path.join(this.quarantineDir, run), { recursive: true, force: true });
    }
  }
}

/** fsyncDir for a caller that may not yield (the Raft Ready loop); an error is an FsyncError. */
export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } catch (err) {
    throw new FsyncError(dir, err);
  } finally {
    closeSync(fd);
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fsyncOrDie(fh, dir);
  } finally {
    await fh.close();
  }
}
