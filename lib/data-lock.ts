// One server per metadata database. A second server started on the same data directory empties
// the first one's staging area at start-up and sweeps blobs it has renamed into place but not
// committed yet (acknowledged writes lost), and both run the reaper, lifecycle and event
// delivery. So a server, and any command that must not run beside one, holds a lock: SQLite's
// own file lock (fcntl on POSIX) on a small file beside the database, taken by a connection in
// EXCLUSIVE locking mode and kept until it closes (https://sqlite.org/pragma.html#pragma_locking_mode).
// The kernel drops it when the process ends, kill -9 included, so a crash leaves no stale lock;
// it also holds between two stores in one process. etcd and PostgreSQL lock their data
// directories for the same reason.
import { closeSync, mkdirSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ConfigError } from './config-error.ts';

export interface DataLock {
  /** Where the lock is (undefined for an in-memory database, which needs none). */
  readonly file: string | undefined;
  /** Idempotent. */
  release(): void;
}

/** Another process (or another store in this one) holds the lock. */
export class DataInUseError extends ConfigError {
  readonly file: string;
  readonly pid: number | undefined;
  constructor(file: string, pid: number | undefined, advice: string) {
    const holder =
      pid === process.pid
        ? 'another store in this process'
        : pid
          ? `another BleepStore process (pid ${pid})`
          : 'another BleepStore process';
    super(`the data directory ${path.dirname(file)} is in use by ${holder}, which holds ${file}; ${advice}`);
    this.name = 'DataInUseError';
    this.file = file;
    this.pid = pid;
  }
}

/** Locks this process holds. A plain open and close of a locked file would drop the process's
 *  fcntl locks on it (POSIX), so the holder's pid is read from the file only when another
 *  process holds it. */
const heldHere = new Set<string>();

export function lockFileFor(metadataPath: string): string | undefined {
  return metadataPath === ':memory:' || metadataPath === '' ? undefined : `${path.resolve(metadataPath)}.lock`;
}

/**
 * Takes the lock of the metadata database at `metadataPath`, or throws DataInUseError (its
 * message ends with `advice`) when someone holds it.
 */
export function acquireDataLock(metadataPath: string, advice: string): DataLock {
  const file = lockFileFor(metadataPath);
  if (!file) return { file, release() {} };
  if (heldHere.has(file)) throw new DataInUseError(file, process.pid, advice);
  mkdirSync(path.dirname(file), { recursive: true });
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(file, { timeout: 0 });
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    db.exec('PRAGMA journal_mode = MEMORY'); // OFF is refused in node:sqlite's defensive mode
    db.exec('PRAGMA synchronous = OFF');
    // The holder's pid goes into the header's user_version (bytes 60–63), which a process that
    // cannot get the lock still reads with a plain read (the lock is advisory, on other bytes).
    db.exec(`PRAGMA user_version = ${process.pid}`);
  } catch (err) {
    db?.close();
    if (/locked|busy/i.test((err as Error).message)) throw new DataInUseError(file, holderPid(file), advice);
    throw new ConfigError(`cannot take the data directory's lock ${file}: ${(err as Error).message}`);
  }
  heldHere.add(file);
  let held = true;
  return {
    file,
    release() {
      if (!held) return;
      held = false;
      heldHere.delete(file);
      db!.close();
    },
  };
}

function holderPid(file: string): number | undefined {
  try {
    const fd = openSync(file, 'r');
    try {
      const b = Buffer.alloc(4);
      return readSync(fd, b, 0, 4, 60) === 4 ? b.readUInt32BE(0) || undefined : undefined;
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}
