// Online backup and restore of a data directory. The metadata is copied with SQLite's
// `VACUUM INTO` (https://sqlite.org/lang_vacuum.html#vacuuminto): one read transaction, so the
// copy is a consistent snapshot even while a server writes. Then every blob that snapshot
// references is copied. An overwrite or delete committed after the snapshot may remove an
// old blob before it is copied; then a fresh snapshot is taken and only the blobs still
// missing are copied, until one snapshot's blobs are all present.
import { constants } from 'node:fs';
import { copyFile, mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.ts';
import { MetadataStore } from '../metadata/sqlite.ts';
import { snapshotFileIds as referencedIds } from '../metadata/snapshot.ts';
import { BLOB_ID_RE } from '../storage/backend.ts';
import { version } from '../version.ts';
import { AdminError } from './open-store.ts';
import { acquireDataLock } from '../data-lock.ts';

export interface BackupReport {
  metadata: string;
  files: number;
  bytes: number;
  snapshots: number;
}

const MANIFEST = 'bleepstore-backup.json';

function blobPath(root: string, id: string): string {
  return path.join(root, id.slice(0, 2), id);
}

async function fsyncPath(p: string): Promise<void> {
  const fh = await open(p, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function backup(config: Config, outDir: string): Promise<BackupReport> {
  const backend = config.storage.backend;
  if (backend === 'memory') throw new AdminError('a memory store has nothing on disk to back up.');
  if (!existsSync(config.metadata.sqlite.path))
    throw new AdminError(`No metadata database at ${config.metadata.sqlite.path}; check --data-dir or --config.`);
  await mkdir(outDir, { recursive: true });
  if ((await readdir(outDir)).length)
    throw new AdminError(`${outDir} is not empty; back up into a new or empty directory.`);
  const objectsOut = path.join(outDir, 'objects');
  const metaOut = path.join(outDir, 'metadata.db');
  const store = new MetadataStore({ path: config.metadata.sqlite.path, durability: config.durability });
  const copied = new Set<string>();
  let bytes = 0;
  let snapshots = 0;
  try {
    for (;;) {
      snapshots++;
      const tmp = `${metaOut}.snapshot-${snapshots}`;
      store.backupTo(tmp);
      // Gateway backends keep bytes in the cloud and `sqlite` keeps them in the database:
      // the snapshot is then the whole backup (see README, "Backups").
      const ids = backend === 'local' ? referencedIds(tmp).filter((id) => !copied.has(id)) : [];
      let vanished = false;
      for (const id of ids) {
        if (!BLOB_ID_RE.test(id)) continue;
        const dest = blobPath(objectsOut, id);
        await mkdir(path.dirname(dest), { recursive: true });
        try {
          await copyFile(blobPath(config.storage.local.root_dir, id), dest, constants.COPYFILE_FICLONE);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          vanished = true;
          continue;
        }
        await fsyncPath(dest);
        bytes += (await stat(dest)).size;
        copied.add(id);
      }
      if (!vanished) {
        for (let i = 1; i < snapshots; i++) await rm(`${metaOut}.snapshot-${i}`, { force: true });
        // Blobs copied for an earlier snapshot that this one no longer references.
        if (snapshots > 1) {
          const final = new Set(referencedIds(tmp));
          for (const id of [...copied].filter((x) => !final.has(x))) {
            bytes -= (await stat(blobPath(objectsOut, id))).size;
            await rm(blobPath(objectsOut, id));
            copied.delete(id);
          }
        }
        await rename(tmp, metaOut);
        break;
      }
      if (snapshots >= 20)
        throw new AdminError('blobs kept disappearing between snapshots (a very busy server); try again.');
    }
  } finally {
    store.close();
  }
  await fsyncPath(metaOut);
  await writeFile(
    path.join(outDir, MANIFEST),
    JSON.stringify(
      {
        format: 1,
        bleepstore_version: version,
        created_at: new Date().toISOString(),
        backend,
        files: copied.size,
        bytes,
      },
      null,
      2,
    ) + '\n',
  );
  await fsyncPath(outDir);
  return { metadata: metaOut, files: copied.size, bytes, snapshots };
}

/** Copies a backup into a data directory that holds no database yet. */
export async function restore(config: Config, fromDir: string): Promise<{ files: number }> {
  if (!existsSync(path.join(fromDir, MANIFEST)))
    throw new AdminError(`${fromDir} is not a BleepStore backup (no ${MANIFEST}).`);
  const dbPath = config.metadata.sqlite.path;
  if (dbPath === ':memory:') throw new AdminError('cannot restore into a memory store.');
  if (existsSync(dbPath))
    throw new AdminError(
      `${dbPath} already exists; restore into an empty data directory (--data-dir), with no server running on it.`,
    );
  // Held while copying: a server started meanwhile would clean the objects as orphans.
  const lock = acquireDataLock(dbPath, 'stop that server; restore into a data directory no server runs on.');
  try {
    return await copyBackup(config, fromDir, dbPath);
  } finally {
    lock.release();
  }
}

async function copyBackup(config: Config, fromDir: string, dbPath: string): Promise<{ files: number }> {
  let files = 0;
  const objectsIn = path.join(fromDir, 'objects');
  if (existsSync(objectsIn)) {
    for (const fan of await readdir(objectsIn)) {
      for (const id of await readdir(path.join(objectsIn, fan))) {
        const dest = blobPath(config.storage.local.root_dir, id);
        await mkdir(path.dirname(dest), { recursive: true });
        await copyFile(path.join(objectsIn, fan, id), dest, constants.COPYFILE_FICLONE);
        await fsyncPath(dest);
        files++;
      }
    }
  }
  // The database last: a restore cut short leaves no database, so the next try starts over.
  await copyFile(path.join(fromDir, 'metadata.db'), `${dbPath}.restoring`);
  await fsyncPath(`${dbPath}.restoring`);
  await rename(`${dbPath}.restoring`, dbPath);
  await fsyncPath(path.dirname(path.resolve(dbPath)));
  return { files };
}
