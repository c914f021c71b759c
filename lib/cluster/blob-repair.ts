// Background repair for the local backend in a cluster: every blob this node's metadata
// references but its disk lacks is fetched from a peer (after start-up, and again after a
// snapshot replaced the metadata, as when a node rejoins with an empty data directory).
// The periodic safety-net pass is paced (a pause after each page of ids): each id costs a
// stat on the thread pool, and at a million blobs an unpaced pass every 30 s would keep the
// pool busy for good. Passes asked for by an event (start, restore, new leader, joined) run
// at full speed, and hurry a paced pass already under way.
import type { MetadataStore } from '../metadata/sqlite.ts';
import type { StorageBackend } from '../storage/backend.ts';
import type { Logger } from '../ops/log.ts';
import type { BlobSync } from './blob-sync.ts';

const PAGE = 256;
/** Pause after each page of a paced pass: at most ~5,000 stats a second. */
const PACE_MS = 50;

export interface BlobRepair {
  /** Runs a pass now (or right after the running one); resolves with blobs still missing.
   *  `paced`: the periodic pass; skipped while another pass runs. */
  run(opts?: { paced?: boolean }): Promise<number>;
  stop(): void;
}

export interface SweepOptions {
  /** True while this node has applied everything its leader committed (not lagging). */
  caughtUp(): boolean;
  /** Milliseconds since the blob was written, or undefined if it is gone. */
  ageMs(fileId: string): number | undefined;
  graceMs: number;
  /** Tests: ids per page and the pause after each page of a paced pass. */
  pageSize?: number;
  paceMs?: number;
}

export function blobRepair(
  metadata: Pick<MetadataStore, 'referencedFileIds' | 'isFileReferenced'>,
  storage: StorageBackend,
  blobs: BlobSync,
  log: Logger,
  sweep: SweepOptions,
): BlobRepair {
  let stopped = false;
  let running: Promise<number> | undefined;
  let again = false;
  let hurry = false;
  const pageSize = sweep.pageSize ?? PAGE;
  const paceMs = sweep.paceMs ?? PACE_MS;
  const pass = async (paced: boolean): Promise<number> => {
    let after = '';
    let fetched = 0;
    let missing = 0;
    for (;;) {
      if (stopped) return missing;
      const ids = metadata.referencedFileIds(after, pageSize);
      if (!ids.length) break;
      for (const id of ids) {
        if (stopped) return missing;
        if (await storage.exists(id)) continue;
        if (await blobs.fetch(id)) fetched++;
        else if (metadata.isFileReferenced(id)) missing++;
      }
      after = ids[ids.length - 1]!;
      if (paced && !hurry) await new Promise((r) => setTimeout(r, paceMs));
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
  const run = (opts: { paced?: boolean } = {}): Promise<number> => {
    if (running) {
      if (opts.paced) return running;
      hurry = true;
      again = true;
      return running;
    }
    hurry = false;
    running = pass(opts.paced === true)
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
