// Writes a stream of buffers to a new file with one write in flight at a time: buffers
// that arrive meanwhile are gathered and written together with writev, and the producer is
// asked to wait only when too much is gathered. Memory stays bounded whatever the size.
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { fsyncOrDie } from '../storage/backend.ts';

const HIGH_WATER_BYTES = 1024 * 1024;
const MAX_IOVECS = 1024; // IOV_MAX on Linux

export class FileSink {
  readonly path: string;
  private readonly fh: FileHandle;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private position = 0;
  private inflight: Promise<void> | undefined;
  private failure: unknown;
  private closed = false;

  private constructor(path: string, fh: FileHandle) {
    this.path = path;
    this.fh = fh;
  }

  /** Creates the file; fails (EEXIST) rather than overwrite anything. */
  static async create(path: string): Promise<FileSink> {
    return new FileSink(path, await open(path, 'wx', 0o600));
  }

  /** Queues a buffer. The buffer must not be modified afterwards. */
  push(buf: Buffer): void {
    if (buf.length === 0) return;
    this.pending.push(buf);
    this.pendingBytes += buf.length;
    if (!this.inflight) this.startWrite();
  }

  /** A promise to await before pushing more, or undefined when there is room. */
  backpressure(): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return this.pendingBytes >= HIGH_WATER_BYTES ? this.inflight : undefined;
  }

  private startWrite(): void {
    const batch = this.pending.length > MAX_IOVECS ? this.pending.splice(0, MAX_IOVECS) : this.pending;
    if (batch === this.pending) this.pending = [];
    let bytes = 0;
    for (const b of batch) bytes += b.length;
    this.pendingBytes -= bytes;
    this.inflight = this.writeAll(batch, bytes).then(
      () => {
        this.inflight = undefined;
        if (this.pending.length > 0 && this.failure === undefined) this.startWrite();
      },
      (err: unknown) => {
        this.failure ??= err;
        this.inflight = undefined;
      },
    );
  }

  private async writeAll(batch: Buffer[], bytes: number): Promise<void> {
    let written = (await this.fh.writev(batch, this.position)).bytesWritten;
    this.position += written;
    // A short write is legal; write what is left.
    while (written < bytes) {
      const rest = Buffer.concat(batch).subarray(written);
      const n = (await this.fh.write(rest, 0, rest.length, this.position)).bytesWritten;
      written += n;
      this.position += n;
    }
  }

  private async drain(): Promise<void> {
    while (this.inflight) await this.inflight;
    if (this.failure !== undefined) throw this.failure;
  }

  /** Writes everything queued, fsyncs and closes. Errors (fsync's included) are thrown. */
  async finish(): Promise<void> {
    await this.drain();
    await fsyncOrDie(this.fh, this.path);
    this.closed = true;
    await this.fh.close();
  }

  /** Closes (if needed) and removes the file; never throws. */
  async discard(): Promise<void> {
    this.pending = [];
    this.pendingBytes = 0;
    while (this.inflight) await this.inflight;
    if (!this.closed) {
      this.closed = true;
      await this.fh.close().catch(() => {});
    }
    await unlink(this.path).catch(() => {});
  }
}
