// A node that starts with no durable Raft state may have voted, before its data directory was
// lost, in a term that is still being decided (paper §5.2 needs votedFor to survive a crash).
// It holds its votes for a while (Raft.holdVotes) unless every other member says it is at
// term 0 as well: then no election has happened yet (a brand-new cluster) and there is no
// earlier vote to forget, so the first election need not wait.
import type { NodeId } from './raft/index.ts';

export interface NewClusterProbe {
  peers: NodeId[];
  /** A peer's current term, or undefined if it cannot be asked now. */
  termOf(id: NodeId): Promise<number | undefined>;
  /** Give up (keep holding) after this long. */
  deadlineMs: number;
  retryMs: number;
  stopped(): boolean;
}

/** True once every peer said term 0; false as soon as one is past it, or at the deadline. */
export async function isNewCluster(p: NewClusterProbe): Promise<boolean> {
  const fresh = new Set<NodeId>();
  const end = Date.now() + p.deadlineMs;
  while (!p.stopped() && Date.now() < end) {
    for (const id of p.peers) {
      if (fresh.has(id)) continue;
      const term = await p.termOf(id).catch(() => undefined);
      if (term === 0) fresh.add(id);
      else if (term !== undefined) return false;
    }
    if (fresh.size === p.peers.length) return true;
    await new Promise((r) => setTimeout(r, p.retryMs));
  }
  return false;
}
