// Promoting a single-node store to a cluster (../shared/specs/clustering.md, "Transition:
// Embedded → Cluster"). The node, alone in its configuration, starts its Raft state from a
// snapshot at index 1 that is a copy of its metadata database: the rows it already holds are
// the replicated state before any log entry exists, and every node added later installs
// them with the leader's snapshot (the log starts after index 1, so a joiner can only catch
// up through a snapshot). etcd restores a member from a snapshot the same way
// (`etcdutl snapshot restore`). Doing it before the first election leaves no moment in which
// a joiner could receive log entries without the old rows.
//
// Crash safety: the Raft state is written in one transaction (snapshot, log offset, term 1),
// then the metadata database records index 1 as applied. A crash before the first leaves a
// store that promotes again; a crash between them leaves Raft state that never ran (term 1,
// nothing past index 1), which is replaced by a fresh promotion of the database as it is.
import type { MetadataStore } from '../metadata/sqlite.ts';
import type { Logger } from '../ops/log.ts';
import { ConfigError } from '../config.ts';
import { listKeys } from '../metadata/credentials.ts';
import type { NodeId } from './raft/index.ts';
import type { ClusterConfig } from './config.ts';
import { members } from './config.ts';
import type { Member } from './node.ts';
import { encodeSnapshot } from './snapshot-data.ts';
import type { MetadataStateMachine } from './metadata-state-machine.ts';
import { SqliteRaftStorage } from './raft-storage-sqlite.ts';

/** A snapshot is one SQLite blob (at most 1e9 bytes) and a joiner takes at most 1 GiB. */
const MAX_SNAPSHOT_BYTES = 900 * 2 ** 20;

export interface Promotion {
  cluster: ClusterConfig;
  metadata: MetadataStore;
  sm: MetadataStateMachine;
  raftPath: string;
  self: NodeId;
  directory: Map<NodeId, Member>;
  log: Logger;
}

/**
 * A store that never applied a log entry but holds buckets or keys was a single node: promote
 * it when this node is alone in its configuration, refuse otherwise (its rows would reach no
 * other node, and the replicas would diverge). Returns true if it promoted.
 */
export function promoteSingleNode(p: Promotion): boolean {
  if (p.sm.applied() > 0) return false;
  const buckets = p.metadata.stats().buckets;
  const keys = listKeys(p.metadata).length;
  if (!buckets && !keys) return false;
  const c = p.cluster;
  const refuse = (why: string): ConfigError =>
    new ConfigError(
      `Config key "cluster.enabled" cannot turn this data directory's single-node store (${buckets} buckets, ${keys} access keys) into a cluster node ${why}`,
    );
  const alone = `list only "${c.node_id}" in cluster.peers, start it, then add the other nodes with \`bleepstore cluster add\``;
  if (c.join)
    throw refuse(
      `as a joiner (cluster.join): a joiner takes the leader's state, which lacks these rows. To promote it, turn cluster.join off, ${alone}.`,
    );
  const others = members(c)
    .filter((m) => m.id !== c.node_id)
    .map((m) => m.id);
  if (others.length)
    throw refuse(
      `while cluster.peers lists other nodes (${others.join(', ')}): only a node alone in its configuration is promoted. To promote it, ${alone}.`,
    );
  const pending = p.metadata.pendingTaskCount();
  if (pending)
    throw refuse(
      `while it holds ${pending} pending write tasks (events.consistency: async): start it once without cluster.enabled so it applies them.`,
    );
  const raft = new SqliteRaftStorage({ path: p.raftPath, voters: [p.self] });
  try {
    const hs = raft.initialState().hardState;
    const fresh = hs.term === 0 && raft.lastIndex() === 0;
    const interrupted = hs.term === 1 && raft.lastIndex() === 1 && raft.snapshot().metadata.index === 1;
    if (!fresh && !interrupted)
      throw refuse(
        `yet: its Raft state (${p.raftPath}) already holds a cluster's log (term ${hs.term}). Start the cluster on empty data directories and copy the objects in over S3 (for example with rclone sync).`,
      );
    const objects = p.metadata.stats().objects;
    p.log.info('promoting a single-node store to a cluster', { buckets, objects, keys, redo: interrupted });
    const data = encodeSnapshot(p.directory, p.sm.snapshot());
    if (data.byteLength > MAX_SNAPSHOT_BYTES)
      throw refuse(
        `yet: its metadata (${data.byteLength} bytes) exceeds the largest snapshot a node can send (${MAX_SNAPSHOT_BYTES}). Start the cluster on empty data directories and copy the objects in over S3 (for example with rclone sync).`,
      );
    raft.bootstrap(
      { metadata: { index: 1, term: 1, confState: { voters: [p.self], learners: [] } }, data },
      { term: 1, vote: 0, commit: 1 },
    );
  } finally {
    raft.close();
  }
  p.sm.adopt(1);
  p.log.info('promoted: the single-node store is the snapshot at index 1', { buckets, keys });
  return true;
}
