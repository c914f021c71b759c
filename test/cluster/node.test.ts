import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ClusterNode, ClusterUnavailableError } from '../../lib/cluster/node.ts';
import type { NodeId } from '../../lib/cluster/raft/index.ts';
import { ListMachine, loopbackNode, until } from './helpers/cluster-nodes.ts';
import { deadPort } from '../helpers/net.ts';

const SECRET = 'node-test-secret-0123456789abcdef';
const dir = mkdtempSync(path.join(tmpdir(), 'bleepstore-node-'));
const live = new Set<ClusterNode>();
after(() => Promise.all([...live].map((n) => n.stop())));

const ids: NodeId[] = [1, 2, 3];
const ports = new Map<NodeId, number>();
const machines = new Map<NodeId, ListMachine>();

async function startNode(
  id: NodeId,
  opts: { snapshotInterval?: number; snapshotThreshold?: number; name?: string } = {},
): Promise<ClusterNode> {
  const peers = new Map(ids.filter((p) => p !== id).map((p) => [p, `127.0.0.1:${ports.get(p)}`] as const));
  const sm = new ListMachine();
  machines.set(id, sm);
  const n = await ClusterNode.start(
    loopbackNode({
      id,
      voters: ids,
      peers,
      storagePath: path.join(dir, `${opts.name ?? 'raft'}-${id}.db`),
      port: ports.get(id)!,
      secret: SECRET,
      stateMachine: sm,
      timeoutMs: 5000,
      ...(opts.snapshotInterval ? { snapshotInterval: opts.snapshotInterval } : {}),
      ...(opts.snapshotThreshold ? { snapshotThreshold: opts.snapshotThreshold } : {}),
    }),
  );
  live.add(n);
  return n;
}

const leaderOf = (nodes: ClusterNode[]) => {
  const leaders = nodes.filter((n) => n.status().role === 'leader');
  return leaders.length === 1 && nodes.every((n) => n.status().leader === leaders[0]!.id) ? leaders[0] : undefined;
};

test('three node drivers over real HTTP elect a leader, replicate, and survive the leader being stopped', async () => {
  for (const id of ids) ports.set(id, await deadPort());
  let nodes = await Promise.all(ids.map((id) => startNode(id, { snapshotInterval: 20, snapshotThreshold: 5 })));
  const t0 = Date.now();
  const leader = await until('a leader', () => leaderOf(nodes));
  console.log(`# leader elected in ${Date.now() - t0} ms`);

  // Proposals resolve once applied on the proposer, with the state machine's result.
  const results = await Promise.all(Array.from({ length: 30 }, (_, i) => leader.propose(Buffer.from(`w${i}`))));
  assert.deepEqual(
    results,
    Array.from({ length: 30 }, (_, i) => i + 1),
  );
  await until('all nodes applied 30 writes', () => ids.every((id) => machines.get(id)!.items.length === 30));
  for (const id of ids) assert.deepEqual(machines.get(id)!.items, machines.get(leader.id)!.items);

  // A follower does not propose: it says who leads, so the caller can forward.
  const follower = nodes.find((n) => n !== leader)!;
  await assert.rejects(
    follower.propose(Buffer.from('x')),
    (e: unknown) => e instanceof ClusterUnavailableError && e.outcome === 'notLeader' && e.leader === leader.id,
  );

  // A linearizable read on a follower waits until it applied what the leader committed.
  const last = leader.propose(Buffer.from('before-read'));
  await last;
  await follower.readBarrier();
  assert.equal(machines.get(follower.id)!.items.at(-1), 'before-read');

  // Stop the leader: the other two elect a new one and keep committing.
  const stoppedIndex = leader.status().lastIndex;
  const stoppedAt = Date.now();
  await leader.stop();
  live.delete(leader);
  nodes = nodes.filter((n) => n !== leader);
  const next = await until('a new leader', () => leaderOf(nodes));
  console.log(`# failover after stop: ${Date.now() - stoppedAt} ms`);
  assert.notEqual(next.id, leader.id);
  for (let i = 30; i < 60; i++) await next.propose(Buffer.from(`w${i}`));
  await until('the log compacted past the stopped node', () => next.status().snapshotIndex > stoppedIndex + 5);

  // The old leader restarts from its durable log (its state machine starts empty); what it
  // lacks was compacted away on the leader, so it catches up by a snapshot over HTTP.
  const back = await startNode(leader.id, { snapshotInterval: 20, snapshotThreshold: 5 });
  nodes.push(back);
  await until('the restarted node caught up', () => machines.get(back.id)!.items.length === 61);
  assert.deepEqual(machines.get(back.id)!.items, machines.get(next.id)!.items);
  const st = back.status();
  assert.equal(st.role, 'follower');
  assert.equal(st.leader, next.id);
  assert.equal(st.applied, next.status().applied);
  assert.ok(st.snapshotIndex > stoppedIndex, `installed a snapshot (${st.snapshotIndex} > ${stoppedIndex})`);
  await Promise.all(nodes.map((n) => n.stop()));
});

test('without a quorum a proposal and a read fail with a retryable error instead of hanging', async () => {
  const p = new Map<NodeId, number>([
    [1, await deadPort()],
    [2, await deadPort()],
    [3, await deadPort()],
  ]);
  const n = await ClusterNode.start({
    id: 1,
    voters: [1, 2, 3],
    peers: new Map([
      [2, `127.0.0.1:${p.get(2)}`],
      [3, `127.0.0.1:${p.get(3)}`],
    ]),
    storagePath: path.join(dir, 'alone.db'),
    host: '127.0.0.1',
    port: p.get(1)!,
    secret: SECRET,
    stateMachine: new ListMachine(),
    heartbeatIntervalMs: 50,
    electionTimeoutMs: 200,
    timeoutMs: 500,
  });
  live.add(n);
  await assert.rejects(
    n.propose(Buffer.from('x')),
    (e: unknown) => e instanceof ClusterUnavailableError && e.outcome === 'notLeader' && e.leader === 0,
  );
  const started = Date.now();
  await assert.rejects(n.readBarrier(), (e: unknown) => e instanceof ClusterUnavailableError && e.retryable);
  assert.ok(Date.now() - started < 2000);
  await n.stop();
});

test('a node restarted without its Raft state grants no vote until its hold ends, and with another node down the two still elect a leader', async () => {
  // Paper §5.2 needs votedFor durable: a node whose data directory was lost may have voted
  // in a term still being decided. Before its hold (3 election timeouts) ends there is no
  // quorum of two; after it, there is.
  for (const id of ids) ports.set(id, await deadPort());
  let nodes = await Promise.all(ids.map((id) => startNode(id, { name: 'hold' })));
  const leader = await until('a leader', () => leaderOf(nodes));
  for (let i = 0; i < 10; i++) await leader.propose(Buffer.from(`h${i}`));
  await until('all applied', () => ids.every((id) => machines.get(id)!.items.length === 10));
  for (const n of nodes) {
    await n.stop();
    live.delete(n);
  }
  const [down, keep, wiped] = [leader.id, ...ids.filter((id) => id !== leader.id)] as [NodeId, NodeId, NodeId];
  for (const f of ['', '-wal', '-shm']) rmSync(path.join(dir, `hold-${wiped}.db${f}`), { force: true });
  const t0 = Date.now();
  nodes = await Promise.all([keep, wiped].map((id) => startNode(id, { name: 'hold' })));
  const next = await until('a leader of the two', () => leaderOf(nodes), 15_000);
  const took = Date.now() - t0;
  console.log(`# node ${down} down, node ${wiped} wiped: leader ${next.id} after ${took} ms (hold 1500 ms)`);
  assert.equal(next.id, keep, 'the node with the log leads');
  assert.ok(took >= 1400, `a leader after ${took} ms: the wiped node voted before its hold ended`);
  await until('the wiped node caught up', () => machines.get(wiped)!.items.length === 10);
  await Promise.all(nodes.map((n) => n.stop()));
});

test('a linearizable read asked of a follower whose leader just died is answered once a new leader confirms it, not at its timeout', async () => {
  // The follower forwards the ReadIndex to the leader it knows, which is gone; the new
  // leader is asked again when the follower learns of it (thesis §6.4 reads need a leader
  // that committed an entry of its term, which the new one does at once).
  for (const id of ids) ports.set(id, await deadPort());
  const nodes = await Promise.all(ids.map((id) => startNode(id, { name: 'reread' })));
  const leader = await until('a leader', () => leaderOf(nodes));
  await leader.propose(Buffer.from('r0'));
  const follower = nodes.find((n) => n !== leader)!;
  await leader.stop();
  live.delete(leader);
  const t0 = Date.now();
  await follower.readBarrier();
  const took = Date.now() - t0;
  console.log(`# read on ${follower.id} answered ${took} ms after its leader stopped (timeout 5000 ms)`);
  assert.notEqual(follower.status().leader, leader.id);
  assert.ok(took < 4000, `the read waited ${took} ms, as long as its timeout`);
  await Promise.all(nodes.filter((n) => n !== leader).map((n) => n.stop()));
});

test('a proposal on a leader that loses its followers fails as unknown two election timeouts after it steps down, not at its timeout', async () => {
  // checkQuorum (thesis §6.2) makes the isolated leader step down after an election timeout;
  // its entry may still commit under a later leader, so the error says 'unknown'.
  for (const id of ids) ports.set(id, await deadPort());
  const nodes = await Promise.all(ids.map((id) => startNode(id, { name: 'stepdown' })));
  const leader = await until('a leader', () => leaderOf(nodes));
  assert.equal(await leader.propose(Buffer.from('s0')), 1);
  for (const n of nodes.filter((x) => x !== leader)) {
    await n.stop();
    live.delete(n);
  }
  const t0 = Date.now();
  await assert.rejects(
    leader.propose(Buffer.from('s1')),
    (e: unknown) => e instanceof ClusterUnavailableError && e.outcome === 'unknown' && e.retryable,
  );
  const took = Date.now() - t0;
  console.log(
    `# the isolated leader's proposal failed after ${took} ms (election timeout 500 ms, proposal timeout 5000 ms)`,
  );
  assert.notEqual(leader.status().role, 'leader');
  assert.ok(took < 3000, `the proposal waited ${took} ms, about its whole timeout`);
  await leader.stop();
});
