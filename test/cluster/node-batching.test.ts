// The leader holds proposals while every follower has appends in flight
// (lib/cluster/proposal-batcher.ts): they leave together with the next batch instead of one append each, and all of
// them are still committed, in order, on every node.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NodeId } from '../../lib/cluster/raft/index.ts';
import { ListMachine, startProxiedCluster, until } from './helpers/cluster-nodes.ts';

const ids: NodeId[] = [1, 2, 3];

test('proposals made while both followers have appends in flight travel together, and all commit in order everywhere', async () => {
  const machines = new Map<NodeId, ListMachine>(ids.map((id) => [id, new ListMachine()]));
  const { leader, proxies } = await startProxiedCluster('batching', machines);
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
