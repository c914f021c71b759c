// Free space on the data directory's filesystem. New object data is refused below a floor
// (storage.min_free_bytes), so the space under it stays for metadata: deletes, ACL changes
// and the metadata of Abort/Complete keep working on a full disk. A reserve file next to
// the database holds back a little more, for when something else fills the disk: it is
// released when SQLite reports a full disk (not at the floor: below it new data is refused
// already, and a reserve released early is only more room for whatever fills the disk), and
// made again once there is room.
import { open, statfs, unlink } from 'node:fs/promises';
import path from 'node:path';
import { S3Error } from '../s3/errors.ts';
import type { Logger } from '../ops/log.ts';
import type { Config } from '../config.ts';
import type { Command, ResultOf } from '../metadata/commands.ts';

const MiB = 1024 * 1024;
const POLL_MS = 1000;
/**
 * A statfs is a thread-pool round trip (5-8% of a small PUT's CPU, issue #17): a write is
 * admitted on a measurement at most FRESH_MS old, less what was admitted since, while that
 * leaves HEADROOM above the floor. Near the floor every write still asks the kernel.
 */
const FRESH_MS = 250;
const HEADROOM = 256 * MiB;

export interface DiskStatus {
  free_bytes: number;
  min_free_bytes: number;
  reserve_bytes: number;
  /** True while new object data is refused. */
  low: boolean;
}

/**
 * 503 is what S3 clients retry with back-off (the AWS SDKs retry every 503; 507 is not in
 * their retryable set), and AWS itself answers ServiceUnavailable/SlowDown when it cannot
 * take a write right now. https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
 */
export function lowOnSpace(): S3Error {
  return new S3Error(
    'ServiceUnavailable',
    'The server is low on disk space and cannot store new data now; retry later or delete objects.',
    {},
    { 'Retry-After': '5' },
  );
}

/** A full disk as SQLite reports it (SQLITE_FULL, result code 13) or as the kernel does. */
export function isDiskFull(err: unknown): boolean {
  const e = err as { errcode?: number; code?: string; message?: string } | null;
  if (!e || typeof e !== 'object') return false;
  return (
    e.code === 'ENOSPC' ||
    (typeof e.errcode === 'number' && (e.errcode & 0xff) === 13) ||
    /database or disk is full/.test(e.message ?? '')
  );
}

export class DiskGuard {
  readonly minFree: number;
  readonly reserveBytes: number;
  private readonly dirs: readonly string[];
  private readonly reservePath: string;
  private holding = false;
  /** Free bytes when a write was last refused; cleared by the next admitted write. */
  private refusedAt: number | undefined;
  private busy: Promise<void> = Promise.resolve();
  private measuredFree = 0;
  private measuredAt = -Infinity;
  private admittedSince = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  /** `dirs`: every directory new bytes land in; the reserve file goes in the first. */
  constructor(dirs: readonly string[], minFree: number, log: Logger) {
    this.log = log;
    this.dirs = [...new Set(dirs.map((d) => path.resolve(d)))];
    this.minFree = minFree;
    this.reserveBytes = minFree === 0 ? 0 : Math.min(8 * MiB, Math.ceil(minFree / 4));
    this.reservePath = path.join(this.dirs[0]!, 'space-reserve');
  }

  /** Least free space (for an unprivileged writer) over the directories. Callers that ask
   *  while a measurement is under way share it: when the thread pool is slow to answer, every
   *  PUT of the stale window asked the kernel on its own (one statfs per PUT on a loaded
   *  cluster leader). */
  free(): Promise<number> {
    this.measuring ??= this.measure().finally(() => {
      this.measuring = undefined;
    });
    return this.measuring;
  }

  private measuring: Promise<number> | undefined;

  private async measure(): Promise<number> {
    let least = Infinity;
    for (const d of this.dirs) {
      const s = await statfs(d);
      least = Math.min(least, s.bavail * s.bsize);
    }
    this.measuredFree = least;
    this.measuredAt = performance.now();
    this.admittedSince = 0;
    return least;
  }

  async start(): Promise<void> {
    if (this.minFree === 0) return;
    await unlink(this.reservePath).catch(() => {}); // taken again below if there is room
    await this.poll();
    this.timer = setInterval(() => void this.poll(), POLL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Throws 503 ServiceUnavailable when storing `size` more bytes would go below the floor. */
  async admit(size: number): Promise<void> {
    if (this.minFree === 0) return;
    const estimate = this.measuredFree - this.admittedSince - size;
    if (performance.now() - this.measuredAt < FRESH_MS && estimate >= this.minFree + HEADROOM) {
      this.admittedSince += size;
      this.refusedAt = undefined;
      return;
    }
    const free = await this.free();
    if (free - size < this.minFree) {
      this.refusedAt = free;
      void this.poll();
      throw lowOnSpace();
    }
    this.refusedAt = undefined;
  }

  /** Frees the reserve for metadata; true if there was one to free. */
  release(): Promise<boolean> {
    return this.serial(async () => {
      if (!this.holding) return false;
      this.holding = false;
      await unlink(this.reservePath).catch(() => {});
      this.log.warn('disk nearly full: released the metadata space reserve', { path: this.reservePath });
      return true;
    });
  }

  async status(): Promise<DiskStatus> {
    const free = await this.free();
    // Low while under the floor, or while the last write was refused and nothing freed space since.
    const low = free < this.minFree || (this.refusedAt !== undefined && free <= this.refusedAt);
    return { free_bytes: free, min_free_bytes: this.minFree, reserve_bytes: this.holding ? this.reserveBytes : 0, low };
  }

  private poll(): Promise<void> {
    return this.serial(async () => {
      const free = await this.free();
      if (!this.holding && free >= this.minFree + this.reserveBytes) {
        this.holding = await this.takeReserve();
      }
    }).catch((err: unknown) => this.log.warn('free-space check failed', { error: err }));
  }

  private async takeReserve(): Promise<boolean> {
    // Written, not just sized: tmpfs and most filesystems allocate a sparse file lazily.
    const fh = await open(this.reservePath, 'w');
    try {
      const chunk = Buffer.alloc(Math.min(MiB, this.reserveBytes));
      for (let done = 0; done < this.reserveBytes; done += chunk.length)
        await fh.write(chunk, 0, Math.min(chunk.length, this.reserveBytes - done));
      await fh.sync();
      return true;
    } catch {
      await unlink(this.reservePath).catch(() => {});
      return false;
    } finally {
      await fh.close();
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.busy.then(fn);
    this.busy = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}

/** The guard for a config: the directories new bytes land in (metadata, objects, staging). */
export function createDiskGuard(config: Config, log: Logger): DiskGuard {
  const dirs: string[] = [];
  if (config.metadata.sqlite.path !== ':memory:') dirs.push(path.dirname(config.metadata.sqlite.path));
  if (config.storage.backend === 'local') dirs.push(config.storage.local.root_dir);
  if (['aws', 'azure', 'gcp'].includes(config.storage.backend)) dirs.push(config.storage.staging_dir);
  return new DiskGuard(dirs.length ? dirs : ['.'], dirs.length ? config.storage.min_free_bytes : 0, log);
}

/**
 * Metadata writes that fail on a full disk get the reserve and one more try, so a delete
 * that frees space is not refused for lack of the few pages its own commit needs.
 */
export function retryMetadataWhenFull(
  metadata: { submit<C extends Command>(cmd: C): Promise<ResultOf<C>> },
  guard: DiskGuard,
): void {
  const submit = metadata.submit.bind(metadata);
  metadata.submit = async <C extends Command>(cmd: C): Promise<ResultOf<C>> => {
    try {
      return await submit(cmd);
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      // One more try whether this call freed the reserve or the guard's own poll did a moment
      // before (release() then finds nothing to free, but the space is there).
      await guard.release();
      return submit(cmd);
    }
  };
}
