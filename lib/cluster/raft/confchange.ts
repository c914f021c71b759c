// Single-server membership changes (thesis §4.1): each change moves the voter set by at most
// one, so any majority of the old set overlaps any majority of the new one and no joint
// consensus is needed. New servers join as learners (non-voting) and are promoted with
// addNode once caught up (thesis §4.2.1).
import type { ConfChange, ConfState, NodeId } from './types.ts';

export function applyToConfState(cs: ConfState, cc: ConfChange): ConfState {
  const id = cc.nodeId;
  const voters = cs.voters.filter((v) => v !== id);
  const learners = cs.learners.filter((v) => v !== id);
  if (cc.type === 'addNode') voters.push(id);
  else if (cc.type === 'addLearner') learners.push(id);
  return { voters: voters.sort((a, b) => a - b), learners: learners.sort((a, b) => a - b) };
}

/** Why a leader refuses to propose cc (undefined = acceptable). */
export function refuseConfChange(
  cs: ConfState,
  cc: ConfChange,
  learnerMatch: (id: NodeId) => number,
  committed: number,
): string | undefined {
  if (!Number.isInteger(cc.nodeId) || cc.nodeId <= 0) return 'node id must be a positive integer';
  const isVoter = cs.voters.includes(cc.nodeId);
  const isLearner = cs.learners.includes(cc.nodeId);
  switch (cc.type) {
    case 'addNode':
      if (isVoter) return 'already a voter';
      if (!isLearner) return 'add it as a learner first (thesis §4.2.1)';
      if (learnerMatch(cc.nodeId) < committed) return 'learner has not caught up with the commit index';
      return undefined;
    case 'addLearner':
      if (isLearner) return 'already a learner';
      if (isVoter && cs.voters.length === 1) return 'cannot demote the last voter';
      return undefined;
    case 'removeNode':
      if (!isVoter && !isLearner) return 'not a member';
      if (isVoter && cs.voters.length === 1) return 'cannot remove the last voter';
      return undefined;
    default:
      return 'unknown change type';
  }
}
