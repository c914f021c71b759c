// Start-up is recovery (crash-only): reap expired multipart uploads, finish recorded blob
// removals and empty the staging area. Its cost does not grow with the number of objects:
// removing blobs no row references (a listing of every blob) and checking that every
// referenced blob exists (one cloud HEAD per object on a gateway) are a background scrub
// after start. While serving, the reaper also retries blob removals that failed (gc_files
// keeps the intent).
import type { Config } from './config.ts';
import type { MetadataStore } from './metadata/sqlite.ts';
import type { StorageBackend } from './storage/backend.ts';
import type { Logger } from './ops/log.ts';
import { applyLifecycle } from './lifecycle.ts';

export interface RecoveryReport {
  gcFilesRemoved: number;
  expiredUploadsFiles: number;
  tempFilesRemoved: number;
  /** Unreferenced blobs removed: filled in by the background scrub. */
  orphanFilesRemoved: number;
  /** Referenced blobs found missing so far: filled in by the background scrub. */
  missingFiles: number;
}

interface Parts {
  config: Config;
  metadata: MetadataStore;
  storage: StorageBackend;
  log: Logger;
}

/** Removes every blob whose removal was recorded in gc_files (and is still unreferenced). */
export async function drainGc({ metadata, storage }: Pick<Parts, 'metadata' | 'storage'>): Promise<number> {
  let removed = 0;
  for (let ids = metadata.pendingGc(); ids.length; ids = metadata.pendingGc()) {
    const gone = ids.filter((id) => !metadata.isFileReferenced(id));
    for (const id of gone) await storage.remove(id);
    await metadata.submit({ type: 'gc.done', fileIds: ids });
    removed += gone.length;
  }
  return removed;
}

/** Drops uploads older than the TTL; their part files go through gc_files. */
export async function reapUploads(
  p: Pick<Parts, 'config' | 'metadata' | 'storage'>,
  now = Date.now(),
): Promise<number> {
  const cutoff = new Date(now - p.config.multipart.upload_ttl_seconds * 1000).toISOString();
  const files = await p.metadata.submit({ type: 'uploads.reap', cutoff, at: new Date(now).toISOString() });
  if (files.length) await drainGc(p);
  return files.length;
}

export async function recover(p: Parts): Promise<RecoveryReport> {
  const expiredUploadsFiles = await reapUploads(p);
  const gcFilesRemoved = await drainGc(p);
  const tempFilesRemoved = await p.storage.cleanStaging();
  return { gcFilesRemoved, expiredUploadsFiles, tempFilesRemoved, orphanFilesRemoved: 0, missingFiles: 0 };
}

/** Failed blob removals are retried at least this often (gc_files keeps the intent). */
const GC_RETRY_MS = 60_000;

/**
 * Periodic work while serving: reap expired uploads every reap interval, and retry blob
 * removals that failed every minute (or every reap interval, if shorter). The returned
 * function stops it.
 */
export function startReaper(p: Parts & { isLeader?: () => boolean }): () => void {
  const every = p.config.multipart.reap_interval_seconds * 1000;
  if (every <= 0) return () => {};
  const tick = Math.min(every, GC_RETRY_MS);
  let running = false;
  let lastReap = Date.now();
  const timer = setInterval(() => {
    // Cluster mode: only the leader reaps (its changes are commands through Raft; every other
    // node removes its copies of the blobs when it applies gc.done).
    if (running || (p.isLeader && !p.isLeader())) return;
    running = true;
    const reap = Date.now() - lastReap >= every - tick / 2;
    if (reap) lastReap = Date.now();
    (reap
      ? reapUploads(p).then(() =>
          applyLifecycle(
            { metadata: p.metadata, region: p.config.server.region },
            Date.now(),
            p.config.lifecycle.day_seconds * 1000,
          ).then((r) => {
            if (Object.values(r).some((n) => n > 0)) p.log.info('lifecycle applied', { ...r });
          }),
        )
      : Promise.resolve()
    )
      .then(() => drainGc(p))
      .catch((err: unknown) =>
        p.log.error('reaping expired uploads or removing blobs failed; retrying next round', { error: err }),
      )
      .finally(() => {
        running = false;
      });
  }, tick);
  timer.unref();
  return () => clearInterval(timer);
}

const SCRUB_PAGE = 256;

/**
 * The background scrub after start-up. First the orphan sweep: blobs no row references are
 * removed, except those born since start (`born`, watched from before recovery), whose rows
 * may not be committed yet. Then every referenced blob is checked, a page at a time; each
 * missing one is logged (reads of it answer InternalError). Both counts go into `report`.
 * `done` resolves with the missing count; stop() ends the scrub early.
 */
export function startScrub(
  p: Pick<Parts, 'metadata' | 'storage' | 'log'>,
  report: RecoveryReport,
  born: { has(id: string): boolean; release(): void },
): { stop(): void; done: Promise<number> } {
  let stopped = false;
  const run = async (): Promise<number> => {
    try {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (stopped) return 0;
      report.orphanFilesRemoved = await p.storage.sweepOrphans((id) => born.has(id) || p.metadata.isFileReferenced(id));
    } finally {
      born.release();
    }
    let missing = 0;
    let after = '';
    for (;;) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (stopped) return missing;
      const ids = p.metadata.referencedFileIds(after, SCRUB_PAGE);
      if (!ids.length) {
        p.log.info('scrub done', { orphan_files_removed: report.orphanFilesRemoved, missing_files: missing });
        return missing;
      }
      for (const id of ids) {
        if (stopped) return missing;
        if (await p.storage.exists(id)) continue;
        // A row removed meanwhile frees its blob legitimately; only a still-referenced one is missing.
        if (!p.metadata.isFileReferenced(id)) continue;
        missing++;
        report.missingFiles = missing;
        if (missing <= 20)
          p.log.error('metadata row points at a missing file; reads of it answer InternalError', { file_id: id });
      }
      after = ids[ids.length - 1]!;
    }
  };
  const done = run().catch((err: unknown) => {
    if (!stopped) p.log.warn('background scrub stopped early', { error: err });
    return -1;
  });
  return { stop: () => void (stopped = true), done };
}
