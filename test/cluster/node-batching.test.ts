// The leader holds proposals while every follower has appends in flight
// (lib/cluster/proposal-batcher.ts): they leave together with the next batch instead of one append each, and all of
// them are still committed, in order, on every node.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ClusterNode } from '../../lib/cluster/node.ts';
import type { NodeId } from '../../lib/cluster/raft/index.ts';
import { ListMachine, loopbackNode, until } from './helpers/cluster-nodes.ts';
import { FaultProxy } from '../helpers/fault-proxy.ts';
import { deadPort } from '../helpers/net.ts';

const SECRET = 'node-batching-secret-0123456789abcdef';
const dir = mkdtempSync(path.join(tmpdir(), 'bleepstore-batching-'));
const ids: NodeId[] = [1, 2, 3];
const nodes: ClusterNode[] = [];
const proxies = new Map<string, FaultProxy>(); // "from>to"
after(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  for (const p of proxies.values()) await p.close();
  rmSync(dir, { recursive: true, force: true });
});

test('proposals made while both followers have appends in flight travel together, and all commit in order everywhere', async () => {
  const ports = new Map<NodeId, number>();
  for (const id of ids) ports.set(id, await deadPort());
  for (const from of ids)
    for (const to of ids) if (from !== to) proxies.set(`${from}>${to}`, await new FaultProxy(ports.get(to)!).listen());
  const machines = new Map<NodeId, ListMachine>();
  for (const id of ids) {
    const sm = new ListMachine();
    machines.set(id, sm);
    nodes.push(
      await ClusterNode.start(
        loopbackNode({
          id,
          voters: ids,
          peers: new Map(
            ids.filter((p) => p !== id).map((p) => [p, `127.0.0.1:${proxies.get(`${id}>${p}`)!.port}`] as const),
          ),
          storagePath: path.join(dir, `raft-${id}.db`),
          port: ports.get(id)!,
          secret: SECRET,
          stateMachine: sm,
          electionTimeoutMs: 1000,
          timeoutMs: 10_000,
        }),
      ),
    );
  }
  const leader = await until('a leader', () => {
    const l = nodes.filter((n) => n.status().role === 'leader');
    return l.length === 1 && nodes.every((n) => n.status().leader === l[0]!.id) ? l[0] : undefined;
  });
  await leader.propose(Buffer.from('warm-up'));

  // Every append from the leader now takes 40 ms to arrive, so its lanes stay busy.
  const followers = ids.filter((id) => id !== leader.id);
  for (const f of followers) proxies.get(`${leader.id}>${f}`)!.set({ kind: 'delay', ms: 40 });
  const sentBefore = new Map(followers.map((f) => [f, leader.transport.stats().get(f)!.sent]));
  const writes: Promise<unknown>[] = [];
  for (let i = 0; i < 40; i++) {
    writes.push(leader.propose(Buffer.from(`w${i}`)));
    await new Promise((r) => setImmediate(r)); // one proposal per turn of the event loop
  }
  const results = (await Promise.all(writes)) as number[];
  assert.deepEqual(
    results,
    Array.from({ length: 40 }, (_, i) => i + 2),
  );
  for (const f of followers) {
    // Each message counted here is an append or a heartbeat; one append per proposal would be
    // at least 40.
    const sent = leader.transport.stats().get(f)!.sent - sentBefore.get(f)!;
    console.log(`# to node ${f}: ${sent} messages for 40 proposals`);
    assert.ok(sent < 20, `${sent} messages to node ${f}`);
  }
  const want = ['warm-up', ...Array.from({ length: 40 }, (_, i) => `w${i}`)];
  await until('every node applied all 41', () => ids.every((id) => machines.get(id)!.items.length === 41));
  for (const id of ids) assert.deepEqual(machines.get(id)!.items, want);
});
