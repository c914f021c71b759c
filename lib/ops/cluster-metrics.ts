// Cluster mode's families on /metrics: Raft term and indexes, leadership, proposals, each
// peer's replication lag (leader only), and blobs repaired from peers. Read at scrape time.
import type * as PromClient from 'prom-client';
import type { ClusterMetricsSnapshot } from '../s3/context.ts';

export function clusterMetrics(
  prom: typeof PromClient,
  source: () => ClusterMetricsSnapshot,
  registers: PromClient.Registry[],
): void {
  const { Counter, Gauge } = prom;
  const one = (counter: boolean, name: string, help: string, value: (s: ClusterMetricsSnapshot) => number) => {
    if (counter)
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(value(source()));
        },
      });
    else
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(value(source()));
        },
      });
  };
  one(false, 'bleepstore_raft_term', 'Current Raft term of this node', (s) => s.term);
  one(false, 'bleepstore_raft_commit_index', 'Highest log index this node knows is committed', (s) => s.commit);
  one(false, 'bleepstore_raft_applied_index', 'Highest log index applied to the metadata database', (s) => s.applied);
  one(false, 'bleepstore_raft_is_leader', '1 while this node is the leader', (s) => (s.isLeader ? 1 : 0));
  one(
    true,
    'bleepstore_raft_leader_changes_total',
    'Leader changes this node observed since start',
    (s) => s.leaderChanges,
  );
  one(
    true,
    'bleepstore_raft_proposals_total',
    'Changes proposed through this node (as leader) since start',
    (s) => s.proposals,
  );
  one(
    true,
    'bleepstore_cluster_blob_repairs_total',
    'Object blobs this node lacked and fetched from a peer (repair pass and read)',
    (s) => s.blobRepairs,
  );
  new Gauge({
    name: 'bleepstore_raft_replication_lag_entries',
    help: "Leader only: log entries each peer's match index is behind the leader's last index",
    labelNames: ['peer'] as const,
    registers,
    collect() {
      this.reset();
      for (const l of source().lag) this.set({ peer: l.peer }, l.entries);
    },
  });
}
