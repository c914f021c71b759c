// The `cluster` section (../shared/specs/clustering.md "Cluster Configuration"): parsing of
// its one non-scalar key (peers), the checks that need the whole section, and the mapping
// from the operator's string node ids to the numeric ids of the Raft core.
import { createHash } from 'node:crypto';

export type ReadConsistency = 'local' | 'linearizable';

export interface ClusterPeer {
  id: string;
  addr: string;
}

export interface ClusterConfig {
  enabled: boolean;
  node_id: string;
  /** host:port the cluster port listens on. */
  bind_addr: string;
  /** host:port the other nodes reach this one at; defaults to bind_addr. */
  advertise_addr: string;
  /** Raft log, hard state and snapshots; defaults to <data_dir>/raft. */
  data_dir: string;
  /** Every member of the cluster; this node may be listed too (with its advertise_addr). */
  peers: ClusterPeer[];
  election_timeout_ms: number;
  heartbeat_interval_ms: number;
  /** Applied entries between two snapshots of the metadata. */
  snapshot_interval: number;
  /** Entries kept in the log behind a snapshot, so a briefly lagging follower needs no snapshot. */
  snapshot_threshold: number;
  max_append_entries: number;
  /** Shared secret every node-to-node request is authenticated with (HMAC-SHA256). */
  secret: string;
  /** Nodes that hold every object's bytes (local backend); a majority of them before an ack. */
  replicas: number;
  read_consistency: ReadConsistency;
  /** Blob files no row references are swept once this old (never while this node lags). */
  orphan_grace_seconds: number;
  /** How often orphans are swept: the leader lists the shared bucket (cloud backends); each
   *  node checks every blob its metadata references and sweeps its disk (local backend). */
  orphan_sweep_interval_seconds: number;
  /** Local backend: how often each node checks the blobs of writes applied since its last
   *  check, fetching from peers the ones its disk lacks. */
  repair_interval_seconds: number;
  /** A new node joining a running cluster: it starts with no voters of its own and waits for
   *  the leader to add it (`bleepstore cluster add`); ignored once its Raft log exists. */
  join: boolean;
}

export function defaultClusterConfig(): ClusterConfig {
  return {
    enabled: false,
    node_id: '',
    bind_addr: '127.0.0.1:9001',
    advertise_addr: '',
    data_dir: '',
    peers: [],
    election_timeout_ms: 1000,
    heartbeat_interval_ms: 150,
    snapshot_interval: 10000,
    snapshot_threshold: 8192,
    max_append_entries: 64,
    secret: '',
    replicas: 3,
    read_consistency: 'local',
    orphan_grace_seconds: 3600,
    orphan_sweep_interval_seconds: 3600,
    repair_interval_seconds: 30,
    join: false,
  };
}

/** Validates the value of `cluster.peers` as given (YAML list of {id, addr}). */
export function parsePeers(raw: unknown, from: string): ClusterPeer[] {
  const bad = (why: string) => new Error(`Config key "cluster.peers" in ${from} ${why}.`);
  if (!Array.isArray(raw)) throw bad('must be a list of {id, addr} entries');
  if (raw.length > 64) throw bad('lists more than 64 nodes');
  return raw.map((p, i) => {
    if (typeof p !== 'object' || p === null || Array.isArray(p))
      throw bad(`entry ${i + 1} must be a mapping with id and addr`);
    const extra = Object.keys(p).filter((k) => k !== 'id' && k !== 'addr');
    if (extra.length) throw bad(`entry ${i + 1} has unknown key "${extra[0]}" (only id and addr)`);
    const { id, addr } = p as Record<string, unknown>;
    if ((typeof id !== 'string' && typeof id !== 'number') || String(id) === '')
      throw bad(`entry ${i + 1} needs a non-empty id`);
    if (typeof addr !== 'string' || !parseHostPort(addr))
      throw bad(`entry ${i + 1} (id "${id}") needs addr as host:port (got ${JSON.stringify(addr)})`);
    return { id: String(id), addr };
  });
}

export function parseHostPort(s: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(s);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 0 || port > 65535) return undefined;
  return { host: (m[1] ?? m[2])!, port };
}

/** The numeric Raft id of a string node id: stable across nodes and restarts (48 bits of
 *  SHA-256, so it is a safe integer; 0 is Raft's "nobody" and is never produced). */
export function raftId(nodeId: string): number {
  const h = createHash('sha256').update(nodeId).digest();
  return h.readUIntBE(0, 6) || 1;
}

/** The whole membership as this node sees it, self included. */
export function members(c: ClusterConfig): ClusterPeer[] {
  const self = c.peers.find((p) => p.id === c.node_id);
  return self ? c.peers : [{ id: c.node_id, addr: c.advertise_addr }, ...c.peers];
}

/**
 * Checks that need the whole section; throws one sentence naming the key. Run only when
 * cluster.enabled is true. Returns warnings an operator should see but that do not stop it.
 */
export function validateCluster(c: ClusterConfig, dataDir: string): string[] {
  const fail = (key: string, why: string): never => {
    throw new Error(`Config key "cluster.${key}" ${why}.`);
  };
  if (!c.node_id) fail('node_id', 'must be set when cluster.enabled is true');
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(c.node_id))
    fail('node_id', `must be 1 to 64 letters, digits, ".", "_" or "-" (got "${c.node_id}")`);
  const bind = parseHostPort(c.bind_addr);
  if (!bind) fail('bind_addr', `must be host:port (got "${c.bind_addr}")`);
  if (!c.advertise_addr) {
    if (bind!.host === '0.0.0.0' || bind!.host === '::' || bind!.port === 0)
      fail('advertise_addr', `must be set when cluster.bind_addr ("${c.bind_addr}") is a wildcard address or port 0`);
    c.advertise_addr = c.bind_addr;
  }
  if (!parseHostPort(c.advertise_addr)) fail('advertise_addr', `must be host:port (got "${c.advertise_addr}")`);
  if (!c.data_dir) c.data_dir = `${dataDir.replace(/\/+$/, '')}/raft`;
  if (!c.secret)
    fail('secret', 'must be set when cluster.enabled is true: every node-to-node request is authenticated with it');
  if (c.secret.length < 16) fail('secret', 'must be at least 16 characters long');
  const seenIds = new Set<string>();
  const seenAddrs = new Map<string, string>();
  const numeric = new Map<number, string>();
  for (const p of c.peers) {
    if (seenIds.has(p.id)) fail('peers', `lists the node id "${p.id}" twice`);
    seenIds.add(p.id);
    const other = seenAddrs.get(p.addr);
    if (other !== undefined) fail('peers', `gives the same addr "${p.addr}" to "${other}" and "${p.id}"`);
    seenAddrs.set(p.addr, p.id);
    const n = raftId(p.id);
    if (numeric.has(n))
      fail('peers', `has node ids "${numeric.get(n)}" and "${p.id}" that map to the same Raft id; rename one`);
    numeric.set(n, p.id);
  }
  const self = c.peers.find((p) => p.id === c.node_id);
  if (self && self.addr !== c.advertise_addr)
    fail(
      'peers',
      `lists this node ("${c.node_id}") at "${self.addr}" but cluster.advertise_addr is "${c.advertise_addr}"`,
    );
  if (!self && seenAddrs.has(c.advertise_addr))
    fail(
      'peers',
      `gives this node's advertise_addr "${c.advertise_addr}" to another node ("${seenAddrs.get(c.advertise_addr)}")`,
    );
  if (c.heartbeat_interval_ms < 10)
    fail('heartbeat_interval_ms', `must be at least 10 (got ${c.heartbeat_interval_ms})`);
  // Raft needs broadcastTime << electionTimeout (paper §5.6); etcd recommends about 10x.
  if (c.election_timeout_ms < 3 * c.heartbeat_interval_ms) {
    fail(
      'election_timeout_ms',
      `must be at least 3 times cluster.heartbeat_interval_ms (${c.heartbeat_interval_ms}), got ${c.election_timeout_ms}`,
    );
  }
  if (c.max_append_entries < 1) fail('max_append_entries', 'must be at least 1');
  if (c.snapshot_interval < 1) fail('snapshot_interval', 'must be at least 1');
  const size = members(c).length;
  if (c.replicas < 1) fail('replicas', `must be at least 1, got ${c.replicas}`);
  const warnings: string[] = [];
  // Nodes added at runtime count: the replica count used is min(replicas, current members).
  if (c.replicas > size)
    warnings.push(
      `cluster.replicas is ${c.replicas} but cluster.peers lists ${size} node(s): each object is on every member until more join.`,
    );
  if (size % 2 === 0) {
    warnings.push(
      `cluster has ${size} voters (cluster.peers): an even count tolerates no more failures than ${size - 1} nodes; use an odd number.`,
    );
  }
  if (size === 1)
    warnings.push('cluster has a single node (cluster.peers): it replicates nothing and tolerates no failure.');
  return warnings;
}
