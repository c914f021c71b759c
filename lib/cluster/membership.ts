// Membership at runtime on the leader (Raft thesis §4): one change at a time, a new node as a
// learner first, promoted to voter once its log has caught up, and leadership handed to
// another voter before the leader itself is removed.
import { ClusterUnavailableError } from './node-api.ts';
import type { ConfChange, NodeId, RaftNode } from './raft/index.ts';
import type { Member } from './snapshot-data.ts';
import type { Waiters } from './waiters.ts';

export interface MembershipDeps {
  id: NodeId;
  raft: RaftNode;
  directory: Map<NodeId, Member>;
  /** Where a change's proposal waits to be applied, by log index. */
  proposals: Waiters<number>;
  stopped(): boolean;
  /** Steps `fn` into the core and runs the Ready loop. */
  input(fn: () => void): void;
  drive(): void;
}

export class Membership {
  private readonly d: MembershipDeps;
  private promoting = false;

  constructor(d: MembershipDeps) {
    this.d = d;
  }

  /** Proposes `cc` (one at a time, thesis §4.1); resolves once applied on this node. */
  change(cc: ConfChange): Promise<unknown> {
    const { raft, id } = this.d;
    const s = raft.status();
    if (this.d.stopped() || s.role !== 'leader')
      return Promise.reject(new ClusterUnavailableError(`node ${id} is not the leader`, 'notLeader', s.lead));
    if (!raft.proposeConfChange(cc))
      return Promise.reject(
        new ClusterUnavailableError('another membership change is still in progress', 'notLeader', s.lead),
      );
    const p = this.d.proposals.wait(
      raft.lastIndex(),
      s.term,
      'the membership change was not applied in time; it may still be',
    );
    this.d.drive();
    return p;
  }

  /** On the leader: hands leadership to the voter `to` (Raft thesis §3.10; the caller picks
   *  it) and resolves with the new leader once this node knows it, or rejects after `timeoutMs`. */
  async transferLeadership(timeoutMs: number, to: NodeId): Promise<NodeId> {
    const { raft, id } = this.d;
    const s = raft.status();
    if (this.d.stopped() || s.role !== 'leader' || !s.progress)
      throw new ClusterUnavailableError(`node ${id} is not the leader`, 'notLeader', s.lead);
    this.d.input(() => raft.transferLeader(to));
    const end = Date.now() + timeoutMs;
    for (;;) {
      const lead = raft.basicStatus().lead;
      if (lead && lead !== id) return lead;
      if (Date.now() > end)
        throw new ClusterUnavailableError('leadership was not handed over in time', 'unknown', lead);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** On the leader (every tick): a learner whose log matches the commit index becomes a voter. */
  promoteLearners(): void {
    const s = this.d.raft.status();
    if (s.role !== 'leader' || this.promoting || !s.progress) return;
    const ready = s.confState.learners.find((l) => (s.progress![l]?.match ?? 0) >= s.commit);
    if (ready === undefined) return;
    const m = this.d.directory.get(ready);
    this.promoting = true;
    this.change({ type: 'addNode', nodeId: ready, ...(m ? { context: JSON.stringify(m) } : {}) })
      .catch(() => {})
      .finally(() => (this.promoting = false));
  }
}
