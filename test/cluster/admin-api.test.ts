import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ClusterNode, type Member } from '../../lib/cluster/node.ts';
import { startClusterAdmin } from '../../lib/cluster/admin-api.ts';
import { raftId } from '../../lib/cluster/config.ts';
import type { NodeId } from '../../lib/cluster/raft/index.ts';
import { ListMachine, loopbackNode, until } from './helpers/cluster-nodes.ts';
import { deadPort } from '../helpers/net.ts';

const SECRET = 'admin-test-secret-0123456789abcdef';
const TOKEN = 'admin-token-for-tests';
const dir = mkdtempSync(path.join(tmpdir(), 'bleepstore-cluster-admin-'));
const closers: Array<() => Promise<void>> = [];
after(() => Promise.all(closers.map((c) => c())));

const names = ['n1', 'n2', 'n3'];
const machines = new Map<string, ListMachine>();

async function start(name: string, directory: Map<NodeId, Member>, voters: NodeId[]): Promise<ClusterNode> {
  const id = raftId(name);
  // A restarted node keeps its state machine, as a durable one (the metadata database) would.
  const sm = machines.get(name) ?? new ListMachine();
  machines.set(name, sm);
  const self = directory.get(id)!;
  const peers = new Map([...directory].filter(([p]) => p !== id).map(([p, m]) => [p, m.addr] as const));
  const n = await ClusterNode.start(
    loopbackNode({
      id,
      voters,
      peers,
      directory,
      storagePath: path.join(dir, `${name}.db`),
      port: Number(self.addr.split(':')[1]),
      secret: SECRET,
      stateMachine: sm,
      timeoutMs: 5000,
    }),
  );
  closers.push(() => n.stop());
  return n;
}

/** The fields of the admin API's answers that these tests read. */
interface AdminJson {
  healthy?: boolean;
  leader_id?: string;
  state?: string;
  nodes: Array<{ id: string; state: string }>;
  commit_index: number;
  snapshot_index: number;
}

async function call(
  url: string,
  method: string,
  p: string,
  body?: unknown,
  token = TOKEN,
): Promise<{ status: number; json: AdminJson; headers: Headers }> {
  const r = await fetch(url + p, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, json: (text ? JSON.parse(text) : {}) as AdminJson, headers: r.headers };
}

test('the cluster admin API reports status and adds a node as a learner that is promoted, then removes it', async () => {
  const directory = new Map<NodeId, Member>();
  for (const name of names) directory.set(raftId(name), { name, addr: `127.0.0.1:${await deadPort()}` });
  const voters = [...directory.keys()];
  const nodes = await Promise.all(names.map((n) => start(n, directory, voters)));
  const leader = await until('a leader', () =>
    nodes.find((n) => n.status().role === 'leader' && nodes.every((m) => m.status().leader === n.id)),
  );
  const follower = nodes.find((n) => n !== leader)!;
  const admin = await startClusterAdmin({ node: leader, token: TOKEN, host: '127.0.0.1', port: 0 });
  const fAdmin = await startClusterAdmin({ node: follower, token: TOKEN, host: '127.0.0.1', port: 0 });
  closers.push(admin.close, fAdmin.close);
  const leaderName = directory.get(leader.id)!.name;

  assert.equal((await call(admin.url, 'GET', '/admin/cluster/status', undefined, 'wrong')).status, 401);
  const noAuth = await fetch(admin.url + '/admin/cluster/status');
  assert.equal(noAuth.status, 401);
  assert.deepEqual(await noAuth.json(), { error: 'unauthorized', message: 'Missing or invalid admin bearer token.' });

  const st = await call(admin.url, 'GET', '/admin/cluster/status');
  assert.equal(st.status, 200);
  assert.equal(st.json.healthy, true);
  assert.equal(st.json.leader_id, leaderName);
  assert.deepEqual(st.json.nodes.map((n) => n.id).sort(), names);
  assert.equal(st.json.nodes.find((n) => n.id === leaderName)?.state, 'leader');
  const fst = await call(fAdmin.url, 'GET', '/admin/cluster/status');
  assert.equal(fst.json.leader_id, leaderName, 'a follower names the leader too');

  for (let i = 0; i < 20; i++) await leader.propose(Buffer.from(`w${i}`));

  // Add n4: it starts with an empty membership and learns it from the log (API.md "Joining").
  const n4: Member = { name: 'n4', addr: `127.0.0.1:${await deadPort()}` };
  const dir4 = new Map(directory).set(raftId('n4'), n4);
  const joiner = await start('n4', dir4, []);
  assert.equal((await call(admin.url, 'POST', '/admin/cluster/nodes', { id: 'n4' })).status, 400);
  assert.equal((await call(admin.url, 'POST', '/admin/cluster/nodes', 'not json')).status, 400);
  const viaFollower = await call(fAdmin.url, 'POST', '/admin/cluster/nodes', n4ToBody(n4));
  assert.equal(viaFollower.status, 503);
  assert.equal(viaFollower.headers.get('x-bleepstore-leader'), leaderName);
  assert.equal(viaFollower.headers.get('retry-after'), '1');
  const added = await call(admin.url, 'POST', '/admin/cluster/nodes', n4ToBody(n4));
  assert.equal(added.status, 201, JSON.stringify(added.json));
  assert.equal((await call(admin.url, 'POST', '/admin/cluster/nodes', n4ToBody(n4))).status, 409);
  await until('n4 promoted to voter', () => leader.status().confState.voters.includes(raftId('n4')));
  await until('n4 caught up', () => machines.get('n4')!.items.length === 20);
  assert.deepEqual(machines.get('n4')!.items, machines.get(leaderName)!.items);
  assert.equal(joiner.status().leader, leader.id);
  const listed = await call(admin.url, 'GET', '/admin/cluster/nodes');
  assert.deepEqual(listed.json.nodes.map((n) => n.id).sort(), [...names, 'n4']);

  // A follower restarted with the static config still knows n4: it comes from the log, not
  // from the config, even though its state machine is already past that entry.
  const fName = directory.get(follower.id)!.name;
  await leader.propose(Buffer.from('after-join'));
  await until('the follower applied past the conf changes', () => machines.get(fName)!.items.at(-1) === 'after-join');
  await follower.stop();
  const again = await start(fName, directory, voters);
  assert.equal(again.directory.get(raftId('n4'))?.addr, n4.addr);
  assert.equal(again.transport.peerAddr(raftId('n4')), n4.addr);

  assert.equal((await call(admin.url, 'DELETE', `/admin/cluster/nodes/${leaderName}`)).status, 409);
  assert.equal((await call(admin.url, 'DELETE', '/admin/cluster/nodes/nope')).status, 404);
  assert.equal((await call(admin.url, 'DELETE', '/admin/cluster/nodes/n4')).status, 204);
  assert.deepEqual(leader.status().confState.voters.sort(), voters.sort());
  await leader.propose(Buffer.from('after-remove'));

  const stats = await call(admin.url, 'GET', '/admin/cluster/raft/stats');
  assert.equal(stats.json.state, 'leader');
  assert.ok(stats.json.commit_index >= 22);
  const snap = await call(admin.url, 'POST', '/admin/cluster/raft/snapshot');
  assert.equal(snap.json.snapshot_index, leader.status().applied);
});

function n4ToBody(m: Member) {
  return { id: m.name, addr: m.addr };
}
