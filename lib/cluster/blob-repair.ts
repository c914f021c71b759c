// Background repair for the local backend in a cluster: every blob this node's metadata
// references but its disk lacks is fetched from a peer (after start-up, and again after a
// snapshot replaced the metadata, as when a node rejoins with an empty data directory).
import type { MetadataStore } from '../metadata/sqlite.ts';
import type { StorageBackend } from '../storage/backend.ts';
import type { Logger } from '../ops/log.ts';
import type { BlobSync } from './blob-sync.ts';

const PAGE = 256;

export interface BlobRepair {
  /** Runs a pass now (or right after the running one); resolves with blobs still missing. */
  run(): Promise<number>;
  stop(): void;
}

export interface SweepOptions {
  /** True while this node has applied everything its leader committed (not lagging). */
  caughtUp(): boolean;
  /** Milliseconds since the blob was written, or undefined if it is gone. */
  ageMs(fileId: string): number | undefined;
  graceMs: number;
}

export function blobRepair(
  metadata: MetadataStore,
  storage: StorageBackend,
  blobs: BlobSync,
  log: Logger,
  sweep: SweepOptions,
): BlobRepair {
  let stopped = false;
  let running: Promise<number> | undefined;
  let again = false;
  const pass = async (): Promise<number> => {
    let after = '';
    let fetched = 0;
    let missing = 0;
    for (;;) {
      if (stopped) return missing;
      const ids = metadata.referencedFileIds(after, PAGE);
      if (!ids.length) break;
      for (const id of ids) {
        if (stopped) return missing;
        if (await storage.exists(id)) continue;
        if (await blobs.fetch(id)) fetched++;
        else if (metadata.isFileReferenced(id)) missing++;
      }
      after = ids[ids.length - 1]!;
    }
    // The orphan sweep (files moved to quarantine, see LocalStorage.sweepOrphans): only on a
    // node that is not behind its leader, and only for files older than the grace period,
    // so bytes pushed for a proposal still in flight, or a row this node has not applied
    // yet, are never taken for orphans.
    let swept = 0;
    if (!stopped && sweep.caughtUp())
      swept = await storage.sweepOrphans(
        (id) => metadata.isFileReferenced(id) || (sweep.ageMs(id) ?? Number.POSITIVE_INFINITY) < sweep.graceMs,
      );
    if (fetched || missing || swept) log.info('blob repair done', { fetched, missing, orphans_swept: swept });
    return missing;
  };
  const run = (): Promise<number> => {
    if (running) {
      again = true;
      return running;
    }
    running = pass()
      .catch((err: unknown) => {
        log.warn('blob repair failed; the next pass retries', { error: err });
        return -1;
      })
      .finally(() => {
        running = undefined;
        if (again && !stopped) {
          again = false;
          void run();
        }
      });
    return running;
  };
  return {
    run,
    stop: () => {
      stopped = true;
    },
  };
}
