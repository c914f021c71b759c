// Object bytes on the local disk, one file per object version, named by a random id:
//   <root>/ab/cd/<id>     (fan-out from the id's first four hex digits)
//   <root>/.tmp/<uuid>    (uploads in progress; emptied on every start)
// A file becomes visible only by rename after fsync, and the directory is fsynced after
// the rename, before any metadata points at it.
import { randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, unlink } from 'node:fs/promises';
import path from 'node:path';

const ID_RE = /^[0-9a-f]{32}$/;

export class FileMissingError extends Error {
  readonly fileId: string;
  constructor(fileId: string) {
    super(`object file ${fileId} is missing`);
    this.fileId = fileId;
  }
}

export interface StorageRecovery {
  tempFilesRemoved: number;
  orphanFilesRemoved: number;
}

export class LocalStorage {
  readonly root: string;
  readonly tmpDir: string;
  private readonly knownDirs = new Set<string>();

  constructor(root: string) {
    this.root = path.resolve(root);
    this.tmpDir = path.join(this.root, '.tmp');
  }

  async init(): Promise<void> {
    await mkdir(this.tmpDir, { recursive: true });
    await fsyncDir(this.root);
  }

  newFileId(): string {
    return randomBytes(16).toString('hex');
  }

  tempPath(): string {
    return path.join(this.tmpDir, randomUUID());
  }

  pathOf(fileId: string): string {
    if (!ID_RE.test(fileId)) throw new Error(`invalid file id ${JSON.stringify(fileId)}`);
    return path.join(this.root, fileId.slice(0, 2), fileId.slice(2, 4), fileId);
  }

  /** Moves a fsynced temp file to its final place and makes the rename durable. */
  async commit(tmpPath: string, fileId: string): Promise<void> {
    const dest = this.pathOf(fileId);
    const dir = path.dirname(dest);
    await this.ensureDir(dir);
    await rename(tmpPath, dest);
    await fsyncDir(dir);
  }

  /** Gives a fsynced temp file a new id and commits it; the temp file is removed on failure. */
  async place(tmpPath: string): Promise<string> {
    const fileId = this.newFileId();
    try {
      await this.commit(tmpPath, fileId);
    } catch (err) {
      await this.removeTemp(tmpPath);
      throw err;
    }
    return fileId;
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    const parent = path.dirname(dir);
    const created = await mkdir(dir, { recursive: true });
    if (created !== undefined) {
      // New directory entries must themselves be durable before a file inside counts.
      await fsyncDir(parent);
      await fsyncDir(path.dirname(parent));
    }
    this.knownDirs.add(dir);
  }

  /** Opens the file for reading a byte range (inclusive end), or all of it. */
  async openRead(fileId: string, range?: { start: number; end: number }): Promise<ReadStream> {
    let fh;
    try {
      fh = await open(this.pathOf(fileId), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new FileMissingError(fileId);
      throw err;
    }
    return createReadStream('', { fd: fh, start: range?.start, end: range?.end, highWaterMark: 256 * 1024 });
  }

  /** Copies (a range of) a stored file into a new fsynced temp file; see concatToTemp. */
  copyToTemp(fileId: string, range: { start: number; end: number } | undefined, observe: (chunk: Buffer) => void): Promise<string> {
    return this.concatToTemp([{ fileId, range }], observe);
  }

  /**
   * Writes stored files (or ranges of them) one after another into a new fsynced temp file,
   * showing every chunk to `observe` (for hashing). Returns the temp path; the caller
   * commits or removes it. Memory use is one read buffer, whatever the sizes.
   */
  async concatToTemp(sources: ReadonlyArray<{ fileId: string; range?: { start: number; end: number } | undefined }>, observe: (chunk: Buffer) => void): Promise<string> {
    const tmp = this.tempPath();
    const fh = await open(tmp, 'wx');
    try {
      for (const s of sources) {
        const src = await this.openRead(s.fileId, s.range);
        try {
          for await (const chunk of src as AsyncIterable<Buffer>) {
            observe(chunk);
            let off = 0;
            while (off < chunk.length) off += (await fh.write(chunk, off)).bytesWritten;
          }
        } finally {
          src.destroy();
        }
      }
      await fh.sync();
      await fh.close();
      return tmp;
    } catch (err) {
      await fh.close().catch(() => {});
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async remove(fileId: string): Promise<void> {
    try {
      await unlink(this.pathOf(fileId));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  async removeTemp(tmpPath: string): Promise<void> {
    await rm(tmpPath, { force: true });
  }

  /** Start-up recovery: empty the temp dir and remove files nothing references. */
  async recover(isReferenced: (fileId: string) => boolean): Promise<StorageRecovery> {
    const report: StorageRecovery = { tempFilesRemoved: 0, orphanFilesRemoved: 0 };
    for (const name of await readdir(this.tmpDir)) {
      await rm(path.join(this.tmpDir, name), { force: true, recursive: true });
      report.tempFilesRemoved++;
    }
    for (const a of await readdir(this.root)) {
      if (!/^[0-9a-f]{2}$/.test(a)) continue;
      for (const b of await readdir(path.join(this.root, a))) {
        const dir = path.join(this.root, a, b);
        for (const name of await readdir(dir)) {
          if (ID_RE.test(name) && isReferenced(name)) continue;
          await rm(path.join(dir, name), { force: true, recursive: true });
          report.orphanFilesRemoved++;
        }
      }
    }
    return report;
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
