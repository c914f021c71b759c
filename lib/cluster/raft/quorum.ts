// Majority arithmetic over the voters (learners never count, thesis §4.2.1).
import type { NodeId } from './types.ts';

export type VoteResult = 'won' | 'lost' | 'pending';

/** The largest index stored on a majority of voters (paper §5.3). */
export function committedIndex(voters: readonly NodeId[], matchOf: (id: NodeId) => number): number {
  const n = voters.length;
  if (n === 0) return Number.MAX_SAFE_INTEGER;
  const m = new Array<number>(n);
  for (let i = 0; i < n; i++) m[i] = matchOf(voters[i]!);
  m.sort((a, b) => b - a);
  return m[n >> 1]!;
}

export function voteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const q = (voters.length >> 1) + 1;
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === true) granted++;
    else if (v === false) rejected++;
  }
  if (granted >= q) return 'won';
  if (voters.length - rejected < q) return 'lost';
  return 'pending';
}
