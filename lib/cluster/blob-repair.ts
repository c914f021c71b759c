// Background repair for the local backend in a cluster: every blob this node's metadata
// references but its disk lacks is fetched from a peer.
// - A full pass walks every referenced blob, then sweeps orphans: after start-up, after a
//   snapshot replaced the metadata (a node that rejoins with an empty data directory), under
//   a new leader, once a joiner is a member, and every `fullEveryMs` as a safety net. The
//   periodic one is paced (a pause after each page of ids): each id costs a stat on the
//   thread pool, and at a million blobs an unpaced pass would keep the pool busy for good.
//   Passes asked for by an event run at full speed, and hurry a paced pass under way.
// - Between full passes the periodic check (`tick`) looks only at the blobs of commands
//   applied here since the last check: what a write's background pushes may not have brought
//   to this node. Its cost follows the write rate, not the store's size.
import type { MetadataStore } from '../metadata/sqlite.ts';
import type { StorageBackend } from '../storage/backend.ts';
import type { Logger } from '../ops/log.ts';
import type { BlobSync } from './blob-sync.ts';

const PAGE = 256;
/** Pause after each page of a paced pass: at most ~5,000 stats a second. */
const PACE_MS = 50;
/** Ids noted between checks; beyond this many, the next check is a full pass instead. */
const MAX_NOTED = 100_000;

export interface BlobRepair {
  /** Runs a full pass now (or right after the running one); resolves with blobs still
   *  missing. `paced`: skipped while another pass runs. */
  run(opts?: { paced?: boolean }): Promise<number>;
  /** Blob ids a command applied on this node points at: the next check looks at them. */
  noteApplied(ids: readonly string[]): void;
  /** The periodic check: the ids noted since the last one, or a paced full pass when one is
   *  due. Resolves with blobs still missing (a noted one stays noted until it is here). */
  tick(): Promise<number>;
  stop(): void;
}

export interface SweepOptions {
  /** True while this node has applied everything its leader committed (not lagging). */
  caughtUp(): boolean;
  /** Milliseconds since the blob was written, or undefined if it is gone. */
  ageMs(fileId: string): number | undefined;
  graceMs: number;
  /** How often `tick` makes a full pass (and orphan sweep) instead of checking noted ids. */
  fullEveryMs: number;
  /** Tests: ids per page and the pause after each page of a paced pass; the note limit. */
  pageSize?: number;
  paceMs?: number;
  maxNoted?: number;
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
  const maxNoted = sweep.maxNoted ?? MAX_NOTED;
  let noted = new Set<string>();
  let overflow = false;
  let lastFull = Date.now();
  /** A full pass; if it fails, what was noted before it is noted again (the next tick retries). */
  const pass = async (paced: boolean): Promise<number> => {
    // The walk meets every blob referenced now, noted ones included.
    const before = { noted, overflow };
    noted = new Set();
    overflow = false;
    try {
      const missing = await walk(paced);
      lastFull = Date.now();
      return missing;
    } catch (err) {
      for (const id of before.noted) noted.add(id);
      overflow ||= before.overflow;
      throw err;
    }
  };
  const walk = async (paced: boolean): Promise<number> => {
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
        else if (metadata.isFileReferenced(id)) {
          missing++;
          noted.add(id); // no peer had it: the next tick asks again
        }
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
  /** Checks the ids noted since the last check; those still missing (or not reached) stay noted. */
  const check = async (): Promise<number> => {
    const ids = [...noted];
    noted = new Set();
    let fetched = 0;
    let missing = 0;
    let i = 0;
    try {
      for (; i < ids.length && !stopped; i++) {
        const id = ids[i]!;
        if (await storage.exists(id)) continue;
        if (await blobs.fetch(id)) fetched++;
        else if (metadata.isFileReferenced(id)) {
          missing++;
          noted.add(id);
        }
      }
    } finally {
      for (; i < ids.length; i++) noted.add(ids[i]!);
    }
    if (fetched || missing) log.info('blob check done', { checked: ids.length, fetched, missing });
    return missing;
  };
  const start = (job: () => Promise<number>): Promise<number> => {
    hurry = false;
    running = job()
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
  const run = (opts: { paced?: boolean } = {}): Promise<number> => {
    if (running) {
      if (opts.paced) return running;
      hurry = true;
      again = true;
      return running;
    }
    return start(() => pass(opts.paced === true));
  };
  const tick = (): Promise<number> => {
    if (running) return running;
    if (stopped) return Promise.resolve(0);
    if (overflow || Date.now() - lastFull >= sweep.fullEveryMs) return run({ paced: true });
    if (!noted.size) return Promise.resolve(0);
    return start(check);
  };
  const noteApplied = (ids: readonly string[]): void => {
    if (overflow) return;
    for (const id of ids) noted.add(id);
    if (noted.size > maxNoted) {
      noted = new Set();
      overflow = true;
    }
  };
  return {
    run,
    tick,
    noteApplied,
    stop: () => {
      stopped = true;
    },
  };
}
