// Start-up is recovery (crash-only): finish recorded file removals, reap expired multipart
// uploads, empty the temp dir, remove files no row references, and report rows whose file
// is missing. The same reaping runs periodically while serving.
import type { Config } from './config.ts';
import type { MetadataStore } from './metadata/sqlite.ts';
import type { UploadStore } from './metadata/uploads.ts';
import type { StorageBackend } from './storage/backend.ts';
import type { Logger } from './ops/log.ts';

export interface RecoveryReport {
  gcFilesRemoved: number;
  expiredUploadsFiles: number;
  tempFilesRemoved: number;
  orphanFilesRemoved: number;
  missingFiles: number;
}

interface Parts { config: Config; metadata: MetadataStore; uploads: UploadStore; storage: StorageBackend; log: Logger }

/** Removes every file whose removal was recorded in gc_files (and is still unreferenced). */
export async function drainGc({ metadata, storage }: Pick<Parts, 'metadata' | 'storage'>): Promise<number> {
  let removed = 0;
  for (let ids = metadata.pendingGc(); ids.length; ids = metadata.pendingGc()) {
    const gone = ids.filter((id) => !metadata.isFileReferenced(id));
    for (const id of gone) await storage.remove(id);
    metadata.gcDone(ids);
    removed += gone.length;
  }
  return removed;
}

/** Drops uploads older than the TTL; their part files go through gc_files. */
export async function reapUploads(p: Pick<Parts, 'config' | 'uploads' | 'metadata' | 'storage'>, now = Date.now()): Promise<number> {
  const cutoff = new Date(now - p.config.multipart.upload_ttl_seconds * 1000).toISOString();
  const files = p.uploads.reapExpired(cutoff);
  if (files.length) await drainGc(p);
  return files.length;
}

export async function recover(p: Parts): Promise<RecoveryReport> {
  const expiredUploadsFiles = await reapUploads(p);
  const gcFilesRemoved = await drainGc(p);
  const { tempFilesRemoved, orphanFilesRemoved } = await p.storage.recover((id) => p.metadata.isFileReferenced(id));
  let missingFiles = 0;
  for (const fileId of p.metadata.referencedFileIds()) {
    if (!(await p.storage.exists(fileId))) {
      missingFiles++;
      if (missingFiles <= 20) p.log.error('metadata row points at a missing file; reads of it answer InternalError', { file_id: fileId });
    }
  }
  return { gcFilesRemoved, expiredUploadsFiles, tempFilesRemoved, orphanFilesRemoved, missingFiles };
}

/** Periodic reaping while serving; the returned function stops it. */
export function startReaper(p: Parts): () => void {
  const every = p.config.multipart.reap_interval_seconds * 1000;
  if (every <= 0) return () => {};
  const timer = setInterval(() => {
    reapUploads(p).catch((err: unknown) => p.log.error('reaping expired uploads failed', { error: err }));
  }, every);
  timer.unref();
  return () => clearInterval(timer);
}
