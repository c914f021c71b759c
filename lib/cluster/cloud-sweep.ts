// The orphan sweep for cloud backends in a cluster. The bytes live once, in the bucket every
// node shares, so a node that deleted by its own replica's view could delete a blob a row it
// has not applied yet points at. Hence: only the leader sweeps; it first confirms it leads and
// has applied everything committed (ReadIndex, Raft thesis §6.4), so its metadata is at least
// that recent; and it deletes only blobs no row references that are older than
// cluster.orphan_grace_seconds (bytes uploaded for a write whose entry is not committed yet
// are young). Losing leadership mid-sweep keeps every blob from then on.
import type { MetadataReads } from '../metadata/reads.ts';
import type { StorageBackend } from '../storage/backend.ts';
import type { Logger } from '../ops/log.ts';
import type { ClusterNode } from './node.ts';

export interface CloudSweepParts {
  storage: Pick<StorageBackend, 'sweepOrphans'>;
  metadata: Pick<MetadataReads, 'isFileReferenced'>;
  node: Pick<ClusterNode, 'status' | 'readBarrier'>;
  graceMs: number;
  log: Logger;
}

export interface SweepOutcome {
  /** False when this node did not lead (or could not confirm it): nothing was listed. */
  ran: boolean;
  removed: number;
  /** Unreferenced blobs spared because they are younger than the grace period (or of unknown age). */
  young: number;
  appliedIndex: number;
}

export async function sweepCloudOrphans(p: CloudSweepParts): Promise<SweepOutcome> {
  const none = { ran: false, removed: 0, young: 0, appliedIndex: 0 };
  const first = p.node.status();
  if (first.role !== 'leader') return none;
  try {
    await p.node.readBarrier();
  } catch {
    return none;
  }
  const at = p.node.status();
  if (at.role !== 'leader' || at.term !== first.term) return none;
  const started = Date.now();
  const leads = () => {
    const s = p.node.status();
    return s.role === 'leader' && s.term === first.term;
  };
  let young = 0;
  const removed = await p.storage.sweepOrphans((id, modifiedMs) => {
    if (!leads() || p.metadata.isFileReferenced(id)) return true;
    if (modifiedMs === undefined || started - modifiedMs < p.graceMs) {
      young++;
      return true;
    }
    return false;
  });
  if (removed || young)
    p.log.info('cloud orphan sweep done', {
      applied_index: at.applied,
      orphans_removed: removed,
      orphans_young: young,
    });
  return { ran: true, removed, young, appliedIndex: at.applied };
}
