// The cluster part of the admin API (../shared/specs/admin-api.openapi.yaml, tag Cluster):
// its own port, bearer token, JSON bodies and {error, message} errors.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClusterNode } from './node.ts';
import { ClusterUnavailableError } from './node.ts';
import { parseHostPort, raftId } from './config.ts';
import type { NodeId } from './raft/types.ts';
import { ApiError, badRequest, notFound, readJson, sendJson, type Json } from '../admin-api/http.ts';
import { startAdminServer, type AdminServer } from '../admin-api/server.ts';

export interface ClusterAdminOptions {
  node: ClusterNode;
  token: string;
  host: string;
  port: number;
}

const send = sendJson;

/** The spec's state enum: a pre-candidate is campaigning too (Raft thesis §9.6). */
function roleName(role: string): string {
  return role === 'preCandidate' ? 'candidate' : role;
}

/** hashicorp/raft's last_contact: a Go duration string, "never" before any contact. */
function goDuration(ms: number): string {
  if (ms < 0) return 'never';
  if (ms === 0) return '0s';
  return ms < 1000 ? `${ms}ms` : `${Number((ms / 1000).toFixed(3))}s`;
}

/** Node entries as the spec's Node schema. */
function nodes(node: ClusterNode): Json[] {
  const s = node.status();
  const ids = [...s.confState.voters, ...s.confState.learners];
  const healthy = healthOf(node);
  return ids.map((id) => {
    const m = node.directory.get(id);
    const self = id === node.id;
    const state = id === s.leader ? 'leader' : self && s.role !== 'follower' ? 'candidate' : 'follower';
    return {
      id: m?.name ?? String(id),
      addr: m?.addr ?? node.transport.peerAddr(id) ?? '',
      state,
      healthy: healthy(id),
      learner: s.confState.learners.includes(id),
      raft_id: id,
    };
  });
}

/** Whether this node hears from `id`. The leader knows who answered recently; a follower only
 *  knows itself and its leader. recentActive alone is reset every election timeout
 *  (check-quorum), so a peer looked unhealthy until its next answer; a batch answered within
 *  the window counts too. */
function healthOf(node: ClusterNode): (id: NodeId) => boolean {
  const s = node.status();
  const progress = node.progress();
  const stats = node.transport.stats();
  return (id) => {
    if (id === node.id) return true;
    const answered = Date.now() - (stats.get(id)?.lastAnswerAt ?? 0) < node.healthWindowMs;
    return progress ? (progress[id]?.recentActive ?? false) || answered : id === s.leader;
  };
}

function findByName(node: ClusterNode, name: string): NodeId | undefined {
  for (const [id, m] of node.directory) if (m.name === name) return id;
  const s = node.status();
  const id = raftId(name);
  return [...s.confState.voters, ...s.confState.learners].includes(id) ? id : undefined;
}

export async function handleClusterAdmin(
  node: ClusterNode,
  req: IncomingMessage,
  res: ServerResponse,
  viaLeader?: ViaLeader,
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]!;
  const method = req.method ?? 'GET';
  const s = node.status();
  const leaderName = s.leader ? (node.directory.get(s.leader)?.name ?? String(s.leader)) : '';
  if (method === 'GET' && path === '/admin/cluster/status') {
    return send(res, 200, {
      healthy: s.leader !== 0,
      leader_id: leaderName,
      term: s.term,
      commit_index: s.commit,
      applied_index: s.applied,
      node_id: node.directory.get(node.id)?.name ?? String(node.id),
      state: roleName(s.role),
      nodes: nodes(node),
    });
  }
  if (method === 'GET' && path === '/admin/cluster/nodes') return send(res, 200, { nodes: nodes(node) });
  if (method === 'GET' && path === '/admin/cluster/raft/stats') {
    return send(res, 200, {
      state: roleName(s.role),
      term: s.term,
      last_log_index: s.lastIndex,
      last_log_term: s.lastTerm,
      commit_index: s.commit,
      applied_index: s.applied,
      fsm_pending: Math.max(0, s.commit - s.applied),
      last_snapshot_index: s.snapshotIndex,
      last_snapshot_term: s.snapshotTerm,
      num_peers: Math.max(0, s.confState.voters.length + s.confState.learners.length - 1),
      last_contact: goDuration(s.lastContactMs),
      leader_changes: s.leaderChanges,
    });
  }
  if (method === 'POST' && path === '/admin/cluster/raft/snapshot') {
    node.takeSnapshot();
    const snap = node.snapshotInfo();
    return send(res, 200, {
      success: true,
      snapshot_index: snap.index,
      snapshot_term: snap.term,
      size_bytes: snap.bytes,
      created_at: new Date().toISOString(),
    });
  }
  if (method === 'POST' && path === '/admin/cluster/nodes') {
    const body = await readJson(req);
    const out = await changeMembership(node, { op: 'add', id: body.id, addr: body.addr }, viaLeader);
    return send(res, out.status, out.body);
  }
  // Not in the spec: etcd's `move-leader` (planned maintenance without an election timeout
  // of unavailability). Body: {"id": "<node>"}, or {} for the most caught-up other voter.
  if (method === 'POST' && path === '/admin/cluster/leader') {
    const body = await readJson(req, true);
    const out = await changeMembership(node, { op: 'transfer', id: body.id }, viaLeader);
    return send(res, out.status, out.body);
  }
  const del = /^\/admin\/cluster\/nodes\/([^/]+)$/.exec(path);
  if (method === 'DELETE' && del) {
    const out = await changeMembership(node, { op: 'remove', id: decodeURIComponent(del[1]!) }, viaLeader);
    return send(res, out.status, out.body);
  }
  throw notFound('The requested resource does not exist.');
}

/** A membership change as the admin API takes it (spec: POST /admin/cluster/nodes, DELETE
 *  /admin/cluster/nodes/{nodeId}), also the body a follower hands to the leader. */
export interface MembershipChange {
  op: 'add' | 'remove' | 'transfer';
  id: unknown;
  addr?: unknown;
}

/** How a follower has the leader make a change (lib/cluster/start.ts, over the cluster port). */
export type ViaLeader = (change: MembershipChange) => Promise<{ status: number; body: Json | undefined }>;

/**
 * Makes the change on the leader, or has the leader make it (`viaLeader`) when this node
 * follows, so an operator may use any node's admin port. Removing the leader itself hands
 * leadership to the most caught-up voter first, then asks the new leader.
 */
export async function changeMembership(
  node: ClusterNode,
  change: MembershipChange,
  viaLeader: ViaLeader | undefined,
  opts: { forwarded?: boolean } = {},
): Promise<{ status: number; body: Json | undefined }> {
  const name = change.id;
  if (change.op === 'transfer' && name === undefined) return transfer(node, undefined, viaLeader, opts);
  if (typeof name !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(name))
    throw new ApiError(400, 'bad_request', "Validation failed: 'id' must be 1 to 64 letters, digits, '.', '_' or '-'.");
  if (change.op === 'transfer') return transfer(node, name, viaLeader, opts);
  const notLeader = (): Error =>
    new ClusterUnavailableError(`node ${node.id} is not the leader`, 'notLeader', node.basicStatus().leader);
  let leading = node.basicStatus().role === 'leader';
  // A change another node handed over is not handed on (no bouncing during an election):
  // the asker gets 503 and retries.
  if (!leading && opts.forwarded) throw notLeader();
  const target = change.op === 'remove' && leading ? findByName(node, name) : undefined;
  if (change.op === 'remove' && leading) {
    if (target === undefined) throw notFound(`No node with id '${name}' in the cluster.`);
    if (target === node.id) {
      if (!viaLeader)
        throw new ApiError(409, 'conflict', 'Cannot remove the current leader. Transfer leadership first.');
      await node.transferLeadership(successor(node));
      leading = false;
    }
  }
  if (!leading) {
    if (!viaLeader) throw notLeader();
    return viaLeader(change);
  }
  if (change.op === 'add') {
    const addr = change.addr;
    if (typeof addr !== 'string' || !parseHostPort(addr))
      throw badRequest("Validation failed: 'addr' must be host:port.");
    if (findByName(node, name) !== undefined)
      throw new ApiError(409, 'conflict', `Node with id '${name}' already exists in the cluster.`);
    await node.addNode(raftId(name), { name, addr });
    return { status: 201, body: { id: name, addr, state: 'follower', healthy: false, learner: true } };
  }
  await node.removeNode(target!);
  return { status: 204, body: undefined };
}

/** Hands leadership to the voter named `name` (any other voter when undefined); answers once a
 *  new leader is known, with its name and term. Asked of a follower, the leader does it. */
async function transfer(
  node: ClusterNode,
  name: string | undefined,
  viaLeader: ViaLeader | undefined,
  opts: { forwarded?: boolean },
): Promise<{ status: number; body: Json | undefined }> {
  const target = name === undefined ? undefined : findByName(node, name);
  if (name !== undefined && target === undefined) throw notFound(`No node with id '${name}' in the cluster.`);
  if (target !== undefined && node.status().confState.learners.includes(target))
    throw new ApiError(409, 'conflict', `Node '${name}' is a learner; only a voter can lead.`);
  const answer = (): { status: number; body: Json } => {
    const s = node.status();
    return { status: 200, body: { leader_id: node.directory.get(s.leader)?.name ?? String(s.leader), term: s.term } };
  };
  if (node.basicStatus().role !== 'leader') {
    if (opts.forwarded || !viaLeader)
      throw new ClusterUnavailableError(`node ${node.id} is not the leader`, 'notLeader', node.basicStatus().leader);
    return viaLeader({ op: 'transfer', id: name });
  }
  if (target === node.id) return answer();
  if (target !== undefined && !healthOf(node)(target))
    throw new ApiError(409, 'conflict', `Node '${name}' has not answered the leader recently; leadership stays.`);
  await node.transferLeadership(target ?? successor(node));
  return answer();
}

/** On the leader: the most caught-up other voter that answers it. A transfer to a node that
 *  does not answer would refuse every write until it timed out (the core drops proposals
 *  while it hands over, as etcd's does). */
function successor(node: ClusterNode): NodeId {
  const healthy = healthOf(node);
  const progress = node.progress() ?? {};
  const to = node
    .status()
    .confState.voters.filter((v) => v !== node.id && healthy(v))
    .sort((a, b) => (progress[b]?.match ?? 0) - (progress[a]?.match ?? 0))[0];
  if (to === undefined) throw new ApiError(409, 'conflict', 'No other voter answers the leader; leadership stays.');
  return to;
}

/** A follower cannot change membership: 503 naming the leader (the CLI retries there). */
export function clusterApiError(node: ClusterNode, err: unknown): ApiError | undefined {
  if (!(err instanceof ClusterUnavailableError)) return undefined;
  const leader = err.leader ? node.directory.get(err.leader) : undefined;
  return new ApiError(503, 'service_unavailable', `${err.message}${leader ? ` (leader: ${leader.name})` : ''}.`, {
    'Retry-After': '1',
    ...(leader ? { 'x-bleepstore-leader': leader.name } : {}),
  });
}

/** The cluster routes alone on their own port (tests of the Raft layer without S3). */
export function startClusterAdmin(o: ClusterAdminOptions): Promise<AdminServer> {
  return startAdminServer({
    host: o.host,
    port: o.port,
    token: o.token,
    handle: (req, res) => handleClusterAdmin(o.node, req, res),
    translate: (err) => clusterApiError(o.node, err),
  });
}
