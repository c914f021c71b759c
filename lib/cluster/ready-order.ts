// When the Ready loop (node.ts) may leave its strict order (raft/API.md: persist, then send,
// then apply): a leader's appends may leave before its own fsync, and what they commit of
// earlier batches may be applied before it.
import type { HardState, Ready, Role } from './raft/index.ts';

/**
 * A leader's Ready that appends to its log and only sends appends and heartbeats in its
 * current, already durable term: the messages may leave before the fsync. Raft thesis
 * §10.2.1: the leader may write to its own disk in parallel with replicating to the
 * followers; an entry commits only on a majority of durable copies. An acknowledgement read
 * before the leader's own fsync returns may count the leader's copy early, but only in
 * memory: the Ready loop is parked until then, so nothing it commits is applied, answered or
 * sent before that copy is durable. Votes, acknowledgements and anything after a term or
 * vote change keep the strict order (API.md).
 */
export function appendsOnly(rd: Ready, role: Role, durableState: () => HardState): boolean {
  if (rd.entries.length === 0 || rd.snapshot || rd.messages.length === 0) return false;
  if (role !== 'leader') return false;
  const durable = durableState();
  if (rd.hardState && (rd.hardState.term !== durable.term || rd.hardState.vote !== durable.vote)) return false;
  return rd.messages.every((m) => (m.type === 'MsgApp' || m.type === 'MsgHeartbeat') && m.term === durable.term);
}

/**
 * Whether an appendsOnly Ready may apply its committed entries before its new entries are
 * saved, so the answers to them do not wait for that fsync: every one of them was saved by an
 * earlier Ready, and none changes the membership (whose apply writes the Raft log's
 * configuration). A lone voter commits its new entries at once: those wait.
 */
export function appliesDurable(rd: Ready): boolean {
  const c = rd.committedEntries;
  if (c.length === 0) return false;
  if (c[c.length - 1]!.index >= rd.entries[0]!.index) return false;
  return c.every((e) => e.type !== 'confChange');
}
