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

export function blobRepair(metadata: MetadataStore, storage: StorageBackend, blobs: BlobSync, log: Logger): BlobRepair {
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
    if (fetched || missing) log.info('blob repair done', { fetched, missing });
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
