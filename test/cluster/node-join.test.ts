// A node added at runtime after the leader compacted its log catches up by a snapshot. The
// core refuses a snapshot whose configuration does not list the receiver (as etcd does), so
// the driver takes a fresh snapshot when a membership change is applied.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ClusterNode } from '../../lib/cluster/node.ts';
import type { NodeId } from '../../lib/cluster/raft/index.ts';
import { ListMachine, loopbackNode, until } from './helpers/cluster-nodes.ts';
import { deadPort } from '../helpers/net.ts';

const SECRET = 'node-join-secret-0123456789abcdef';
const dir = mkdtempSync(path.join(tmpdir(), 'bleepstore-join-'));
const live = new Set<ClusterNode>();
after(() => Promise.all([...live].map((n) => n.stop())));

test('a node added after the log was compacted joins by a snapshot and becomes a voter', {
  timeout: 60_000,
}, async () => {
  const ids: NodeId[] = [1, 2, 3];
  const ports = new Map<NodeId, number>();
  for (const id of [...ids, 4]) ports.set(id, await deadPort());
  const addr = (id: NodeId) => `127.0.0.1:${ports.get(id)}`;
  const machines = new Map<NodeId, ListMachine>();
  const start = async (id: NodeId, voters: NodeId[]) => {
    const sm = new ListMachine();
    machines.set(id, sm);
    const n = await ClusterNode.start(
      loopbackNode({
        id,
        voters,
        // Every node's config lists the existing members (the joiner's too, so it can answer them).
        peers: new Map(ids.filter((p) => p !== id).map((p) => [p, addr(p)] as const)),
        directory: new Map(ids.map((p) => [p, { name: `n${p}`, addr: addr(p) }] as const)),
        storagePath: path.join(dir, `raft-${id}.db`),
        port: ports.get(id)!,
        secret: SECRET,
        stateMachine: sm,
        snapshotInterval: 20,
        snapshotThreshold: 5,
      }),
    );
    live.add(n);
    return n;
  };
  const nodes = await Promise.all(ids.map((id) => start(id, ids)));
  const leader = await until('a leader', () => nodes.find((n) => n.status().role === 'leader'));
  for (let i = 0; i < 60; i++) await leader.propose(Buffer.from(`w${i}`));
  await until('the log compacted', () => leader.status().snapshotIndex > 20);
  // The joiner is no voter of its own: it waits for the leader to contact it.
  const joiner = await start(4, []);
  await leader.addNode(4, { name: 'n4', addr: addr(4) });
  await until('the joiner caught up', () => machines.get(4)!.items.length === 60, 20_000);
  await until('the joiner was promoted to voter', () => leader.status().confState.voters.includes(4), 20_000);
  assert.deepEqual(machines.get(4)!.items, machines.get(leader.id)!.items);
  assert.ok(joiner.status().snapshotIndex > 0, 'the joiner installed a snapshot');
});
