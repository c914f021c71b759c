// The cluster part of the admin API (../shared/specs/admin-api.openapi.yaml, tag Cluster):
// its own port, bearer token, JSON bodies and {error, message} errors.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { ClusterNode } from './node.ts';
import { ClusterUnavailableError } from './node.ts';
import { parseHostPort, raftId } from './config.ts';
import type { NodeId } from './raft/types.ts';

export interface ClusterAdminOptions {
  node: ClusterNode;
  token: string;
  host: string;
  port: number;
}

type Json = Record<string, unknown>;

class AdminError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function send(res: ServerResponse, status: number, body?: Json): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

function tokenOk(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? '');
  if (!m) return false;
  // Hash both sides so the compare is constant-time whatever the lengths.
  const a = createHash('sha256').update(m[1]!).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

async function readJson(req: IncomingMessage): Promise<Json> {
  let n = 0;
  const chunks: Buffer[] = [];
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > 64 * 1024) throw new AdminError(400, 'bad_request', 'The request body is larger than 64 KiB.');
    chunks.push(c as Buffer);
  }
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Json;
  } catch {
    // fall through
  }
  throw new AdminError(400, 'bad_request', 'The request body must be a JSON object.');
}

/** Node entries as the spec's Node schema. */
function nodes(node: ClusterNode): Json[] {
  const s = node.status();
  const ids = [...s.confState.voters, ...s.confState.learners];
  const progress = node.progress();
  return ids.map((id) => {
    const m = node.directory.get(id);
    const self = id === node.id;
    const state = id === s.leader ? 'leader' : self && s.role !== 'follower' ? 'candidate' : 'follower';
    // The leader knows who answered recently; a follower only knows itself and its leader.
    const healthy = self || (progress ? (progress[id]?.recentActive ?? false) : id === s.leader);
    return {
      id: m?.name ?? String(id),
      addr: m?.addr ?? node.transport.peerAddr(id) ?? '',
      state,
      healthy,
      learner: s.confState.learners.includes(id),
      raft_id: id,
    };
  });
}

function findByName(node: ClusterNode, name: string): NodeId | undefined {
  for (const [id, m] of node.directory) if (m.name === name) return id;
  const s = node.status();
  const id = raftId(name);
  return [...s.confState.voters, ...s.confState.learners].includes(id) ? id : undefined;
}

export async function handleClusterAdmin(node: ClusterNode, req: IncomingMessage, res: ServerResponse): Promise<void> {
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
      state: s.role,
      nodes: nodes(node),
    });
  }
  if (method === 'GET' && path === '/admin/cluster/nodes') return send(res, 200, { nodes: nodes(node) });
  if (method === 'GET' && path === '/admin/cluster/raft/stats') {
    return send(res, 200, {
      state: s.role,
      term: s.term,
      last_log_index: s.lastIndex,
      commit_index: s.commit,
      applied_index: s.applied,
      fsm_pending: Math.max(0, s.commit - s.applied),
      last_snapshot_index: s.snapshotIndex,
      num_peers: s.confState.voters.length + s.confState.learners.length - 1,
      leader_changes: s.leaderChanges,
    });
  }
  if (method === 'POST' && path === '/admin/cluster/raft/snapshot')
    return send(res, 200, { snapshot_index: node.takeSnapshot() });
  if (method === 'POST' && path === '/admin/cluster/nodes') {
    const body = await readJson(req);
    const name = body.id;
    const addr = body.addr;
    if (typeof name !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(name))
      throw new AdminError(
        400,
        'bad_request',
        "Validation failed: 'id' must be 1 to 64 letters, digits, '.', '_' or '-'.",
      );
    if (typeof addr !== 'string' || !parseHostPort(addr))
      throw new AdminError(400, 'bad_request', "Validation failed: 'addr' must be host:port.");
    if (findByName(node, name) !== undefined)
      throw new AdminError(409, 'conflict', `Node with id '${name}' already exists in the cluster.`);
    const id = raftId(name);
    await node.addNode(id, { name, addr });
    return send(res, 201, { id: name, addr, state: 'follower', healthy: false, learner: true });
  }
  const del = /^\/admin\/cluster\/nodes\/([^/]+)$/.exec(path);
  if (method === 'DELETE' && del) {
    const name = decodeURIComponent(del[1]!);
    const id = findByName(node, name);
    if (id === undefined) throw new AdminError(404, 'not_found', `No node with id '${name}' in the cluster.`);
    if (id === s.leader)
      throw new AdminError(409, 'conflict', 'Cannot remove the current leader. Transfer leadership first.');
    await node.removeNode(id);
    return send(res, 204);
  }
  throw new AdminError(404, 'not_found', 'The requested resource does not exist.');
}

/** Starts the admin port. Membership changes must reach the leader: a follower answers 503
 *  naming it (the CLI retries there). */
export async function startClusterAdmin(
  o: ClusterAdminOptions,
): Promise<{ server: http.Server; url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (!tokenOk(req.headers.authorization, o.token))
      return send(res, 401, { error: 'unauthorized', message: 'Missing or invalid admin bearer token.' });
    handleClusterAdmin(o.node, req, res).catch((err: unknown) => {
      if (err instanceof AdminError) return send(res, err.status, { error: err.code, message: err.message });
      if (err instanceof ClusterUnavailableError) {
        const leader = err.leader ? o.node.directory.get(err.leader) : undefined;
        res.setHeader('Retry-After', '1');
        if (leader) res.setHeader('x-bleepstore-leader', leader.name);
        return send(res, 503, {
          error: 'service_unavailable',
          message: `${err.message}${leader ? ` (leader: ${leader.name})` : ''}.`,
        });
      }
      send(res, 500, {
        error: 'internal_error',
        message: 'An unexpected error occurred. Check server logs for details.',
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(o.port, o.host, resolve));
  const a = server.address() as AddressInfo;
  return {
    server,
    url: `http://${a.address}:${a.port}`,
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
